/**
 * Offloaded payloads as users see them, on the real dev server: a workflow with a large input and result
 * (offload on, default threshold) through `connectNalarClient` and a real worker; its history holds
 * `binary/nalar-blob` handles, which the codec server process (as `npm start` runs it) turns back into the
 * values over HTTP, and which the Temporal CLI prints as values with `--codec-endpoint`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { connectNalarClient } from '../client';
import { loadConfig, type NalarConfig } from '../common/config';
import { codecEndpointUrl } from '../data-plane/codec-server/codec-config';
import { codecRequests } from '../data-plane/codec-server/metrics';
import { startCodecServer } from '../data-plane/codec-server/server';
import { codecServerProcess } from '../data-plane/supervisor/codec-server-process';
import type { ManagedProcess } from '../data-plane/supervisor/managed-process';
import { freePort } from '../data-plane/supervisor/ports';
import { startQuietly } from '../data-plane/supervisor/start-quietly';
import { ClaimCheckCodec } from '../state/payloads/claim-check-codec';
import { blobStoreOf, nalarDataConverter } from '../state/payloads/data-converter';
import { bundle, connectTestEnv, testTemporalAddress, withNalarWorker, type NalarWorkflowBundle } from './temporal';

const run = promisify(execFile);

let env: TestWorkflowEnvironment;
let workflowBundle: NalarWorkflowBundle;
let config: NalarConfig;
let codec: ManagedProcess | undefined;
let codecUrl: string;
let client: Client;

const activities = {
  async expand(input: { text: string; times: number }): Promise<string> {
    return input.text.repeat(input.times);
  },
};

beforeAll(async () => {
  env = await connectTestEnv();
  workflowBundle = await bundle(path.join(__dirname, 'fixtures', 'workflows', 'echo.ts'));
  const port = await freePort();
  const processEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: testTemporalAddress(),
    NALAR_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'nalar-codec-int-')),
    NALAR_CODEC_PORT: String(port),
  };
  // The settings of a user's shell: offload on at its default threshold, one data folder for all.
  config = loadConfig({ env: processEnv });
  expect(config.payloadOffload).toBe(true);
  codecUrl = codecEndpointUrl('127.0.0.1', port);
  codec = await startQuietly(
    codecServerProcess({ host: '127.0.0.1', port, url: codecUrl, tokenRequired: false, env: processEnv }),
  );
  client = await connectNalarClient({ config });
});

afterAll(async () => {
  await client?.connection.close();
  await codec?.stop(10_000);
  await env?.teardown();
  if (config) rmSync(config.dataDir, { recursive: true, force: true });
});

/** Runs echoWorkflow on a real Nalar worker sharing the client's configuration; returns its id and result. */
async function runEcho(input: { text: string; times: number }) {
  return withNalarWorker(
    env,
    'codec',
    { workflowBundle, activities, dataConverter: nalarDataConverter(config) },
    async (taskQueue) => {
      const workflowId = `${taskQueue}-echo`;
      const result = await client.workflow.execute('echoWorkflow', { taskQueue, workflowId, args: [input] });
      return { workflowId, result: result as { text: string; length: number } };
    },
  );
}

const encodingOf = (p: temporal.api.common.v1.IPayload | undefined) =>
  new TextDecoder().decode(p?.metadata?.encoding ?? new Uint8Array());

/** A payload from history in protobuf JSON, as the Web UI sends it to the codec server. */
function toJson(p: temporal.api.common.v1.IPayload) {
  const b64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array(0)).toString('base64');
  const metadata = Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)]));
  return p.data?.length ? { metadata, data: b64(p.data) } : { metadata };
}

async function historyPayloads(workflowId: string) {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const input = events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  const result = events.find((e) => e.workflowExecutionCompletedEventAttributes)
    ?.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0];
  if (!input || !result) throw new Error('history has no input or result payload');
  return { input, result };
}

const text = 'Nalar agent answer. ';
const times = 200; // a 4 KB result, a 2 KB input: both above the default 1 KiB offload threshold
const expected = { text: text.repeat(times), length: text.length * times };

test('connectNalarClient round-trips a large input and result; history keeps handles; a plain client cannot read them', async () => {
  const bigInput = { text: 'i'.repeat(2000), times: 2 };
  const { workflowId, result } = await runEcho(bigInput);
  expect(result).toEqual({ text: 'i'.repeat(4000), length: 4000 });
  const { input, result: stored } = await historyPayloads(workflowId);
  expect(encodingOf(input)).toBe('binary/nalar-blob');
  expect(encodingOf(stored)).toBe('binary/nalar-blob');
  // What the README's old snippet ran into: a client without Nalar's data converter.
  const plain = new Client({ connection: client.connection });
  await expect(plain.workflow.getHandle(workflowId).result()).rejects.toThrow(/Unknown encoding: binary\/nalar-blob/);
});

test('the codec server process decodes a real offloaded result from history back into the original JSON', async () => {
  const { workflowId, result } = await runEcho({ text, times });
  expect(result).toEqual(expected);
  const { result: stored } = await historyPayloads(workflowId);
  expect(encodingOf(stored)).toBe('binary/nalar-blob');
  expect(stored.data?.length ?? 0).toBe(0);

  const res = await fetch(`${codecUrl}/decode`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-namespace': 'default', origin: 'http://127.0.0.1:8233' },
    body: JSON.stringify({ payloads: [toJson(stored)] }),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8233');
  const { payloads } = (await res.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
  const decoded: Payload = {
    metadata: Object.fromEntries(Object.entries(payloads[0]!.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(payloads[0]!.data, 'base64'),
  };
  expect(new TextDecoder().decode(decoded.metadata?.encoding)).toBe('json/plain');
  expect(JSON.parse(Buffer.from(payloads[0]!.data, 'base64').toString('utf8'))).toEqual(expected);
  expect(defaultPayloadConverter.fromPayload(decoded)).toEqual(expected);
});

describe('the Temporal CLI', () => {
  const cli = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
    run(process.env.NALAR_TEST_TEMPORAL_BIN as string, [...args, '--address', testTemporalAddress()], {
      maxBuffer: 16 * 1024 * 1024,
      env,
    });

  /** Decode requests this process's codec servers refused for want of the token. */
  const unauthorizedDecodes = async () =>
    (await codecRequests.get()).values.find(
      (v) => v.labels.route === 'decode' && v.labels.outcome === 'NALAR_ERR_UNAUTHORIZED',
    )?.value ?? 0;

  test('prints the decoded result with --codec-endpoint, and only a handle without it', async () => {
    const { workflowId } = await runEcho({ text, times });
    const without = await cli(['workflow', 'result', '--workflow-id', workflowId, '--output', 'json']);
    expect(without.stdout).toContain('nalar-blob');
    expect(without.stdout).not.toContain(text);

    const decoded = await cli([
      'workflow',
      'result',
      '--workflow-id',
      workflowId,
      '--output',
      'json',
      '--codec-endpoint',
      codecUrl,
    ]);
    expect(decoded.stdout).not.toContain('nalar-blob');
    expect(decoded.stdout).toContain(text.repeat(3));
    expect(JSON.parse(decoded.stdout)).toMatchObject({ result: expected });
    // The README's shortcut: the endpoint from the environment, for every command.
    const args = ['workflow', 'result', '--workflow-id', workflowId, '--output', 'json'];
    const fromEnv = await cli(args, { ...process.env, TEMPORAL_CODEC_ENDPOINT: codecUrl });
    expect(JSON.parse(fromEnv.stdout)).toMatchObject({ result: expected });
  });

  test('sends the token with --codec-auth to a codec server that requires one', async () => {
    const { workflowId } = await runEcho({ text, times });
    const token = 'codec-test-token-0123456789';
    const server = await startCodecServer({
      codec: new ClaimCheckCodec({ store: blobStoreOf(config) }),
      allowedOrigins: [],
      token,
      host: '127.0.0.1',
      port: 0,
    });
    try {
      const args = ['workflow', 'result', '--workflow-id', workflowId, '--output', 'json'];
      const ok = await cli([...args, '--codec-endpoint', server.url, '--codec-auth', `Bearer ${token}`]);
      expect(JSON.parse(ok.stdout)).toMatchObject({ result: expected });
      // Without the token the server refuses the CLI, which then fails (after its own deadline: it retries).
      const refusedBefore = await unauthorizedDecodes();
      const show = [
        'workflow',
        'show',
        '--workflow-id',
        workflowId,
        '--output',
        'json',
        '--codec-endpoint',
        server.url,
      ];
      await expect(cli(show)).rejects.toMatchObject({ code: 1 });
      expect(await unauthorizedDecodes()).toBeGreaterThan(refusedBefore);
    } finally {
      await server.close();
    }
  });
});
