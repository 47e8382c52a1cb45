import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import { FileBlobStore } from '../../state/payloads/blob-store';
import { ClaimCheckCodec } from '../../state/payloads/claim-check-codec';
import { buildCodecApp, type CodecAppOptions } from './app';
import {
  codecAllowedOrigins,
  codecEndpointUrl,
  codecListenOptions,
  isLoopback,
  type CodecSettings,
} from './codec-config';
import { startCodecServer } from './server';

const uiOrigin = 'http://127.0.0.1:8233';
const token = 'a-token-of-sufficient-length';

async function setup(options: Partial<CodecAppOptions> = {}) {
  const store = new FileBlobStore(mkdtempSync(path.join(os.tmpdir(), 'nalar-codec-')));
  await store.waitUntilReady();
  const codec = new ClaimCheckCodec({ store, thresholdBytes: 1024 });
  const app = buildCodecApp({ codec, allowedOrigins: [uiOrigin, 'http://localhost:8233'], ...options });
  apps.push(app);
  return { app, codec, store };
}

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

const b64 = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? new Uint8Array(0)).toString('base64');

/** A payload in protobuf JSON, as the Web UI and CLI send it. */
function json(p: Payload) {
  const metadata = Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v ?? undefined)]));
  return p.data && p.data.length ? { metadata, data: b64(p.data) } : { metadata };
}

/** The value a payload in protobuf JSON stands for. */
function valueOf(p: { metadata: Record<string, string>; data?: string }): unknown {
  return defaultPayloadConverter.fromPayload({
    metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data ?? '', 'base64'),
  });
}

async function offloaded(codec: ClaimCheckCodec, value: unknown) {
  const [handle] = await codec.encode([defaultPayloadConverter.toPayload(value)]);
  return json(handle as Payload);
}

const post = (app: FastifyInstance, url: string, payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, payload: payload as object, headers: { 'x-namespace': 'default', ...headers } });

test('decodes a handle into the original payload and passes other payloads through exactly', async () => {
  const { app, codec } = await setup();
  const big = { answer: 'é'.repeat(5000) };
  const handle = await offloaded(codec, big);
  expect(Buffer.from(handle.metadata.encoding as string, 'base64').toString()).toBe('binary/nalar-blob');
  const small = { ...json(defaultPayloadConverter.toPayload({ hi: 1 })), externalPayloads: [] };
  const res = await post(app, '/decode', { payloads: [handle, small] });
  expect(res.statusCode).toBe(200);
  const body = res.json<{ payloads: { metadata: Record<string, string>; data?: string }[] }>();
  expect(body.payloads).toHaveLength(2);
  expect(valueOf(body.payloads[0]!)).toEqual(big);
  expect(Buffer.from(body.payloads[0]!.metadata.encoding as string, 'base64').toString()).toBe('json/plain');
  expect(body.payloads[1]).toEqual(small);
});

test('only the last path segment selects the operation; encode offloads a large payload', async () => {
  const { app, store } = await setup();
  const big = json(defaultPayloadConverter.toPayload('x'.repeat(4000)));
  const encoded = await post(app, '/some/prefix/encode', { payloads: [big] });
  expect(encoded.statusCode).toBe(200);
  const [handle] = encoded.json<{ payloads: { metadata: Record<string, string> }[] }>().payloads;
  expect(Buffer.from(handle!.metadata.encoding as string, 'base64').toString()).toBe('binary/nalar-blob');
  expect(await store.list()).toHaveLength(1);
  const decoded = await post(app, '/default/decode', { payloads: [handle] });
  expect(decoded.json()).toEqual({ payloads: [big] });
  expect((await post(app, '/transcode', { payloads: [] })).statusCode).toBe(404);
});

test('decoding never writes to the blob store', async () => {
  const { app, store } = await setup();
  const big = json(defaultPayloadConverter.toPayload('y'.repeat(4000)));
  expect((await post(app, '/decode', { payloads: [big] })).json()).toEqual({ payloads: [big] });
  expect(await store.list()).toEqual([]);
});

test('answers the Web UI preflight and its POST with CORS headers for its origin', async () => {
  const { app, codec } = await setup();
  const preflight = await app.inject({
    method: 'OPTIONS',
    url: '/decode',
    headers: {
      origin: uiOrigin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,x-namespace',
    },
  });
  expect(preflight.statusCode).toBe(204);
  expect(preflight.headers['access-control-allow-origin']).toBe(uiOrigin);
  expect(preflight.headers['access-control-allow-credentials']).toBe('true');
  expect(preflight.headers['access-control-allow-methods']).toContain('POST');
  const allowed = String(preflight.headers['access-control-allow-headers']).toLowerCase();
  for (const h of ['content-type', 'x-namespace', 'authorization']) expect(allowed).toContain(h);

  const res = await post(
    app,
    '/decode',
    { payloads: [await offloaded(codec, 'z'.repeat(2000))] },
    { origin: uiOrigin },
  );
  expect(res.statusCode).toBe(200);
  expect(res.headers['access-control-allow-origin']).toBe(uiOrigin);
  expect(res.headers.vary).toContain('Origin');
});

test('refuses any other web page by origin, preflight and POST alike', async () => {
  const { app } = await setup();
  const evil = 'http://evil.example';
  const preflight = await app.inject({ method: 'OPTIONS', url: '/decode', headers: { origin: evil } });
  expect(preflight.statusCode).toBe(403);
  expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  const res = await post(app, '/encode', { payloads: [] }, { origin: evil });
  expect(res.statusCode).toBe(403);
  expect(res.json()).toMatchObject({ error: { code: 'NALAR_ERR_UNAUTHORIZED' } });
});

test('with a token, refuses requests without it or with another one, and accepts the bearer token', async () => {
  const { app, codec } = await setup({ token });
  const body = { payloads: [await offloaded(codec, 'w'.repeat(2000))] };
  const none = await post(app, '/decode', body);
  expect(none.statusCode).toBe(401);
  expect(none.json()).toMatchObject({ error: { code: 'NALAR_ERR_UNAUTHORIZED' } });
  expect(none.json().error.message).toContain('--codec-auth');
  const wrong = await post(app, '/decode', body, { authorization: 'Bearer not-the-token' });
  expect(wrong.statusCode).toBe(401);
  expect(JSON.stringify(wrong.json())).not.toContain(token);
  expect((await post(app, '/decode', body, { authorization: token })).statusCode).toBe(401); // not a bearer
  const ok = await post(app, '/decode', body, { authorization: `Bearer ${token}` });
  expect(ok.statusCode).toBe(200);
  // A preflight carries no credentials and needs none.
  const preflight = await app.inject({ method: 'OPTIONS', url: '/decode', headers: { origin: uiOrigin } });
  expect(preflight.statusCode).toBe(204);
});

test.each([
  ['not JSON', '{"payloads": [', 'application/json', 400],
  ['no payloads', { nope: [] }, 'application/json', 400],
  ['payloads not an array', { payloads: 'x' }, 'application/json', 400],
  ['data not base64', { payloads: [{ metadata: {}, data: 'not base64!' }] }, 'application/json', 400],
  ['metadata value not a string', { payloads: [{ metadata: { encoding: 5 } }] }, 'application/json', 400],
  // A web page can send text/plain without a preflight: such a body is never read as payloads.
  ['JSON sent as text/plain', '{"payloads": []}', 'text/plain', 400],
])('a bad body (%s) is answered with a clear error, not a crash', async (_what, payload, type, status) => {
  const { app } = await setup();
  const res = await app.inject({
    method: 'POST',
    url: '/decode',
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    headers: { 'content-type': type },
  });
  expect(res.statusCode).toBe(status);
  expect(res.json()).toMatchObject({ error: { code: 'NALAR_ERR_INVALID_INPUT', message: expect.any(String) } });
});

test('a body over the limit is refused with 413', async () => {
  const { app } = await setup({ bodyLimitBytes: 1024 });
  const res = await post(app, '/decode', { payloads: [{ metadata: {}, data: 'A'.repeat(2000) }] });
  expect(res.statusCode).toBe(413);
  expect(res.json()).toMatchObject({ error: { code: 'NALAR_ERR_INVALID_INPUT' } });
});

test('a handle whose blob is missing fails that request with NALAR_ERR_BLOB_MISSING; the server keeps serving', async () => {
  const { app, codec, store } = await setup();
  const handle = await offloaded(codec, 'v'.repeat(3000));
  const [hash] = await store.list();
  await store.deleteIfUnusedSince(hash as string, Number.POSITIVE_INFINITY);
  const res = await post(app, '/decode', { payloads: [handle] });
  expect(res.statusCode).toBe(404);
  expect(res.json()).toMatchObject({ error: { code: 'NALAR_ERR_BLOB_MISSING' } });
  expect(res.json().error.message).toContain(hash);
  const malformed = { metadata: { encoding: handle.metadata.encoding } }; // no nalar-blob hash
  expect((await post(app, '/decode', { payloads: [malformed] })).json()).toMatchObject({
    error: { code: 'NALAR_ERR_INVALID_INPUT' },
  });
  expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
});

test('/metrics counts requests and decoded bytes', async () => {
  const { app, codec } = await setup();
  await post(app, '/decode', { payloads: [await offloaded(codec, 'm'.repeat(2000))] });
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  expect(metrics).toMatch(/^nalar_codec_requests_total\{route="decode",outcome="ok"\} [1-9]/m);
  expect(metrics).toMatch(/^nalar_codec_bytes_total\{route="decode"\} [1-9]\d{3,}/m);
  expect(metrics).toMatch(/^nalar_codec_payloads_total\{route="decode"\} [1-9]/m);
});

describe('listening options', () => {
  const settings: CodecSettings = {
    codecHost: '127.0.0.1',
    codecPort: 8234,
    codecToken: undefined,
    codecCorsOrigins: undefined,
    devServerUiPort: 8233,
  };

  test('loopback needs no token; the embedded Web UI is the default origin under both names', () => {
    expect(codecListenOptions(settings)).toEqual({
      host: '127.0.0.1',
      port: 8234,
      allowedOrigins: ['http://127.0.0.1:8233', 'http://localhost:8233'],
    });
    expect(codecAllowedOrigins({ codecCorsOrigins: 'https://ui.example,http://a:1', devServerUiPort: 1 })).toEqual([
      'https://ui.example',
      'http://a:1',
    ]);
    expect(['127.0.0.1', '127.1.2.3', 'localhost', '::1'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '10.0.0.5', '::'].some(isLoopback)).toBe(false);
  });

  test('refuses to expose the server beyond loopback without a token', () => {
    expect(() => codecListenOptions({ ...settings, codecHost: '0.0.0.0' })).toThrow(
      expect.objectContaining({
        code: 'NALAR_ERR_CONFIG_INVALID',
        message: expect.stringContaining('NALAR_CODEC_TOKEN'),
      }),
    );
    expect(codecListenOptions({ ...settings, codecHost: '0.0.0.0', codecToken: token }).token).toBe(token);
    // A short token is refused without printing it.
    const short = 'short-secret';
    expect(() => codecListenOptions({ ...settings, codecToken: short })).toThrow(/NALAR_CODEC_TOKEN is too short/);
    expect(() => codecListenOptions({ ...settings, codecToken: short })).not.toThrow(new RegExp(short));
    expect(codecEndpointUrl('0.0.0.0', 8234)).toBe('http://127.0.0.1:8234');
  });
});

test('on a real port it serves the protocol and names a taken port', async () => {
  const store = new FileBlobStore(mkdtempSync(path.join(os.tmpdir(), 'nalar-codec-')));
  const codec = new ClaimCheckCodec({ store, thresholdBytes: 1024 });
  const server = await startCodecServer({ codec, allowedOrigins: [uiOrigin], host: '127.0.0.1', port: 0 });
  try {
    const body = { payloads: [await offloaded(codec, { long: 'l'.repeat(3000) })] };
    const res = await fetch(`${server.url}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': 'default' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    const [payload] = ((await res.json()) as { payloads: { metadata: Record<string, string>; data?: string }[] })
      .payloads;
    expect(valueOf(payload!)).toEqual({ long: 'l'.repeat(3000) });
    const port = Number(new URL(server.url).port);
    await expect(startCodecServer({ codec, allowedOrigins: [], host: '127.0.0.1', port })).rejects.toMatchObject({
      code: 'NALAR_ERR_PORT_IN_USE',
      message: expect.stringContaining('NALAR_CODEC_PORT'),
    });
  } finally {
    await server.close();
  }
});
