/**
 * A worker process killed (SIGKILL) in the middle of a workflow, and another worker that finishes it:
 * futures keep their ids (they derive from the workflow id and call order, not from the process), and a
 * ManagedList append made by the killed attempt is not applied again by the retry.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { definitions } from '../activities/agents';
import { ManagedList } from '../state/managed';
import { LocalController } from '../control-plane/local-controller/local-controller';
import { ManagedProcess } from '../data-plane/supervisor/managed-process';
import { waitForReadyMessage } from '../data-plane/supervisor/readiness';
import { createNalarWorker } from '../data-plane/worker/worker';
import { probe } from './fixtures/probe-tool';
import { waitFor } from './helpers/wait-for';
import { bundle, connectTestEnv, testTemporalAddress, uniqueTaskQueue } from './temporal';

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

/**
 * Starts `workflowType` on a worker in a child process, SIGKILLs that process once the activity of future
 * `<workflowId>/<killDuring>` has started, and lets a fresh in-process worker finish the workflow.
 */
async function killMidway<T>(workflowType: string, args: unknown[], killDuring: number) {
  const taskQueue = uniqueTaskQueue('restart');
  const output: string[] = [];
  const first = await ManagedProcess.start(
    {
      name: 'doomed-worker',
      command: path.join(__dirname, 'fixtures', 'futures-worker.ts'),
      nodeModule: true,
      env: { ...process.env, TEMPORAL_ADDRESS: testTemporalAddress(), NALAR_TASK_QUEUE: taskQueue },
    },
    (_n, _s, line) => output.push(line),
  );
  try {
    await waitForReadyMessage(first, (m) => (m as { type?: string })?.type === 'ready', 120_000);
    const workflowId = `${taskQueue}-wf`;
    const handle: WorkflowHandle = await env.client.workflow.start(workflowType, { taskQueue, workflowId, args });
    await waitFor(
      async () => {
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        return pending.some((a) => a.activityId === `${workflowId}/${killDuring}` && a.lastStartedTime);
      },
      { what: () => `call ${killDuring} to start on the doomed worker:\n${output.join('\n')}`, intervalMs: 100 },
    );
    process.kill(-first.pid, 'SIGKILL');
    await first.exited;

    const controller = new LocalController();
    const second = await createNalarWorker({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue,
      workflowBundle: await bundle(path.join(__dirname, 'fixtures', 'workflows', 'futures.ts')),
      localController: controller,
      definitions: [...definitions, probe],
    });
    const result = (await second.runUntil(handle.result())) as T;
    return { result, workflowId, events: controller.recent(workflowId) };
  } finally {
    await first.stop(1000);
  }
}

test('a workflow whose worker is killed finishes on another worker with the same future ids', async () => {
  const { result, workflowId, events } = await killMidway<{ ids: string[]; values: number[] }>(
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
  const { result } = await killMidway<number>('appendOnceWorkflow', [sessionId], 1);
  expect(result).toBe(1); // the retry appended "again" with the same idempotency key: not applied
  expect(await new ManagedList<string>('turns', { sessionId }).range()).toEqual(['hello']);
});
