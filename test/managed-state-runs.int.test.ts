/**
 * Managed-state writes across workflow runs, on every state backend: a session that continues as new, a
 * workflow id reused after the first execution completed, and a killed attempt retried in the second run.
 * Each run's writes are new writes; within one run a retried activity applies its writes once.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { definitions } from '../activities/agents';
import { closeDefaultSessionStore, defaultSessionStore, ManagedList } from '../state/managed';
import type { SessionStoreBackend } from '../state/session-store';
import { probe } from './fixtures/probe-tool';
import type { appendEveryRunWorkflow } from './fixtures/workflows/futures';
import { futuresWorkflowBundle, killMidway } from './helpers/kill-midway';
import { connectTestEnv, withNalarWorker } from './temporal';

// The kill tests start a worker process (tsx, workflow bundling): slow on a loaded machine, so a roomy deadline.
jest.setTimeout(180_000);

// The filesystem backend: both workers of the kill test (a child process and this one) share this folder.
process.env.NALAR_DATA_DIR = mkdtempSync(path.join(os.tmpdir(), 'nalar-runs-'));

const backends: SessionStoreBackend[] = ['filesystem', 'redis', 'postgres'];

let env: TestWorkflowEnvironment;
let sessionId: string;

beforeAll(async () => {
  env = await connectTestEnv();
});

afterAll(async () => {
  await env?.teardown();
});

/** Points this process's managed state, and worker processes it starts, at `backend`; a fresh session. */
async function useBackend(backend: SessionStoreBackend): Promise<void> {
  process.env.NALAR_STATE_BACKEND = backend;
  await closeDefaultSessionStore();
  sessionId = `runs-${backend}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
}

afterEach(async () => {
  try {
    await (await defaultSessionStore()).dropNamespace(sessionId);
  } finally {
    await closeDefaultSessionStore();
    delete process.env.NALAR_STATE_BACKEND;
  }
});

function turns(): Promise<string[]> {
  return new ManagedList<string>('turns', { sessionId }).range();
}

/** Runs `fn` while an in-process worker of the fixture workflows serves a task queue of its own. */
async function withWorker<R>(fn: (taskQueue: string) => Promise<R>): Promise<R> {
  const options = { workflowBundle: await futuresWorkflowBundle(), definitions: [...definitions, probe] };
  return withNalarWorker(env, 'runs', options, fn);
}

/** True when the handle's latest run is not its first one (the workflow did continue as new). */
async function continuedAsNew(handle: WorkflowHandleWithFirstExecutionRunId): Promise<boolean> {
  return (await handle.describe()).runId !== handle.firstExecutionRunId;
}

test.each(backends)(
  '%s: a session that continues as new keeps the appends of both runs, once each',
  async (backend) => {
    await useBackend(backend);
    const { length, moved } = await withWorker(async (taskQueue) => {
      const handle = await env.client.workflow.start<typeof appendEveryRunWorkflow>('appendEveryRunWorkflow', {
        taskQueue,
        workflowId: `${taskQueue}-wf`,
        args: [{ sessionId, value: 'turn', runs: 2 }],
      });
      return { length: await handle.result(), moved: await continuedAsNew(handle) };
    });
    expect(moved).toBe(true);
    expect(length).toBe(2);
    expect(await turns()).toEqual(['turn#1', 'turn#2']);
  },
);

test.each(backends)('%s: a workflow id reused after its first execution completed appends again', async (backend) => {
  await useBackend(backend);
  const lengths = await withWorker(async (taskQueue) => {
    const options = { taskQueue, workflowId: `${taskQueue}-conversation` };
    const first = await env.client.workflow.execute<typeof appendEveryRunWorkflow>('appendEveryRunWorkflow', {
      ...options,
      args: [{ sessionId, value: 'first', runs: 1 }],
    });
    const second = await env.client.workflow.execute<typeof appendEveryRunWorkflow>('appendEveryRunWorkflow', {
      ...options,
      args: [{ sessionId, value: 'second', runs: 1 }],
    });
    return [first, second];
  });
  expect(lengths).toEqual([1, 2]);
  expect(await turns()).toEqual(['first#1', 'second#1']);
});

test.each(backends)(
  '%s: after continue-as-new, an append whose worker is killed is applied once by the retry',
  async (backend) => {
    await useBackend(backend);
    const { result, handle } = await killMidway<number>(
      env,
      'appendEveryRunWorkflow',
      // Run 2's first attempt works on long after its append, so the kill lands in that work however slowly
      // a loaded machine reaches it (the kill ends the wait; the retry returns at once).
      [{ sessionId, value: 'turn', runs: 2, lastWaitMs: 20_000 }],
      1,
      // Kill only once run 2's append is in the store: the retry then has a write to repeat. (killMidway also
      // waits for the call's first heartbeat, which follows the append: the kill never lands inside the write.)
      { killWhen: async () => (await turns()).length === 2 },
    );
    expect(result).toBe(2);
    expect(await turns()).toEqual(['turn#1', 'turn#2']);
    // The append that completed in run 2 was a retry, not the killed attempt finishing after all.
    expect(await continuedAsNew(handle)).toBe(true);
    const started = (await handle.fetchHistory()).events?.flatMap((e) => e.activityTaskStartedEventAttributes ?? []);
    expect(started?.map((s) => s.attempt)).toEqual([expect.any(Number)]);
    expect(started?.[0]?.attempt).toBeGreaterThan(1);
  },
  120_000,
);
