/**
 * A worker process killed (SIGKILL) in the middle of a workflow, and another worker that finishes it:
 * futures keep their ids (they derive from the workflow id and call order, not from the process), and a
 * ManagedList append made by the killed attempt is not applied again by the retry.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ManagedList } from '../state/managed';
import { killMidway } from './helpers/kill-midway';
import { connectTestEnv } from './temporal';

// Both workers (the killed child process and this one) keep session state in the same folder.
process.env.NALAR_DATA_DIR = mkdtempSync(path.join(os.tmpdir(), 'nalar-restart-'));

// Each test starts a worker process (tsx, workflow bundling): slow on a loaded machine, so a roomy deadline.
jest.setTimeout(180_000);

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await connectTestEnv();
});

afterAll(async () => {
  await env?.teardown();
});

test('a workflow whose worker is killed finishes on another worker with the same future ids', async () => {
  const { result, workflowId, events } = await killMidway<{ ids: string[]; values: number[] }>(
    env,
    'killableWorkflow',
    [],
    2,
  );
  const ids = [1, 2, 3].map((n) => `${workflowId}/${n}`);
  expect(result).toEqual({ ids, values: [1, 1, 1] });
  // The new worker retried the killed call and ran the last one under the same ids.
  expect(events.filter((e) => e.type === 'started').map((e) => e.futureId)).toEqual([ids[1], ids[2]]);
  expect(events.filter((e) => e.type === 'completed').map((e) => e.futureId)).toEqual([ids[1], ids[2]]);
});

test('an append made by a killed attempt is applied exactly once when the activity is retried', async () => {
  const sessionId = `session-${Date.now()}`;
  const turns = new ManagedList<string>('turns', { sessionId });
  // Killed once the append is in the store, as the test means. Not inside the write, where the dead worker's file
  // lock would hold the session until it is stale (30 s) and the retries' 2 s heartbeat timeouts would run out
  // first: the append is visible before its lock is released, so killMidway also waits for the call's first
  // heartbeat, which follows the append's return.
  const { result } = await killMidway<number>(env, 'appendOnceWorkflow', [sessionId], 1, {
    killWhen: async () => (await turns.range()).includes('hello'),
  });
  expect(result).toBe(1); // the retry appended "again" with the same idempotency key: not applied
  expect(await turns.range()).toEqual(['hello']);
});
