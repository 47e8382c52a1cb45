/**
 * The gateway's routes that answer before Temporal is asked (auth, limits, validation, errors, OpenAPI,
 * metrics), through `app.inject`, with a real Temporal client whose server is not there: what reaches
 * Temporal answers 503 with a code. Runs against the real dev server are in test/gateway.int.test.ts.
 */
import { Client, Connection } from '@temporalio/client';
import Ajv2020 from 'ajv/dist/2020';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ManualClock } from '../../common/clock';
import { workflowInputs } from '../../workflows/inputs';
import { freePort } from '../supervisor/ports';
import { buildGatewayApp, type GatewayAppOptions } from './app';
import type { GatewayPlugin } from './context';
import { MemoryRunEventBus } from '../../state/streams/memory-bus';
import { createSessionRoutes } from './sessions/routes';
import { createStreams } from './streams/routes';

const tokenA = 'a'.repeat(32);
const tokenB = 'b'.repeat(32);
let connection: Connection;
let client: Client;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  // Nothing listens there: calls that reach Temporal fail (UNAVAILABLE, or the deadline below).
  connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}` });
  client = new Client({ connection });
});

afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await connection.close();
});

function gateway(options: Partial<GatewayAppOptions> = {}): FastifyInstance {
  const app = buildGatewayApp({ client, temporalTimeoutMs: 500, ...options });
  apps.push(app);
  return app;
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

test('with tokens, /v1 needs a known bearer token (401 in the one error shape); health needs none', async () => {
  const app = gateway({ tokens: { [tokenA]: 'acme' } });
  for (const headers of [{}, auth('c'.repeat(32)), { authorization: tokenA }]) {
    const res = await app.inject({ method: 'GET', url: '/v1/runs/x', headers });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: { code: 'NALAR_ERR_UNAUTHORIZED', message: expect.any(String) } });
    expect(res.body).not.toContain(tokenA);
  }
  expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
});

test('a wrong input is a 400 naming the field; an unknown workflow type a 404; a bad mode a 400', async () => {
  const app = gateway();
  const res = await app.inject({ method: 'POST', url: '/v1/workflows/helloAgentWorkflow', payload: { question: 3 } });
  expect(res.statusCode).toBe(400);
  const body = res.json<{ error: { code: string; message: string; details: { issues: { field: string }[] } } }>();
  expect(body.error.code).toBe('NALAR_ERR_INVALID_INPUT');
  expect(body.error.message).toContain('question:');
  expect(body.error.details.issues.map((i) => i.field)).toEqual(['question']);
  const nested = await app.inject({
    method: 'POST',
    url: '/v1/workflows/writeArticleWorkflow',
    payload: { topics: ['ok', ' '] },
  });
  expect(nested.json<{ error: { message: string } }>().error.message).toContain('topics[1]: must not be blank');

  const unknown = await app.inject({ method: 'POST', url: '/v1/workflows/noSuchWorkflow', payload: {} });
  expect(unknown.statusCode).toBe(404);
  expect(unknown.json<{ error: { code: string } }>().error.code).toBe('NALAR_ERR_NOT_FOUND');
  // Prototype keys are not workflow types.
  expect((await app.inject({ method: 'POST', url: '/v1/workflows/constructor', payload: {} })).statusCode).toBe(404);

  const mode = await app.inject({
    method: 'POST',
    url: '/v1/workflows/helloAgentWorkflow?mode=later',
    payload: { question: 'q' },
  });
  expect(mode.statusCode).toBe(400);
  expect(mode.json<{ error: { message: string } }>().error.message).toMatch(/^mode: /);
  const stream = await app.inject({
    method: 'POST',
    url: '/v1/workflows/helloAgentWorkflow?mode=stream',
    payload: { question: 'q' },
  });
  expect(stream.statusCode).toBe(501);
  expect(stream.json<{ error: { code: string } }>().error.code).toBe('NALAR_ERR_NOT_IMPLEMENTED');
});

test('bodies over the limit are 413, other content types 415, malformed JSON 400, unknown routes 404', async () => {
  const app = gateway({ bodyLimitBytes: 2048 });
  const big = await app.inject({
    method: 'POST',
    url: '/v1/workflows/helloAgentWorkflow',
    payload: { question: 'x'.repeat(4096) },
  });
  expect(big.statusCode).toBe(413);
  expect(big.json<{ error: { code: string } }>().error.code).toBe('NALAR_ERR_PAYLOAD_TOO_LARGE');
  const text = await app.inject({
    method: 'POST',
    url: '/v1/workflows/helloAgentWorkflow',
    headers: { 'content-type': 'text/plain' },
    payload: 'question',
  });
  expect(text.statusCode).toBe(415);
  expect(text.json<{ error: { code: string } }>().error.code).toBe('NALAR_ERR_MEDIA_TYPE');
  const broken = await app.inject({
    method: 'POST',
    url: '/v1/workflows/helloAgentWorkflow',
    headers: { 'content-type': 'application/json' },
    payload: '{"question": ',
  });
  expect(broken.statusCode).toBe(400);
  expect(broken.json<{ error: { code: string } }>().error.code).toBe('NALAR_ERR_INVALID_INPUT');
  const missing = await app.inject({ method: 'GET', url: '/v2/anything' });
  expect(missing.statusCode).toBe(404);
  expect(missing.json<{ error: { code: string } }>().error.code).toBe('NALAR_ERR_NOT_FOUND');
});

test('an empty body with a JSON content type is no body: a DELETE is not refused, a start names the missing input', async () => {
  const app = gateway();
  const json = { 'content-type': 'application/json' };
  // Temporal is unreachable here: reaching the route (a 503, not a 400) is what shows the body was accepted.
  const del = await app.inject({ method: 'DELETE', url: '/v1/runs/some-run', headers: json });
  expect(del.json<{ error: { code: string } }>().error.code).not.toBe('NALAR_ERR_INVALID_INPUT');
  const start = await app.inject({ method: 'POST', url: '/v1/workflows/helloAgentWorkflow', headers: json });
  expect(start.statusCode).toBe(400);
  expect(start.json<{ error: { code: string } }>().error.code).toBe('NALAR_ERR_INVALID_INPUT');
  const poisoned = await app.inject({
    method: 'POST',
    url: '/v1/workflows/helloAgentWorkflow',
    headers: json,
    payload: '{"question": "x", "__proto__": {"admin": true}}',
  });
  expect(poisoned.statusCode).toBe(400);
});

test("a tenant over its rate gets 429 with Retry-After; time passing (injected clock) refills it; other tenants don't notice", async () => {
  const clock = new ManualClock();
  const app = gateway({ tokens: { [tokenA]: 'acme', [tokenB]: 'globex' }, clock, ratePerSecond: 2, burst: 3 });
  const hit = (token: string) => app.inject({ method: 'GET', url: '/v1/runs/%20', headers: auth(token) });
  for (let i = 0; i < 3; i++) expect((await hit(tokenA)).statusCode).toBe(404);
  const refused = await hit(tokenA);
  expect(refused.statusCode).toBe(429);
  expect(refused.headers['retry-after']).toBe('1');
  expect(refused.json<{ error: { code: string } }>().error.code).toBe('NALAR_ERR_RATE_LIMITED');
  expect((await hit(tokenB)).statusCode).toBe(404);
  clock.advance(499);
  expect((await hit(tokenA)).statusCode).toBe(429);
  clock.advance(1);
  expect((await hit(tokenA)).statusCode).toBe(404);
});

test('Temporal unreachable: starts, runs and readiness answer 503 with a code, liveness still 200', async () => {
  const app = gateway();
  const start = await app.inject({
    method: 'POST',
    url: '/v1/workflows/helloAgentWorkflow',
    payload: { question: 'q' },
  });
  expect(start.statusCode).toBe(503);
  expect(start.json<{ error: { code: string } }>().error.code).toBe('NALAR_ERR_TEMPORAL_DOWN');
  const run = await app.inject({ method: 'GET', url: '/v1/runs/some-id' });
  expect(run.statusCode).toBe(503);
  const ready = await app.inject({ method: 'GET', url: '/readyz' });
  expect(ready.statusCode).toBe(503);
  expect(ready.json<{ error: { code: string } }>().error.code).toBe('NALAR_ERR_TEMPORAL_DOWN');
  expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
});

test('plugins get routes under /v1 behind auth, with the tenant and the error helper', async () => {
  const plugin: GatewayPlugin = (app, deps) => {
    app.get('/whoami', async (request) => ({
      tenant: request.tenant,
      workflowId: deps.workflowIdOf(request.tenant, 'x'),
      memo: deps.startHeaders(request.tenant),
    }));
  };
  const app = gateway({ tokens: { [tokenA]: 'acme' }, plugins: [plugin] });
  expect((await app.inject({ method: 'GET', url: '/v1/whoami' })).statusCode).toBe(401);
  expect((await app.inject({ method: 'GET', url: '/v1/whoami', headers: auth(tokenA) })).json()).toEqual({
    tenant: 'acme',
    workflowId: 'acme:x',
    memo: { nalarTenant: 'acme' },
  });
});

test('the OpenAPI document lists every route, and its schemas are valid JSON Schema that accept and refuse as the gateway does', async () => {
  const routes: string[] = [];
  const plugin: GatewayPlugin = (v1) => {
    v1.get('/runs/:id/events', async () => '');
    v1.post('/sessions/:id/messages', async () => ({}));
  };
  const app = gateway({
    tokens: { [tokenA]: 'acme' },
    plugins: [plugin],
    codec: { encode: async (p) => p, decode: async (p) => p },
  });
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) if (method !== 'HEAD') routes.push(`${method} ${r.url}`);
  });
  await app.ready();
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{
    openapi: string;
    paths: Record<string, Record<string, unknown>>;
    components: { schemas: Record<string, object> };
  }>();
  expect(doc.openapi).toBe('3.1.0');
  const documented = new Set(
    Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)),
  );
  const expected = routes.flatMap((r) => {
    if (r.endsWith('/v1/workflows/:name')) return Object.keys(workflowInputs).map((n) => `POST /v1/workflows/${n}`);
    if (r.endsWith('/v1/codec/:op')) return ['POST /v1/codec/decode', 'POST /v1/codec/encode'];
    return [r.replace(/:(\w+)/g, '{$1}')];
  });
  expect(expected.length).toBeGreaterThan(8);
  for (const r of expected) expect(documented).toContain(r);

  const ajv = new Ajv2020({ strict: false });
  for (const [name, schema] of Object.entries(doc.components.schemas))
    ajv.addSchema(schema, `#/components/schemas/${name}`);
  const validate = ajv.getSchema('#/components/schemas/helloAgentWorkflowInput');
  expect(validate?.({ question: 'why?' })).toBe(true);
  expect(validate?.({ question: 3 })).toBe(false);
  const error = ajv.getSchema('#/components/schemas/Error');
  const body = (
    await app.inject({ method: 'POST', url: '/v1/workflows/nope', headers: auth(tokenA), payload: {} })
  ).json();
  expect(error?.(body)).toBe(true);
  expect(z.object({ error: z.object({ code: z.string() }) }).parse(body).error.code).toBe('NALAR_ERR_NOT_FOUND');
});

test('the streams and sessions routes document themselves: summaries, the message body schema, their responses', async () => {
  const bus = new MemoryRunEventBus();
  const app = gateway({
    plugins: [createStreams({ bus }).streamRoutes, createSessionRoutes({ bus, idleTimeoutMs: 60_000 })],
  });
  await app.ready();
  type Operation = {
    summary: string;
    requestBody?: { content: Record<string, { schema: object }> };
    responses: Record<string, { content?: Record<string, { schema: object }> }>;
  };
  const { paths } = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{
    paths: Record<string, Record<string, Operation>>;
  }>();
  const events = paths['/v1/runs/{id}/events']?.get;
  expect(events?.summary).toMatch(/Server-Sent Events/);
  expect(Object.keys(events?.responses['200']?.content ?? {})).toEqual(['text/event-stream']);
  const message = paths['/v1/sessions/{id}/messages']?.post;
  expect(message?.summary).toMatch(/update-with-start/);
  const ajv = new Ajv2020({ strict: false });
  const validate = ajv.compile(message?.requestBody?.content['application/json']?.schema ?? {});
  expect(validate({ message: 'hi' })).toBe(true);
  expect(validate({})).toBe(false);
  expect(paths['/v1/sessions/{id}']?.get?.responses['404']).toBeDefined();
  expect(paths['/v1/sessions/{id}']?.delete?.summary).toMatch(/End a session/);
  await app.close();
  await bus.close();
});

test('/metrics counts requests by route pattern and status', async () => {
  const app = gateway();
  await app.inject({ method: 'POST', url: '/v1/workflows/helloAgentWorkflow', payload: {} });
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  expect(text).toMatch(
    /^nalar_gateway_requests_total\{route="\/v1\/workflows\/:name",method="POST",status="400"\} \d+$/m,
  );
  expect(text).toContain('nalar_gateway_request_duration_seconds_bucket');
});

test('the session routes refuse an unknown session workflow and an analyst turn with a bad field, naming them', async () => {
  const app = gateway({ plugins: [createSessionRoutes({ idleTimeoutMs: 60_000 })] });
  await app.ready();
  const post = (url: string, payload: object) =>
    app
      .inject({ method: 'POST', url, headers: auth(tokenA), payload })
      .then((r) => ({ status: r.statusCode, body: r.json<{ error: { code: string; message: string } }>() }));
  const unknown = await post('/v1/sessions/s1/messages?workflow=nope', { message: 'hi' });
  expect(unknown.status).toBe(400);
  expect(unknown.body.error.code).toBe('NALAR_ERR_INVALID_INPUT');
  expect(unknown.body.error.message).toMatch(/^workflow: expected one of chat, analyst, analyst-baseline/);
  const bad = await post('/v1/sessions/s1/messages?workflow=analyst', { message: 'hi', reportTokens: 0 });
  expect(bad.status).toBe(400);
  expect(bad.body.error.message).toMatch(/^reportTokens: /);
  await app.close();
});
