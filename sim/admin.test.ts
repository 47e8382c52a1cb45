/**
 * The simulator pool's runtime capacity over real HTTP: the admin API adds, removes (drained first) and
 * reassigns replicas; the official `openai` client sees what a worker would. The replicas run on a
 * ManualClock, so a model load lasts until the test steps the clock past it, whatever the machine's speed.
 */
import type { FastifyInstance } from 'fastify';
import OpenAI, { APIConnectionError, APIError } from 'openai';
import { ManualClock } from '../common/clock';
import { settledWhileAdvancing, waitFor } from '../test/helpers/wait-for';
import { buildSimAdminApp } from './admin';
import type { ReplicaInfo, SimPool } from './pool';
import { batchOf } from '../test/helpers/sim-batch';
import { poolsClosedAfterEach, type TestPoolOptions } from './test-helpers';

const modelA = 'sim-llama-3-8b';
const modelB = 'sim-coder-7b';
const timeScale = 0.01;
const token = 'a-test-admin-token-0123456789';

const startPool = poolsClosedAfterEach();
const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

interface Setup {
  pool: SimPool;
  clock: ManualClock;
  /** The admin API's URL (listening on a free port). */
  admin: string;
}

async function setup(o: TestPoolOptions & { token?: string } = {}): Promise<Setup> {
  const clock = new ManualClock();
  const pool = await startPool({ timeScale, clock, ...o });
  const app = buildSimAdminApp({ pool, ...(o.token !== undefined && { token: o.token }) });
  apps.push(app);
  const admin = await app.listen({ host: '127.0.0.1', port: 0 });
  return { pool, clock, admin };
}

async function adminCall(
  s: Setup,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${s.admin}${path}`, {
    method,
    headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

const client = (baseURL: string) => new OpenAI({ baseURL, apiKey: 'no-key', maxRetries: 0, timeout: 10_000 });

/** A prompt of many KV blocks, so a second identical request finds most of it cached. */
const longPrompt = Array.from({ length: 120 }, (_, i) => `fact ${i} about capacity`).join('. ');
const ask = (model: string, content = 'Hello', outputTokens = 8) => ({
  model,
  messages: [{ role: 'user' as const, content }],
  metadata: { sim_output_tokens: String(outputTokens) },
});

const driven = <T>(clock: ManualClock, p: Promise<T>, what: string) => settledWhileAdvancing(clock, p, what, 50);

async function apiError(p: Promise<unknown>): Promise<APIError> {
  const err = await p.then(
    () => new Error('expected the request to fail'),
    (e: unknown) => e,
  );
  if (!(err instanceof APIError)) throw err;
  return err;
}

test('an added replica answers 503 model_loading during its load, then serves its model', async () => {
  const s = await setup();
  const added = await adminCall(s, 'POST', '/admin/replicas', { name: 'coder', model: modelB, modelLoadMs: 4000 });
  expect(added.status).toBe(201);
  const info = added.body as ReplicaInfo;
  expect(info).toMatchObject({ id: '1', name: 'coder', model: modelB, state: 'loading' });
  expect(s.pool.baseUrls).toContain(info.baseUrl);

  const loading = await apiError(client(info.baseUrl).chat.completions.create(ask(modelB)));
  expect(loading.status).toBe(503);
  expect(loading.code).toBe('model_loading');
  expect(loading.headers?.get('retry-after')).toBe('1');

  s.clock.advance(4000 * timeScale - 1);
  expect(s.pool.info('1').state).toBe('loading');
  s.clock.advance(1);
  await s.pool.whenServing('1');
  const listed = await adminCall(s, 'GET', '/admin/replicas');
  expect((listed.body as { replicas: ReplicaInfo[] }).replicas.map((r) => [r.id, r.model, r.state])).toEqual([
    ['0', modelA, 'serving'],
    ['1', modelB, 'serving'],
  ]);
  const reply = await driven(s.clock, client(info.baseUrl).chat.completions.create(ask(modelB)), 'a reply');
  expect(reply.usage?.completion_tokens).toBe(8);
  expect(reply.model).toBe(modelB);
});

test('a removed replica finishes the request in flight, refuses new ones with 503 replica_draining, then closes', async () => {
  const s = await setup();
  const url = s.pool.baseUrls[0] as string;
  const engine = s.pool.replicas[0]?.engine;
  const inFlight = client(url).chat.completions.create(ask(modelA, 'a long answer please', 200));
  inFlight.catch(() => undefined);
  await waitFor(() => engine && engine.numRunning + engine.numWaiting === 1, { what: 'the request in the engine' });

  const removing = await adminCall(s, 'DELETE', '/admin/replicas/0');
  expect(removing.status).toBe(202);
  expect(removing.body).toMatchObject({ id: '0', state: 'draining' });

  const refused = await apiError(client(url).chat.completions.create(ask(modelA)));
  expect(refused.status).toBe(503);
  expect(refused.code).toBe('replica_draining');
  expect((await fetch(url.replace(/\/v1$/, '/health'))).status).toBe(503);
  expect(s.pool.info('0').state).toBe('draining');

  const reply = await driven(s.clock, inFlight, 'the request in flight to finish');
  expect(reply.usage?.completion_tokens).toBe(200);
  await waitFor(() => s.pool.list().length === 0, { what: 'the drained replica to leave the pool' });
  expect((await adminCall(s, 'GET', '/admin/replicas/0')).status).toBe(404);
  const gone = await client(url)
    .chat.completions.create(ask(modelA))
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(gone).toBeInstanceOf(APIConnectionError);
});

test('a reassigned replica loads the new model (503 model_loading meanwhile) with a cold prefix cache', async () => {
  const s = await setup();
  const url = s.pool.baseUrls[0] as string;
  const cached = async (model: string): Promise<number> => {
    const r = await driven(s.clock, client(url).chat.completions.create(ask(model, longPrompt)), 'a reply');
    return r.usage?.prompt_tokens_details?.cached_tokens ?? -1;
  };
  expect(await cached(modelA)).toBe(0);
  expect(await cached(modelA)).toBeGreaterThan(100);

  const started = await adminCall(s, 'POST', '/admin/replicas/0/reassign', { model: modelB, modelLoadMs: 3000 });
  expect(started.status).toBe(202);
  await waitFor(() => s.pool.info('0').state === 'loading', { what: 'the idle replica to start loading' });
  const loading = await apiError(client(url).chat.completions.create(ask(modelB)));
  expect([loading.status, loading.code]).toEqual([503, 'model_loading']);

  s.clock.advance(3000 * timeScale);
  await s.pool.whenServing('0');
  expect(s.pool.info('0')).toMatchObject({ model: modelB, state: 'serving' });
  const oldModel = await apiError(client(url).chat.completions.create(ask(modelA)));
  expect(oldModel.status).toBe(404);
  const models = await client(url).models.list();
  expect(models.data.map((m) => m.id)).toEqual([modelB]);
  // The prompt that was cached before the reassignment is prefilled again, then cached for the new model.
  expect(await cached(modelB)).toBe(0);
  expect(await cached(modelB)).toBeGreaterThan(100);

  const metrics = await (await fetch(`${s.admin}/metrics`)).text();
  expect(metrics).toContain(`nalar_sim_replica_reassignments_total{from_model="${modelA}",to_model="${modelB}"} 1`);
  expect(metrics).toContain('nalar_sim_replicas{state="serving"} 1');
});

test('reassign drains first: the request in flight finishes on the old model', async () => {
  const s = await setup();
  const url = s.pool.baseUrls[0] as string;
  const engine = s.pool.replicas[0]?.engine;
  const inFlight = client(url).chat.completions.create(ask(modelA, 'before the move', 100));
  inFlight.catch(() => undefined);
  await waitFor(() => engine && engine.numRunning + engine.numWaiting === 1, { what: 'the request in the engine' });
  const done = s.pool.reassign('0', modelB, { modelLoadMs: 0 });
  // Let the reassignment go as far as it can without model time: it must wait for the request.
  await new Promise((resolve) => setImmediate(resolve));
  expect(s.pool.info('0')).toMatchObject({ model: modelA, state: 'draining' });
  expect(engine && engine.numRunning + engine.numWaiting).toBe(1);
  const reply = await driven(s.clock, inFlight, 'the request in flight');
  expect([reply.model, reply.usage?.completion_tokens]).toEqual([modelA, 100]);
  await driven(s.clock, done, 'the reassignment');
  expect(s.pool.info('0')).toMatchObject({ model: modelB, state: 'serving' });
});

test('a replica reassigned with settings serves with them (batch size, load time); it keeps its name', async () => {
  const s = await setup({ replicas: [{ name: 'chat-0', maxNumSeqs: 4 }] });
  const before = await batchOf(s.pool, '0', { model: modelA, n: 3, clock: s.clock, timeScale });
  expect([before.running, before.waiting]).toEqual([3, 0]);
  await driven(s.clock, before.replies, 'the replies before the move');
  const busyBefore = s.pool.replica('0').busyMs;

  // The coder deployment's engine: 2 batch slots, a 7 s load; the body's modelLoadMs wins over the settings'.
  const body = { model: modelB, modelLoadMs: 2000, settings: { maxNumSeqs: 2, modelLoadMs: 7000 } };
  expect((await adminCall(s, 'POST', '/admin/replicas/0/reassign', body)).status).toBe(202);
  await waitFor(() => s.pool.info('0').state === 'loading', { what: 'the idle replica to start loading' });
  s.clock.advance(2000 * timeScale);
  await s.pool.whenServing('0');
  expect(s.pool.info('0')).toMatchObject({ name: 'chat-0', model: modelB, state: 'serving' });
  // The rebuilt engine does not take the replica's busy time back (load imbalance is measured on its deltas).
  expect(s.pool.replica('0').busyMs).toBe(busyBefore);
  const after = await batchOf(s.pool, '0', { model: modelB, n: 3, clock: s.clock, timeScale });
  expect([after.running, after.waiting]).toEqual([2, 1]);
  await driven(s.clock, after.replies, 'the replies after the move');

  // The settings stay with the replica: its next move (no settings, no modelLoadMs) loads for their 7 s.
  expect((await adminCall(s, 'POST', '/admin/replicas/0/reassign', { model: modelA })).status).toBe(202);
  await waitFor(() => s.pool.info('0').state === 'loading', { what: 'the replica to load again' });
  s.clock.advance(7000 * timeScale - 1);
  expect(s.pool.info('0').state).toBe('loading');
  s.clock.advance(1);
  await s.pool.whenServing('0');
  expect(s.pool.replica('0').profile).toMatchObject({ name: 'chat-0', model: modelA, maxNumSeqs: 2 });
});

test('closing the pool ends a drain under way (the stopping process does not wait on it)', async () => {
  const s = await setup();
  const engine = s.pool.replicas[0]?.engine;
  const inFlight = client(s.pool.baseUrls[0] as string).chat.completions.create(ask(modelA, 'never finished', 100));
  inFlight.catch(() => undefined);
  await waitFor(() => engine && engine.numRunning + engine.numWaiting === 1, { what: 'the request in the engine' });
  const removed = s.pool.remove('0');
  await s.pool.close();
  await removed;
  expect(s.pool.list()).toEqual([]);
  await expect(inFlight).rejects.toBeInstanceOf(APIConnectionError);
});

test('with NALAR_SIM_ADMIN_TOKEN, changes need the bearer token; reads do not', async () => {
  const s = await setup({ token });
  const missing = await adminCall(s, 'POST', '/admin/replicas', { modelLoadMs: 0 });
  expect(missing.status).toBe(401);
  expect(missing.body).toMatchObject({ error: { code: 'NALAR_ERR_UNAUTHORIZED' } });
  const wrong = await adminCall(s, 'DELETE', '/admin/replicas/0', undefined, { authorization: 'Bearer nope' });
  expect(wrong.status).toBe(401);
  expect(s.pool.list()).toHaveLength(1);
  expect((await adminCall(s, 'GET', '/admin/replicas')).status).toBe(200);
  const right = await adminCall(
    s,
    'POST',
    '/admin/replicas?wait=true',
    { modelLoadMs: 0 },
    {
      authorization: `Bearer ${token}`,
    },
  );
  expect(right.status).toBe(200);
  expect(right.body).toMatchObject({ id: '1', state: 'serving' });
});

test('without a token, changes are refused from any peer that is not this machine', async () => {
  const clock = new ManualClock();
  const pool = await startPool({ timeScale, clock });
  const app = buildSimAdminApp({ pool });
  apps.push(app);
  const from = (remoteAddress: string) =>
    app.inject({ method: 'DELETE', url: '/admin/replicas/0?wait=true', remoteAddress });
  const remote = await from('10.0.0.5');
  expect(remote.statusCode).toBe(403);
  expect(remote.json()).toMatchObject({ error: { code: 'NALAR_ERR_UNAUTHORIZED' } });
  expect(pool.list()).toHaveLength(1);
  expect((await app.inject({ method: 'GET', url: '/admin/replicas', remoteAddress: '10.0.0.5' })).statusCode).toBe(200);
  expect((await from('127.0.0.1')).statusCode).toBe(200);
  expect(pool.list()).toHaveLength(0);
});

test('bad bodies are 400s naming the field; unknown replicas 404; replicas already changing 409', async () => {
  const s = await setup();
  const badProfile = await adminCall(s, 'POST', '/admin/replicas', { maxNumSeqs: -1 });
  expect(badProfile.status).toBe(400);
  expect(JSON.stringify(badProfile.body)).toContain('maxNumSeqs');
  const unknownField = await adminCall(s, 'POST', '/admin/replicas', { modle: modelB });
  expect(unknownField.status).toBe(400);
  expect(JSON.stringify(unknownField.body)).toContain('modle');
  const noModel = await adminCall(s, 'POST', '/admin/replicas/0/reassign', { modelLoadMs: 5 });
  expect(noModel.status).toBe(400);
  expect(JSON.stringify(noModel.body)).toContain('model');
  const badSetting = await adminCall(s, 'POST', '/admin/replicas/0/reassign', {
    model: modelB,
    settings: { maxNumSeqs: 0 },
  });
  expect([badSetting.status, badSetting.body]).toMatchObject([400, { error: { code: 'NALAR_ERR_INVALID_INPUT' } }]);
  expect(JSON.stringify(badSetting.body)).toContain('settings.maxNumSeqs');
  // The replica keeps its name and its faults; only the engine settings move.
  for (const field of ['name', 'faults']) {
    const notASetting = await adminCall(s, 'POST', '/admin/replicas/0/reassign', {
      model: modelB,
      settings: { [field]: field === 'name' ? 'coder-0' : {} },
    });
    expect(notASetting.status).toBe(400);
    expect(JSON.stringify(notASetting.body)).toContain(field);
  }
  expect(s.pool.info('0')).toMatchObject({ model: modelA, state: 'serving' });
  const notJson = await fetch(`${s.admin}/admin/replicas/0/reassign`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"model":',
  });
  expect(notJson.status).toBe(400);
  expect((await adminCall(s, 'DELETE', '/admin/replicas/0?wait=maybe')).status).toBe(400);
  expect((await adminCall(s, 'DELETE', '/admin/replicas/7')).status).toBe(404);
  expect((await adminCall(s, 'POST', '/admin/replicas/7/reassign', { model: modelB })).status).toBe(404);

  expect((await adminCall(s, 'POST', '/admin/replicas/0/reassign', { model: modelB, modelLoadMs: 1e6 })).status).toBe(
    202,
  );
  await waitFor(() => s.pool.info('0').state === 'loading', { what: 'the replica to load' });
  const again = await adminCall(s, 'POST', '/admin/replicas/0/reassign', { model: modelA });
  expect(again.status).toBe(409);
  expect(again.body).toMatchObject({ error: { code: 'NALAR_ERR_CONFLICT' } });
  expect(JSON.stringify(again.body)).toContain('loading');
  // A replica still loading can be removed (it holds no request); removing it twice conflicts.
  expect((await adminCall(s, 'DELETE', '/admin/replicas/0')).status).toBe(202);
  const twice = await adminCall(s, 'DELETE', '/admin/replicas/0');
  expect([404, 409]).toContain(twice.status);
  if (twice.status === 409) expect(twice.body).toMatchObject({ error: { code: 'NALAR_ERR_CONFLICT' } });
  await waitFor(() => s.pool.list().length === 0, { what: 'the loading replica to be removed' });
});

test('removing a replica that is already draining answers 409 NALAR_ERR_CONFLICT, not an input error', async () => {
  const s = await setup();
  const engine = s.pool.replicas[0]?.engine;
  const inFlight = client(s.pool.baseUrls[0] as string).chat.completions.create(ask(modelA, 'hold the drain', 50));
  inFlight.catch(() => undefined);
  await waitFor(() => engine && engine.numRunning + engine.numWaiting === 1, { what: 'the request in the engine' });
  expect((await adminCall(s, 'DELETE', '/admin/replicas/0')).status).toBe(202);
  const twice = await adminCall(s, 'DELETE', '/admin/replicas/0');
  expect(twice.status).toBe(409);
  expect(twice.body).toMatchObject({
    error: { code: 'NALAR_ERR_CONFLICT', message: expect.stringContaining('draining') },
  });
  const reassign = await adminCall(s, 'POST', '/admin/replicas/0/reassign', { model: modelB });
  expect([reassign.status, reassign.body]).toMatchObject([409, { error: { code: 'NALAR_ERR_CONFLICT' } }]);
  await driven(s.clock, inFlight, 'the request in flight');
  await waitFor(() => s.pool.list().length === 0, { what: 'the drained replica to leave the pool' });
});

describe('the drain deadline (drainTimeoutMs)', () => {
  const drainTimeoutMs = 1000;
  /** Real ms of the manual clock per model ms. */
  const deadline = drainTimeoutMs * timeScale;

  /** Resolves once the replica has counted a request it hangs on purpose (fault `timeout`). */
  const hung = async (s: Setup): Promise<void> => {
    await waitFor(
      async () =>
        /nalar_sim_request_errors_total\{[^}]*status="timeout"[^}]*\} 1/.test(
          await (s.pool.replicas[0]?.metrics.registry.metrics() ?? ''),
        ),
      { what: 'the hung request to arrive' },
    );
  };

  test('requests still held when it passes are answered 503 replica_draining and the replica is removed', async () => {
    const s = await setup({
      replicas: [{ drainTimeoutMs, faults: { failFirst: { count: 1, kind: 'timeout' } } }],
    });
    const url = s.pool.baseUrls[0] as string;
    const engine = s.pool.replicas[0]?.engine;
    // A request the replica accepts and never answers (a hung engine), one generating for far longer than
    // the deadline, and a stream of the same length.
    const hanging = apiError(client(url).chat.completions.create(ask(modelA, 'hang')));
    await hung(s);
    const long = apiError(client(url).chat.completions.create(ask(modelA, 'a very long answer', 20_000)));
    const stream = (async () => {
      const chunks = await client(url).chat.completions.create({ ...ask(modelA, 'stream it', 20_000), stream: true });
      let received = 0;
      for await (const c of chunks) received += c.choices[0]?.delta.content ? 1 : 0;
      return received;
    })();
    const streamed = apiError(stream);
    await waitFor(() => engine && engine.numRunning + engine.numWaiting === 2, { what: 'two requests in the engine' });

    expect((await adminCall(s, 'DELETE', '/admin/replicas/0')).status).toBe(202);
    s.clock.advance(deadline - 1);
    expect(s.pool.list().map((r) => r.state)).toEqual(['draining']);
    s.clock.advance(1);

    for (const err of [await hanging, await long]) {
      expect([err.status, err.code]).toEqual([503, 'replica_draining']);
      expect(err.message).toContain('drainTimeoutMs');
    }
    // The stream had started: its answer is a last error event, which the client throws.
    expect((await streamed).code).toBe('replica_draining');
    await waitFor(() => s.pool.list().length === 0, { what: 'the replica to leave the pool after its deadline' });
  });

  test('a reassignment whose drain passes the deadline loads the new model', async () => {
    const s = await setup({ replicas: [{ drainTimeoutMs }] });
    const url = s.pool.baseUrls[0] as string;
    const engine = s.pool.replicas[0]?.engine;
    const long = apiError(client(url).chat.completions.create(ask(modelA, 'a very long answer', 20_000)));
    await waitFor(() => engine && engine.numRunning + engine.numWaiting === 1, { what: 'the request in the engine' });
    const moved = adminCall(s, 'POST', '/admin/replicas/0/reassign?wait=true', { model: modelB, modelLoadMs: 0 });
    await waitFor(() => s.pool.info('0').state === 'draining', { what: 'the replica to drain' });
    s.clock.advance(deadline);
    expect([(await long).status, (await long).code]).toEqual([503, 'replica_draining']);
    const done = await moved;
    expect([done.status, done.body]).toMatchObject([200, { id: '0', model: modelB, state: 'serving' }]);
    const reply = await driven(s.clock, client(url).chat.completions.create(ask(modelB)), 'a reply from the new model');
    expect(reply.model).toBe(modelB);
  });

  test('a drain that ends in time is not cut short later', async () => {
    const s = await setup({ replicas: [{ drainTimeoutMs }, { drainTimeoutMs }] });
    const engine = s.pool.replicas[0]?.engine;
    const short = client(s.pool.baseUrls[0] as string).chat.completions.create(ask(modelA, 'short', 5));
    await waitFor(() => engine && engine.numRunning + engine.numWaiting === 1, { what: 'the request in the engine' });
    const removing = s.pool.remove('0');
    const reply = await driven(s.clock, short, 'the short request');
    expect(reply.usage?.completion_tokens).toBe(5);
    await removing;
    s.clock.advance(10 * deadline);
    expect(s.pool.list().map((r) => r.id)).toEqual(['1']);
  });
});
