/**
 * A worker process killed (SIGKILL) in the middle of a workflow, and another worker that finishes it: the
 * futures keep their ids, because ids derive from the workflow id and call order, not from the process.
 */
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { definitions } from '../activities/agents';
import { LocalController } from '../control-plane/local-controller/local-controller';
import { ManagedProcess } from '../control-plane/supervisor/managed-process';
import { waitForReadyMessage } from '../control-plane/supervisor/readiness';
import { createNalarWorker } from '../control-plane/worker/worker';
import { probe } from './fixtures/probe-tool';
import { bundle, connectTestEnv, testTemporalAddress, uniqueTaskQueue } from './temporal';

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await connectTestEnv();
});

afterAll(async () => {
  await env?.teardown();
});

test('a workflow whose worker is killed finishes on another worker with the same future ids', async () => {
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
    await waitForReadyMessage(first, (m) => (m as { type?: string })?.type === 'ready', 60_000);
    const workflowId = `${taskQueue}-wf`;
    const handle = await env.client.workflow.start('killableWorkflow', { taskQueue, workflowId, args: [] });
    // Wait until the slow second call runs on the first worker, then kill that worker outright.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      if (pending.some((a) => a.activityId === `${workflowId}/2` && a.lastStartedTime)) break;
      if (Date.now() > deadline) throw new Error(`the slow call never started:\n${output.join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    process.kill(-first.pid, 'SIGKILL');
    await first.exited;

    const controller = new LocalController();
    const second = await createNalarWorker({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue,
      workflowBundle: await bundle(path.join(__dirname, 'fixtures', 'future-workflows.ts')),
      localController: controller,
      definitions: [...definitions, probe],
    });
    const result = await second.runUntil(handle.result());
    const ids = [1, 2, 3].map((n) => `${workflowId}/${n}`);
    expect(result).toEqual({ ids, values: [1, 1, 1] });
    // The new worker retried the killed call and ran the last one under the same ids.
    const events = controller.recent(workflowId);
    expect(events.filter((e) => e.type === 'started').map((e) => e.futureId)).toEqual([ids[1], ids[2]]);
    expect(events.filter((e) => e.type === 'completed').map((e) => e.futureId)).toEqual([ids[1], ids[2]]);
  } finally {
    await first.stop(1000);
  }
});
