/**
 * SimProvisioner against a real simulator pool and its real admin API over HTTP. The replicas run on a
 * ManualClock: a model load or a generation lasts until the test steps the clock, whatever the machine's speed.
 */
import type { FastifyInstance } from 'fastify';
import OpenAI from 'openai';
import { ManualClock } from '../../common/clock';
import { ErrorCode } from '../../common/errors';
import { buildSimAdminApp } from '../../sim/admin';
import type { SimPool } from '../../sim/pool';
import { poolsClosedAfterEach, type TestPoolOptions } from '../../sim/test-helpers';
import { batchOf } from '../../test/helpers/sim-batch';
import { settledWhileAdvancing, waitFor } from '../../test/helpers/wait-for';
import { SimProvisioner, type SimProvisionerOptions } from './sim-provisioner';
import { nalarErrorOf } from '../../test/helpers/nalar-error';

const modelA = 'sim-llama-3-8b';
const modelB = 'sim-coder-7b';
const timeScale = 0.01;
const token = 'a-test-admin-token-0123456789';

const startPool = poolsClosedAfterEach();
const closing: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(closing.splice(0).map((c) => c.close()));
});

interface Setup {
  pool: SimPool;
  clock: ManualClock;
  adminUrl: string;
  provisioner: SimProvisioner;
}

async function setup(
  o: TestPoolOptions & { adminToken?: string; provisioner?: Partial<SimProvisionerOptions> } = {},
): Promise<Setup> {
  const clock = new ManualClock();
  const pool = await startPool({ timeScale, clock, ...o });
  const app: FastifyInstance = buildSimAdminApp({ pool, ...(o.adminToken !== undefined && { token: o.adminToken }) });
  closing.push(app);
  const adminUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  const provisioner = new SimProvisioner({ adminUrl, pollIntervalMs: 5, ...o.provisioner });
  closing.push(provisioner);
  return { pool, clock, adminUrl, provisioner };
}

const client = (baseURL: string) => new OpenAI({ baseURL, apiKey: 'no-key', maxRetries: 0, timeout: 10_000 });
const ask = (model: string, content = 'Hello', outputTokens = 8) => ({
  model,
  messages: [{ role: 'user' as const, content }],
  metadata: { sim_output_tokens: String(outputTokens) },
});

const driven = <T>(clock: ManualClock, p: Promise<T>, what: string) => settledWhileAdvancing(clock, p, what, 20);

test('provision starts a loading replica named <agent>-<n> from the template; whenServing waits for its load', async () => {
  const s = await setup({
    provisioner: { template: (agent) => ({ modelLoadMs: 4000, maxNumSeqs: agent === 'coder' ? 4 : 8 }) },
  });
  const added = await s.provisioner.provision({ agent: 'coder', model: modelB });
  expect(added).toEqual({ id: '1', model: modelB, baseUrl: s.pool.baseUrls[1], state: 'loading' });
  expect(s.pool.replicas[1]?.profile).toMatchObject({ name: 'coder-0', modelLoadMs: 4000, maxNumSeqs: 4 });
  const second = await s.provisioner.provision({ agent: 'coder', model: modelB });
  expect(s.pool.info(second.id).name).toBe('coder-1');

  let served = false;
  const serving = s.provisioner.whenServing(added.id).then(() => {
    served = true;
  });
  // Polls see it loading until the clock passes the load.
  await waitFor(async () => (await s.provisioner.list()).find((r) => r.id === '1')?.state === 'loading', {
    what: 'the replica listed as loading',
  });
  expect(served).toBe(false);
  s.clock.advance(4000 * timeScale);
  await serving;
  expect((await s.provisioner.list()).map((r) => [r.id, r.model, r.state])).toEqual([
    ['0', modelA, 'serving'],
    ['1', modelB, 'serving'],
    ['2', modelB, 'serving'],
  ]);
  const reply = await driven(s.clock, client(added.baseUrl).chat.completions.create(ask(modelB)), 'a reply');
  expect([reply.model, reply.usage?.completion_tokens]).toEqual([modelB, 8]);
});

test('names continue after the replicas already listed for the agent', async () => {
  const s = await setup({ replicas: [{ name: 'planner-4' }, { name: 'planner-x' }] });
  const added = await s.provisioner.provision({ agent: 'planner', model: modelA });
  expect(s.pool.info(added.id).name).toBe('planner-5');
});

test('kill drains: a request in flight is answered, then the replica leaves the list', async () => {
  const s = await setup({ replicas: [{}, {}] });
  const url = s.pool.baseUrls[0] as string;
  const engine = s.pool.replicas[0]?.engine;
  const inFlight = client(url).chat.completions.create(ask(modelA, 'a long answer please', 120));
  inFlight.catch(() => undefined);
  await waitFor(() => engine && engine.numRunning + engine.numWaiting === 1, { what: 'the request in the engine' });

  // The kill waits for the drain: the short time limit of other calls must not apply to it.
  const impatient = new SimProvisioner({ adminUrl: s.adminUrl, requestTimeoutMs: 1 });
  let killed = false;
  const kill = impatient.kill('0').then(() => {
    killed = true;
  });
  await waitFor(() => s.pool.info('0').state === 'draining', { what: 'the replica to drain' });
  expect(killed).toBe(false);
  const reply = await driven(s.clock, inFlight, 'the request in flight');
  expect(reply.usage?.completion_tokens).toBe(120);
  await kill;
  expect((await s.provisioner.list()).map((r) => r.id)).toEqual(['1']);
});

test('reassign drains, loads the new model, and resolves once the replica serves it', async () => {
  const s = await setup({ replicas: [{ modelLoadMs: 3000 }] });
  const url = s.pool.baseUrls[0] as string;
  await driven(s.clock, s.provisioner.reassign('0', { agent: 'coder', model: modelB }), 'the reassignment');
  expect(await s.provisioner.list()).toEqual([{ id: '0', model: modelB, baseUrl: url, state: 'serving' }]);
  const reply = await driven(s.clock, client(url).chat.completions.create(ask(modelB)), 'a reply');
  expect(reply.model).toBe(modelB);
  await expect(client(url).chat.completions.create(ask(modelA))).rejects.toMatchObject({ status: 404 });
});

test("reassign restarts the replica with the target agent's template: its batch size and load time", async () => {
  // Chat replicas have 8 batch slots, coder replicas 2 and a 3 s load; the coder template's faults are not
  // the deployment's and stay behind (if they moved, every request would fail with a 500).
  const templates: Record<string, Record<string, unknown>> = {
    chat: { maxNumSeqs: 8, modelLoadMs: 1000 },
    coder: { maxNumSeqs: 2, modelLoadMs: 3000, faults: { errorRate500: 1 } },
  };
  const s = await setup({
    replicas: [{ name: 'chat-0', model: modelA, maxNumSeqs: 8 }],
    provisioner: { template: (agent) => templates[agent] ?? {} },
  });
  const moved = s.provisioner.reassign('0', { agent: 'coder', model: modelB });
  await waitFor(() => s.pool.info('0').state === 'loading', { what: 'the idle replica to start loading' });
  s.clock.advance(3000 * timeScale - 1);
  expect(s.pool.info('0').state).toBe('loading');
  s.clock.advance(1);
  await moved;
  expect(s.pool.info('0')).toMatchObject({ name: 'chat-0', model: modelB, state: 'serving' });
  const coder = await batchOf(s.pool, '0', { model: modelB, n: 3, clock: s.clock, timeScale });
  expect([coder.running, coder.waiting]).toEqual([2, 1]);
  await driven(s.clock, coder.replies, 'the coder replies');

  await driven(s.clock, s.provisioner.reassign('0', { agent: 'chat', model: modelA }), 'the move back');
  const chat = await batchOf(s.pool, '0', { model: modelA, n: 3, clock: s.clock, timeScale });
  expect([chat.running, chat.waiting]).toEqual([3, 0]);
});

test('with NALAR_SIM_ADMIN_TOKEN on the simulator, changes need the token: without it a clear NalarError', async () => {
  const s = await setup({ adminToken: token });
  const refused = await nalarErrorOf(s.provisioner.provision({ agent: 'coder', model: modelB }));
  expect(refused.code).toBe(ErrorCode.UNAUTHORIZED);
  expect(refused.message).toContain('NALAR_SIM_ADMIN_TOKEN');
  expect(refused.details).toMatchObject({ status: 401, adminCode: 'NALAR_ERR_UNAUTHORIZED' });
  const wrong = new SimProvisioner({ adminUrl: s.adminUrl, token: 'not-the-token' });
  const wrongErr = await nalarErrorOf(wrong.kill('0'));
  expect(wrongErr.code).toBe(ErrorCode.UNAUTHORIZED);
  expect(wrongErr.message).not.toContain('not-the-token');
  expect(s.pool.list()).toHaveLength(1);

  const right = new SimProvisioner({ adminUrl: s.adminUrl, token, pollIntervalMs: 5 });
  const added = await right.provision({ agent: 'coder', model: modelB });
  await driven(s.clock, right.whenServing(added.id), 'the load');
  expect(s.pool.info(added.id).state).toBe('serving');
});

test('an unknown id is NALAR_ERR_REPLICA_NOT_FOUND; a replica already changing is NALAR_ERR_CONFLICT', async () => {
  const s = await setup();
  for (const call of [
    s.provisioner.kill('7'),
    s.provisioner.reassign('7', { agent: 'coder', model: modelB }),
    s.provisioner.whenServing('7'),
  ]) {
    const err = await nalarErrorOf(call);
    expect([err.code, err.details?.status]).toEqual([ErrorCode.REPLICA_NOT_FOUND, 404]);
    expect(err.message).toContain('7');
  }
  const engine = s.pool.replicas[0]?.engine;
  const inFlight = client(s.pool.baseUrls[0] as string).chat.completions.create(ask(modelA, 'hold it', 60));
  inFlight.catch(() => undefined);
  await waitFor(() => engine && engine.numRunning + engine.numWaiting === 1, { what: 'the request in the engine' });
  const kill = s.provisioner.kill('0');
  await waitFor(() => s.pool.info('0').state === 'draining', { what: 'the replica to drain' });
  const again = await nalarErrorOf(s.provisioner.reassign('0', { agent: 'coder', model: modelB }));
  expect([again.code, again.details?.status, again.details?.adminCode]).toEqual([
    ErrorCode.CONFLICT,
    409,
    'NALAR_ERR_CONFLICT',
  ]);
  await driven(s.clock, kill, 'the kill');
});

test('whenServing rejects when the replica is removed before it serves', async () => {
  const s = await setup({ provisioner: { template: () => ({ modelLoadMs: 1e6 }) } });
  const added = await s.provisioner.provision({ agent: 'coder', model: modelB });
  const serving = nalarErrorOf(s.provisioner.whenServing(added.id));
  await s.pool.remove(added.id);
  const err = await serving;
  expect(err.code).toBe(ErrorCode.REPLICA_NOT_FOUND);
  expect(err.message).toContain('gone');
});

test('an admin API that is not there is NALAR_ERR_PROVISIONER_FAILED naming it; close ends a wait under way', async () => {
  const s = await setup({ provisioner: { template: () => ({ modelLoadMs: 1e6 }) } });
  const down = new SimProvisioner({ adminUrl: 'http://127.0.0.1:1', requestTimeoutMs: 5000 });
  const err = await nalarErrorOf(down.list());
  expect(err.code).toBe(ErrorCode.PROVISIONER_FAILED);
  expect(err.message).toContain('http://127.0.0.1:1');

  const added = await s.provisioner.provision({ agent: 'coder', model: modelB });
  const serving = nalarErrorOf(s.provisioner.whenServing(added.id));
  await s.provisioner.close();
  expect((await serving).code).toBe(ErrorCode.PROVISIONER_FAILED);
});

test('a bad adminUrl is a configuration error', () => {
  expect(() => new SimProvisioner({ adminUrl: 'not a url' })).toThrow(/adminUrl/);
  expect(() => new SimProvisioner({ adminUrl: 'ftp://127.0.0.1:1' })).toThrow(/http/);
});
