/**
 * The embedded dev server is started with the new matcher, fairness and one partition per task queue, so
 * task-queue priority is honoured strictly: queued high-priority work is handed out before older
 * low-priority work, whether the priority is the workflow's (inherited by its activities) or an activity's
 * own key (what the stub runtime sets after a policy's `nalar.setPriority` signal). (With the default four
 * partitions this test fails about half the time.)
 */
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { waitFor } from './helpers/wait-for';
import { bundle, connectTestEnv, uniqueTaskQueue } from './temporal';

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await connectTestEnv();
});

afterAll(async () => {
  await env?.teardown();
});

test.each([
  ['the workflow', 'workflow'],
  ["the activity's own key", 'activity'],
] as const)('queued work runs in priority order, not arrival order (priority on %s)', async (_, where) => {
  const taskQueue = uniqueTaskQueue('priority');
  const started: WorkflowHandle[] = [];
  // Queue everything before any worker polls: low priority (5) first, high priority (1) after.
  for (const [name, priorityKey] of [
    ['low-1', 5],
    ['low-2', 5],
    ['low-3', 5],
    ['high-1', 1],
    ['high-2', 1],
    ['high-3', 1],
  ] as const) {
    started.push(
      await env.client.workflow.start('priorityProbeWorkflow', {
        taskQueue,
        workflowId: `${taskQueue}-${name}`,
        ...(where === 'workflow' ? { args: [name], priority: { priorityKey } } : { args: [name, priorityKey] }),
      }),
    );
  }
  // A workflow-only worker turns every workflow into one queued activity task with its priority.
  const workflowWorker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await bundle(path.join(__dirname, 'fixtures', 'workflows', 'priority-probe.ts')),
  });
  const order: string[] = [];
  await workflowWorker.runUntil(async () => {
    await waitFor(
      async () => {
        const described = await Promise.all(started.map((h) => h.describe()));
        return described.every((d) => (d.raw.pendingActivities ?? []).length === 1);
      },
      { what: 'every workflow to have queued its activity', intervalMs: 100 },
    );
    // Then an activity-only worker with one slot drains that backlog: hand-out order is run order.
    const activityWorker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      activities: { recordRun: async (name: string) => void order.push(name) },
      maxConcurrentActivityTaskExecutions: 1,
      maxConcurrentActivityTaskPolls: 1,
    });
    await activityWorker.runUntil(Promise.all(started.map((h) => h.result())));
  });
  expect(order.slice(0, 3).sort()).toEqual(['high-1', 'high-2', 'high-3']);
  expect(order.slice(3).sort()).toEqual(['low-1', 'low-2', 'low-3']);
});
