/**
 * The HTTP gateway as users reach it: a listening gateway with two tenants' tokens, the real dev server and a
 * real Nalar worker, plain `fetch`. Starts in each mode, runs, cancel, failures with their code, idempotent
 * ids, tenant isolation, the runs-in-flight limit, the codec routes, the tenant as fairness key of every
 * activity a run schedules, and a fuzz run that must never get a 5xx or take the process down.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { z } from 'zod';
import { connectNalarClient } from '../client';
import { loadConfig, type NalarConfig } from '../common/config';
import { startGateway, type GatewayServer } from '../data-plane/gateway/server';
import { createNalarWorker } from '../data-plane/worker/worker';
import { ClaimCheckCodec } from '../state/payloads/claim-check-codec';
import { blobStoreOf, nalarDataConverter } from '../state/payloads/data-converter';
import { workflowInputs } from '../workflows/inputs';
import { waitFor } from './helpers/wait-for';
import { bundle, connectTestEnv, testTemporalAddress, uniqueTaskQueue } from './temporal';

jest.setTimeout(120_000);

const acme = 'acme-token-'.padEnd(40, 'a');
const globex = 'globex-token-'.padEnd(40, 'g');
/** A tenant whose runs only the paging test starts, so that its listing holds exactly those. */
const pager = 'pager-token-'.padEnd(40, 'p');
const workflows = {
  ...workflowInputs,
  gatewayHoldWorkflow: z.object({ label: z.string() }),
  gatewayFailWorkflow: z.object({ reason: z.string() }),
};

let env: TestWorkflowEnvironment;
let config: NalarConfig;
let client: Client;
let worker: Worker;
let running: Promise<void>;
let taskQueue: string;
let gateway: GatewayServer;
const extraGateways: GatewayServer[] = [];

beforeAll(async () => {
  env = await connectTestEnv();
  config = loadConfig({
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: testTemporalAddress(),
      NALAR_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'nalar-gateway-int-')),
    },
  });
  client = await connectNalarClient({ config });
  taskQueue = uniqueTaskQueue('gateway');
  worker = await createNalarWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    workflowBundle: await bundle(path.join(__dirname, 'fixtures', 'workflows', 'gateway.ts')),
    dataConverter: nalarDataConverter(config),
  });
  running = worker.run();
  gateway = await startGateway({
    host: '127.0.0.1',
    port: 0,
    client,
    taskQueue,
    workflows,
    tokens: { [acme]: 'acme', [globex]: 'globex', [pager]: 'pager' },
    codec: new ClaimCheckCodec({ store: blobStoreOf(config), thresholdBytes: config.payloadOffloadBytes }),
  });
});

afterAll(async () => {
  await Promise.all([gateway, ...extraGateways].map((g) => g?.close()));
  worker?.shutdown();
  await running;
  await client?.connection.close();
  await env?.teardown();
  if (config) rmSync(config.dataDir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
  headers: Headers;
}

async function call(method: string, url: string, token: string | undefined, body?: unknown, base = gateway.url) {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: {
      ...(token !== undefined && { authorization: `Bearer ${token}` }),
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Answer['body'], headers: res.headers } satisfies Answer;
}

const start = (name: string, input: unknown, query = '', token = acme, base?: string) =>
  call('POST', `/v1/workflows/${name}${query}`, token, input, base);
const getRun = (id: string, token = acme) => call('GET', `/v1/runs/${encodeURIComponent(id)}`, token);
const release = (tenant: string, id: string) => client.workflow.getHandle(`${tenant}:${id}`).signal('release');
const runStatus = (id: string, status: string, token = acme) =>
  waitFor(
    async () => {
      const run = await getRun(id, token);
      return run.body.status === status && run;
    },
    { what: `run ${id} to be ${status}`, intervalMs: 100 },
  );

test('wait mode answers the result; every activity the run scheduled has the tenant as fairness key', async () => {
  const res = await start('textPipelineWorkflow', { sentences: ['hello there', 'world'] });
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ status: 'completed', result: { text: 'HELLO THERE WORLD', words: 3 } });
  const id = res.body.id as string;
  expect(res.body.links).toEqual({
    self: `/v1/runs/${id}`,
    stream: `/v1/runs/${id}/events`,
    cancel: `/v1/runs/${id}/cancel`,
  });
  // The same run read back: status, result, timestamps.
  const run = await getRun(id);
  expect(run.body).toMatchObject({
    id,
    status: 'completed',
    workflow: 'textPipelineWorkflow',
    result: res.body.result,
  });
  expect(typeof run.body.closedAt).toBe('string');

  const history = await client.workflow.getHandle(`acme:${id}`).fetchHistory();
  const scheduled = (history.events ?? []).flatMap((e) =>
    e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes] : [],
  );
  expect(scheduled.length).toBe(4); // two shouts, the join, the count
  for (const s of scheduled) expect(s.priority?.fairnessKey).toBe('acme');
});

test('a wait that times out answers 202 with the run handle; the run completes and GET shows its result', async () => {
  const res = await start('gatewayHoldWorkflow', { label: 'slow' }, '?timeout=100ms');
  expect(res.status).toBe(202);
  const id = res.body.id as string;
  expect(res.body).toMatchObject({ status: 'running', runId: expect.any(String), links: { self: `/v1/runs/${id}` } });
  expect((await getRun(id)).body.status).toBe('running');
  await release('acme', id);
  const done = await runStatus(id, 'completed');
  expect(done.body.result).toBe('held slow');
});

test('async mode answers 202 at once; a repeated workflowId answers the same run instead of starting another', async () => {
  const id = `order-${Date.now()}`;
  const first = await start('gatewayHoldWorkflow', { label: 'once' }, `?mode=async&workflowId=${id}`);
  expect(first.status).toBe(202);
  expect(first.body).toMatchObject({ id, status: 'running' });
  const again = await start('gatewayHoldWorkflow', { label: 'twice' }, `?mode=async&workflowId=${id}`);
  expect(again.status).toBe(202);
  expect(again.body.runId).toBe(first.body.runId);
  await release('acme', id);
  await runStatus(id, 'completed');
  // Closed: the same id still answers that run (200), with its result, and starts nothing.
  const closed = await start('gatewayHoldWorkflow', { label: 'thrice' }, `?workflowId=${id}`);
  expect(closed.status).toBe(200);
  expect(closed.body).toMatchObject({ runId: first.body.runId, status: 'completed', result: 'held once' });
});

test("a tenant never sees another tenant's runs: the same id is two runs, and the other's id is a 404", async () => {
  const id = `shared-${Date.now()}`;
  await start('gatewayHoldWorkflow', { label: 'acme' }, `?mode=async&workflowId=${id}`);
  const missing = await getRun(id, globex);
  expect(missing.status).toBe(404);
  expect(missing.body.error?.code).toBe('NALAR_ERR_WORKFLOW_NOT_FOUND');
  expect((await call('POST', `/v1/runs/${id}/cancel`, globex)).status).toBe(404);
  const own = await start('gatewayHoldWorkflow', { label: 'globex' }, `?mode=async&workflowId=${id}`, globex);
  expect(own.status).toBe(202);
  await release('globex', id);
  expect((await runStatus(id, 'completed', globex)).body.result).toBe('held globex');
  expect((await getRun(id)).body.status).toBe('running'); // acme's run is untouched
  await release('acme', id);
  expect((await runStatus(id, 'completed')).body.result).toBe('held acme');
  expect((await call('GET', `/v1/runs/${id}`, undefined)).status).toBe(401);
});

test("GET /v1/runs lists the caller's own runs only, filtered by status", async () => {
  const mine = await start('textPipelineWorkflow', { sentences: ['listed'] });
  const theirs = await start('textPipelineWorkflow', { sentences: ['hidden'] }, '', globex);
  type Listed = { runs: { id: string; runId: string; status: string }[] };
  const listed = await waitFor(
    async () => {
      const res = await call('GET', '/v1/runs?status=completed&limit=100', acme);
      const runs = (res.body as unknown as Listed).runs;
      return runs.some((r) => r.id === mine.body.id) && runs;
    },
    { what: 'the completed run to appear in the listing', intervalMs: 200 },
  );
  expect(listed.every((r) => r.status === 'completed')).toBe(true);
  // Isolation by run (Temporal run ids are unique across tenants).
  const globexRuns = ((await call('GET', '/v1/runs?limit=100', globex)).body as unknown as Listed).runs;
  expect(globexRuns.map((r) => r.runId)).not.toContain(mine.body.runId);
  expect(listed.map((r) => r.runId)).not.toContain(theirs.body.runId);
  expect((await call('GET', '/v1/runs?status=sleeping', acme)).status).toBe(400);
});

test('GET /v1/runs pages with nextCursor: every run once, newest first, and a bad cursor is a 400', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const res = await start('textPipelineWorkflow', { sentences: [`page ${i}`] }, '', pager);
    ids.push(res.body.id as string);
  }
  type Page = { runs: { id: string; startedAt: string }[]; nextCursor?: string };
  await waitFor(
    async () => ((await call('GET', '/v1/runs?limit=100', pager)).body as unknown as Page).runs.length === 5,
    {
      what: 'the five runs to be visible',
      intervalMs: 200,
    },
  );
  const pages: Page[] = [];
  let cursor: string | undefined;
  do {
    const res = await call('GET', `/v1/runs?limit=2${cursor ? `&cursor=${cursor}` : ''}`, pager);
    expect(res.status).toBe(200);
    const page = res.body as unknown as Page;
    pages.push(page);
    cursor = page.nextCursor;
  } while (cursor !== undefined && pages.length < 10);
  const listed = pages.flatMap((p) => p.runs);
  expect(pages.slice(0, 2).map((p) => p.runs.length)).toEqual([2, 2]);
  expect(listed.map((r) => r.id).sort()).toEqual([...ids].sort());
  const started = listed.map((r) => Date.parse(r.startedAt));
  expect(started).toEqual([...started].sort((a, b) => b - a));
  // Another tenant's cursor walk never shows these runs; a cursor that is not one is the caller's mistake.
  const theirs = (await call('GET', '/v1/runs?limit=100', globex)).body as unknown as Page;
  expect(theirs.runs.map((r) => r.id)).not.toEqual(expect.arrayContaining(ids));
  const bad = await call('GET', '/v1/runs?cursor=not*a*cursor', pager);
  expect([bad.status, bad.body.error?.code]).toEqual([400, 'NALAR_ERR_INVALID_INPUT']);
  const unreadable = await call('GET', '/v1/runs?cursor=AAAA', pager);
  expect([unreadable.status, unreadable.body.error?.code]).toEqual([400, 'NALAR_ERR_INVALID_INPUT']);
  // A cursor continues its own listing: not one filtered by another status.
  const first = (await call('GET', '/v1/runs?limit=2', pager)).body as unknown as Page;
  const mixed = await call('GET', `/v1/runs?status=completed&cursor=${first.nextCursor}`, pager);
  expect([mixed.status, mixed.body.error?.message]).toEqual([400, expect.stringContaining('status=(any)')]);
});

test('cancel: 202, the run ends cancelled, and a second cancel is a 409', async () => {
  const res = await start('gatewayHoldWorkflow', { label: 'doomed' }, '?mode=async');
  const id = res.body.id as string;
  const cancelled = await call('POST', `/v1/runs/${id}/cancel`, acme);
  expect(cancelled.status).toBe(202);
  const run = await runStatus(id, 'cancelled');
  expect(run.body.error?.code).toBeDefined();
  const again = await call('DELETE', `/v1/runs/${id}`, acme);
  expect(again.status).toBe(409);
  expect(again.body.error?.code).toBe('NALAR_ERR_RUN_CLOSED');
});

test('a failed run shows its error code, in wait mode and on GET', async () => {
  const res = await start('gatewayFailWorkflow', { reason: 'no budget' });
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({
    status: 'failed',
    error: { code: 'NALAR_ERR_STATE_INVALID', message: 'refused: no budget' },
  });
  expect((await getRun(res.body.id as string)).body).toMatchObject({
    status: 'failed',
    error: { code: 'NALAR_ERR_STATE_INVALID' },
  });
});

test('a tenant at its runs-in-flight limit gets 429 with Retry-After until one of its runs closes', async () => {
  const limited = await startGateway({
    host: '127.0.0.1',
    port: 0,
    client,
    taskQueue,
    workflows,
    tokens: { [acme]: 'acme', [globex]: 'globex', [pager]: 'pager' },
    maxRunsInFlight: 1,
  });
  extraGateways.push(limited);
  const first = await start('gatewayHoldWorkflow', { label: 'one' }, '?mode=async', acme, limited.url);
  expect(first.status).toBe(202);
  const refused = await start('gatewayHoldWorkflow', { label: 'two' }, '?mode=async', acme, limited.url);
  expect(refused.status).toBe(429);
  expect(refused.headers.get('retry-after')).toBe('1');
  expect(refused.body.error?.code).toBe('NALAR_ERR_RATE_LIMITED');
  expect((await start('gatewayHoldWorkflow', { label: 'g' }, '?mode=async', globex, limited.url)).status).toBe(202);
  await release('acme', first.body.id as string);
  const third = await waitFor(
    async () => {
      const r = await start('textPipelineWorkflow', { sentences: ['x'] }, '', acme, limited.url);
      return r.status !== 429 && r;
    },
    { what: 'the slot of the released run to free', intervalMs: 100 },
  );
  expect(third.status).toBe(200);
});

test('the codec endpoint is served under the gateway auth', async () => {
  const payload = defaultPayloadConverter.toPayload({ hello: 'codec' });
  const body = {
    payloads: [
      {
        metadata: { encoding: Buffer.from(payload.metadata!.encoding!).toString('base64') },
        data: Buffer.from(payload.data!).toString('base64'),
      },
    ],
  };
  expect((await call('POST', '/v1/codec/decode', undefined, body)).status).toBe(401);
  const decoded = await call('POST', '/v1/codec/decode', acme, body);
  expect(decoded.status).toBe(200);
  expect(decoded.body).toEqual(body);
});

/** A deterministic pseudo-random generator (mulberry32), so a failing fuzz case can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Sends raw bytes as one HTTP request and returns the status line's code (0 when the server just closed). */
function rawRequest(port: number, bytes: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('error', () => resolve(0));
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
    socket.end(bytes);
  });
}

test('fuzz: nothing a client sends gets a 5xx or takes the gateway down', async () => {
  const rand = prng(11);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const junk = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
  const paths = [
    '/v1/workflows/textPipelineWorkflow',
    '/v1/workflows/helloAgentWorkflow',
    '/v1/workflows/gatewayHoldWorkflow',
    '/v1/workflows/',
    '/v1/workflows/__proto__',
    '/v1/runs/abc',
    '/v1/runs/%00%ff',
    '/v1/runs/' + 'x'.repeat(400),
    '/v1/runs/a/cancel',
    '/v1/codec/decode',
    '/v1/codec/encode',
    '/v1/codec/other',
    '/openapi.json',
    '/metrics',
    '/readyz',
    '/../../etc/passwd',
    '/v1//runs',
    '/v1/workflows/textPipelineWorkflow?mode=stream',
    '/v1/workflows/textPipelineWorkflow?mode=async&mode=wait',
    '/v1/workflows/textPipelineWorkflow?timeout=-5',
    '/v1/workflows/textPipelineWorkflow?timeout=1e308&mode=async',
    '/v1/workflows/textPipelineWorkflow?workflowId=%E2%98%83&mode=async',
    '/v1/workflows/textPipelineWorkflow?workflowId=ok-' + Date.now() + '&mode=async',
  ];
  const bodies: (() => string | Buffer | undefined)[] = [
    () => undefined,
    () => '',
    () => 'null',
    () => '[]',
    () => '"text"',
    () => '{"sentences": "no"}',
    () => '{"sentences": ["a", 1, null]}',
    () => '{"sentences": []}',
    () => '{"question": "' + 'q'.repeat(2_000_000) + '"}',
    () => deep(5000),
    () => '{"a":'.repeat(3000) + '1' + '}'.repeat(3000),
    () => '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}',
    () => '{"payloads": [{"metadata": {"encoding": "!!"}, "data": 5}]}',
    () => '{"payloads": [{"metadata": {"encoding": "YmluYXJ5L25hbGFyLWJsb2I="}, "data": "AAAA"}]}',
    () => junk(64),
    () => Buffer.concat([Buffer.from('{"question": "'), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from('"}')]),
  ];
  const contentTypes = [
    undefined,
    'application/json',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/json; charset=latin1',
    'application/octet-stream',
    '*/*',
  ];
  const auths = [
    `Bearer ${acme}`,
    `Bearer ${globex}`,
    undefined,
    'Bearer',
    'Basic Zm9vOmJhcg==',
    `Bearer ${acme} extra`,
    'x'.repeat(5000),
  ];
  const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'];
  const statuses = new Map<number, number>();
  for (let i = 0; i < 250; i++) {
    const method = pick(methods);
    const body = method === 'GET' || method === 'HEAD' ? undefined : pick(bodies)();
    const contentType = pick(contentTypes);
    const authorization = pick(auths);
    const url = pick(paths);
    const res = await fetch(`${gateway.url}${url}`, {
      method,
      headers: {
        ...(contentType !== undefined && { 'content-type': contentType }),
        ...(authorization !== undefined && { authorization }),
      },
      ...(body !== undefined && { body }),
    });
    const text = await res.text();
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    const what = `${method} ${url.slice(0, 80)} (case ${i})`;
    if (res.status >= 500) throw new Error(`${what} answered ${res.status}: ${text.slice(0, 300)}`);
    if (res.status >= 400 && method !== 'HEAD' && !(JSON.parse(text) as { error?: { code?: string } }).error?.code) {
      throw new Error(`${what} answered ${res.status} outside the error shape: ${text.slice(0, 300)}`);
    }
  }
  // Malformed HTTP itself: Node's parser answers 4xx or closes; never the gateway's 5xx.
  const port = Number(new URL(gateway.url).port);
  for (const raw of [
    Buffer.from('GET /v1/runs/x HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n'),
    Buffer.from(
      'POST /v1/workflows/helloAgentWorkflow HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    ),
    Buffer.concat([Buffer.from('GET /'), junk(100), Buffer.from(' HTTP/1.1\r\n\r\n')]),
    junk(300),
  ]) {
    const status = await rawRequest(port, raw);
    expect(status === 0 || (status >= 400 && status < 500)).toBe(true);
  }
  expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
  expect((await fetch(`${gateway.url}/readyz`)).status).toBe(200);
  expect([...statuses.keys()].some((s) => s < 300)).toBe(true);
});
