/**
 * Session placement on the real dev server: `moveSession` transfers ownership (compare-and-set), the old
 * owner drops its cached copy and the new owner warms its cache — across real worker processes, observed
 * through their /metrics — plus the failure cases a control plane will meet.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { setDefaultSessionStore } from '../state/managed';
import { createFileSessionStore, type SessionStore } from '../state/session-store';
import { hasErrorCode, ErrorCode } from '../common/errors';
import { moveSession, moveSessionWorkflowId } from '../state/placement/move-session';
import { ManagedProcess } from '../data-plane/supervisor/managed-process';
import { waitForReadyMessage } from '../data-plane/supervisor/readiness';
import { createNalarWorker } from '../data-plane/worker/worker';
import { waitFor } from './helpers/wait-for';
import {
  bundle,
  connectTestEnv,
  testTemporalAddress,
  uniqueTaskQueue,
  withNalarWorker,
  type NalarWorkflowBundle,
} from './temporal';

// Starts two worker processes (tsx, workflow bundling): slow on a loaded machine, so a roomy deadline.
jest.setTimeout(180_000);

let env: TestWorkflowEnvironment;
let workflowBundle: NalarWorkflowBundle;
let dataDir: string;
let store: SessionStore;
const taskQueue = uniqueTaskQueue('placement');
const placementWorkers = new Map<string, { proc: ManagedProcess; metricsUrl: string }>();
let mainWorker: Worker;
let mainRun: Promise<void>;

async function startPlacementWorker(workerId: string): Promise<void> {
  const output: string[] = [];
  const proc = await ManagedProcess.start(
    {
      name: workerId,
      command: path.join(__dirname, 'fixtures', 'placement-worker.ts'),
      nodeModule: true,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: testTemporalAddress(),
        NALAR_TASK_QUEUE: taskQueue,
        NALAR_WORKER_ID: workerId,
        NALAR_DATA_DIR: dataDir,
        NALAR_STATE_BACKEND: 'filesystem',
      },
    },
    (_n, _s, line) => output.push(line),
  );
  let metricsUrl = '';
  await waitForReadyMessage(
    proc,
    (m) => {
      const url = (m as { metricsUrl?: unknown })?.metricsUrl;
      if (typeof url === 'string') metricsUrl = url;
      return typeof url === 'string';
    },
    120_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${output.join('\n')}`);
  });
  placementWorkers.set(workerId, { proc, metricsUrl });
}

/** One sample of a worker's metrics (0 when absent). */
async function metric(workerId: string, sample: string): Promise<number> {
  const text = await (await fetch(placementWorkers.get(workerId)!.metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

beforeAll(async () => {
  env = await connectTestEnv();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'nalar-placement-'));
  // This process (the test, and the in-process main worker) shares the state folder with the workers.
  store = createFileSessionStore(path.join(dataDir, 'state'));
  await store.waitUntilReady();
  setDefaultSessionStore(store);
  process.env.NALAR_TASK_QUEUE = taskQueue;
  // The main worker runs a user's own barrels that know nothing of session moves: the framework registers
  // moveSessionWorkflow and transferSessionOwnership itself.
  workflowBundle = await bundle(path.join(__dirname, 'fixtures', 'workflows', 'own-barrel.ts'));
  await Promise.all([startPlacementWorker('w-a'), startPlacementWorker('w-b')]);
  mainWorker = await createNalarWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    workflowBundle,
    activities: {},
    definitions: [],
  });
  mainRun = mainWorker.run();
});

afterAll(async () => {
  if (mainWorker?.getState() === 'RUNNING') mainWorker.shutdown();
  await mainRun;
  await Promise.all([...placementWorkers.values()].map((w) => w.proc.stop(5_000)));
  delete process.env.NALAR_TASK_QUEUE;
  await store?.close();
  await env?.teardown();
  rmSync(dataDir, { recursive: true, force: true });
});

test('moves a session between workers: ownership, warm target, dropped source', async () => {
  await store.put('s1', 'map:profile:user', JSON.stringify({ name: 'Ada' }));
  for (let i = 0; i < 5; i++) await store.append('s1', 'list:conversation', JSON.stringify(`turn ${i}`));

  const first = await moveSession(env.client, 's1', 'w-a', { taskQueue });
  expect(first).toMatchObject({ sessionId: 's1', to: 'w-a', epoch: 1, dropped: false, notes: [] });
  expect(first.from).toBeUndefined();
  expect(first.warmed).toMatchObject({ epoch: 1, keys: 1, lists: 1 });
  expect(await store.getOwner('s1')).toEqual({ owner: 'w-a', epoch: 1 });
  expect(await metric('w-a', 'nalar_state_cache_events_total{event="warm"}')).toBe(1);
  expect(await metric('w-a', 'nalar_state_cache_bytes')).toBe(first.warmed!.bytes);

  const second = await moveSession(env.client, 's1', 'w-b', { taskQueue });
  expect(second).toMatchObject({ from: 'w-a', to: 'w-b', epoch: 2, dropped: true, notes: [] });
  expect(second.warmed).toMatchObject({ epoch: 2, keys: 1, lists: 1, bytes: first.warmed!.bytes });
  expect(await store.getOwner('s1')).toEqual({ owner: 'w-b', epoch: 2 });
  expect(await metric('w-a', 'nalar_state_cache_bytes')).toBe(0);
  expect(await metric('w-a', 'nalar_state_cache_events_total{event="invalidation"}')).toBe(1);
  expect(await metric('w-b', 'nalar_state_cache_bytes')).toBe(first.warmed!.bytes);

  // Moving to the current owner changes nothing.
  expect(await moveSession(env.client, 's1', 'w-b', { taskQueue })).toMatchObject({ epoch: 2, dropped: false });
});

test('a move to a worker that is gone still transfers ownership, and says why nothing was warmed', async () => {
  await store.append('s2', 'list:conversation', '"hello"');
  const result = await moveSession(env.client, 's2', 'w-gone', { taskQueue, workerTimeoutMs: 1_000 });
  expect(result).toMatchObject({ to: 'w-gone', epoch: 1, dropped: false });
  expect(result.warmed).toBeUndefined();
  expect(result.notes).toEqual([expect.stringMatching(/^new owner w-gone: .*(timeout|timed out)/i)]);
  expect(await store.getOwner('s2')).toEqual({ owner: 'w-gone', epoch: 1 });
});

test('a second move of the same session while one runs is rejected as a conflict', async () => {
  // The first move waits for a worker that never comes (for a minute: it must still run when the second
  // starts, however slow the machine), and is ended by the test.
  const slow = moveSession(env.client, 's3', 'w-gone', { taskQueue, workerTimeoutMs: 60_000 });
  const ended = slow.catch((e: unknown) => e);
  // Ownership has moved: the first move is under way, waiting to warm w-gone.
  await waitFor(async () => (await store.getOwner('s3'))?.owner === 'w-gone', {
    what: 'the first move to transfer ownership of s3',
  });
  const err = await moveSession(env.client, 's3', 'w-a', { taskQueue }).catch((e: unknown) => e);
  expect(hasErrorCode(err, ErrorCode.STATE_CONFLICT)).toBe(true);
  expect((err as Error).message).toContain('already being moved');
  await env.client.workflow.getHandle(moveSessionWorkflowId('s3')).terminate('test over');
  expect(await ended).toBeInstanceOf(WorkflowFailedError);
});

test('a bad worker id fails the move with a typed, non-retried failure', async () => {
  const err = await moveSession(env.client, 's4', 'not a worker id!', { taskQueue }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const failure = (err as WorkflowFailedError).cause?.cause as { type?: string; message?: string } | undefined;
  expect(failure?.type).toBe('NALAR_ERR_INVALID_INPUT');
  expect(failure?.message).toContain('to: must be 1-64 letters');
  expect(await store.getOwner('s4')).toBeUndefined();
});

test('the move workflow replays from its history', async () => {
  await moveSession(env.client, 's5', 'w-a', { taskQueue });
  const history = await env.client.workflow.getHandle('nalar-move-session:s5').fetchHistory();
  await expect(Worker.runReplayHistory({ workflowBundle }, history, 'move-s5')).resolves.toBeUndefined();
});

test('a user workflow named like a framework workflow fails every task of the worker, naming it', async () => {
  const workflowBundle = await bundle(path.join(__dirname, 'fixtures', 'workflows', 'clashing-barrel.ts'));
  const failure = await withNalarWorker(
    env,
    'clash',
    { workflowBundle, activities: {}, definitions: [] },
    async (taskQueue) => {
      const handle = await env.client.workflow.start('greetWorkflow', {
        taskQueue,
        workflowId: `clash-${taskQueue}`,
        args: ['Ada'],
      });
      const failed = await waitFor(
        async () => {
          const { events } = await handle.fetchHistory();
          return events?.find((e) => e.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes?.failure;
        },
        { what: 'a failed workflow task' },
      );
      await handle.terminate('test done');
      return failed;
    },
  );
  expect(failure.message).toContain('moveSessionWorkflow are reserved by Nalar');
});
