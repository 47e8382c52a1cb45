/**
 * Payload offload on the real dev server: with the claim-check codec on worker and client, a long
 * conversation adds only handles to workflow history, and workflow, activity and client all see the
 * full values.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { nalarDataConverter } from '../state/payloads/data-converter';
import { bundle, connectTestEnv, uniqueTaskQueue, type NalarWorkflowBundle } from './temporal';

let env: TestWorkflowEnvironment;
let workflowBundle: NalarWorkflowBundle;

beforeAll(async () => {
  env = await connectTestEnv();
  workflowBundle = await bundle(path.join(__dirname, 'fixtures', 'workflows', 'conversation.ts'));
});

afterAll(async () => {
  await env?.teardown();
});

const activities = {
  async addTurn(input: { conversation: string; turn: number; bytes: number }): Promise<string> {
    return `${input.conversation}\n[turn ${input.turn}] ${'x'.repeat(input.bytes)}`;
  },
};

/**
 * Runs `workflowType` on a fresh worker and client sharing one data converter (offload on or off, with a
 * fresh blob folder); returns its result and the encoded size of its history.
 */
async function runWithOffload<T>(offload: boolean, threshold: number, workflowType: string, input: unknown) {
  const dataConverter = nalarDataConverter({
    payloadOffload: offload,
    payloadOffloadBytes: threshold,
    dataDir: mkdtempSync(path.join(os.tmpdir(), 'nalar-offload-')),
  });
  const client = new Client({ connection: env.connection, dataConverter });
  const taskQueue = uniqueTaskQueue('offload');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle,
    activities,
    dataConverter,
  });
  const workflowId = `${taskQueue}-wf`;
  const result = (await worker.runUntil(
    client.workflow.execute(workflowType, { taskQueue, workflowId, args: [input] }),
  )) as T;
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return { result, history, historyBytes: temporal.api.history.v1.History.encode(history).finish().length };
}

/** The conversation loop: `steps` turns of `bytesPerTurn` each, starting from `conversation`. */
function converse(offload: boolean, conversation: string, steps: number, bytesPerTurn: number, threshold = 65_536) {
  return runWithOffload<{ length: number; tail: string }>(offload, threshold, 'conversationWorkflow', {
    conversation,
    steps,
    bytesPerTurn,
  });
}

test('without offload the conversation fills history; with it, history keeps handles', async () => {
  // Sized so the plain history (~3 MB) can still be fetched (gRPC's 4 MB message limit).
  const plain = await converse(false, '', 8, 40_000);
  const offloaded = await converse(true, '', 8, 40_000, 4096);
  expect(offloaded.result).toEqual(plain.result); // same values everywhere
  expect(plain.historyBytes).toBeGreaterThan(2_500_000);
  expect(offloaded.historyBytes).toBeLessThan(plain.historyBytes / 100);
});

test('a 5 MB conversation passes through a 100-step agent loop; history grows by at most 1 KB a step', async () => {
  const start = 'c'.repeat(5 * 1024 * 1024);
  const ten = await converse(true, start, 10, 100);
  const hundred = await converse(true, start, 100, 100);
  let expected = start.length;
  for (let turn = 1; turn <= 100; turn++) expected += `\n[turn ${turn}] `.length + 100;
  expect(hundred.result.length).toBe(expected);
  const perStep = (hundred.historyBytes - ten.historyBytes) / 90;
  expect(perStep).toBeLessThan(1024);
}, 180_000);

test('a long session continues as new with its large state carried as a handle', async () => {
  const start = 'c'.repeat(1024 * 1024);
  const { result, history, historyBytes } = await runWithOffload<{ length: number; runs: number }>(
    true,
    4096,
    'longConversationWorkflow',
    { conversation: start, turnsLeft: 30, bytesPerTurn: 10 },
  );
  let expected = start.length;
  for (let turn = 1; turn <= 30; turn++) expected += `\n[turn ${turn}] `.length + 10;
  expect(result).toEqual({ length: expected, runs: expect.any(Number) });
  expect(result.runs).toBeGreaterThan(1);
  // The last run began with the 1 MB conversation as its input: a handle in its history, not the value.
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const encoding = new TextDecoder().decode(started?.input?.payloads?.[0]?.metadata?.encoding ?? new Uint8Array());
  expect(encoding).toBe('binary/nalar-blob');
  expect(historyBytes).toBeLessThan(64 * 1024);
});
