/**
 * A worker process killed (SIGKILL) in the middle of an activity, and a fresh worker that finishes the
 * workflow: the shape of every "the process died mid-call" integration test. Both workers run the workflows
 * of test/fixtures/workflows/futures.ts, the agents and the probe tool; they share whatever state backend
 * the environment names (the child inherits this process's environment).
 */
import path from 'node:path';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { definitions } from '../../activities/agents';
import { LocalController } from '../../control-plane/local-controller/local-controller';
import { ManagedProcess } from '../../data-plane/supervisor/managed-process';
import { waitForReadyMessage } from '../../data-plane/supervisor/readiness';
import { createNalarWorker } from '../../data-plane/worker/worker';
import { probe } from '../fixtures/probe-tool';
import { waitFor } from './wait-for';
import { bundle, testTemporalAddress, uniqueTaskQueue, type NalarWorkflowBundle } from '../temporal';

const fixturesDir = path.join(__dirname, '..', 'fixtures');

let futuresBundle: Promise<NalarWorkflowBundle> | undefined;

/** The bundle of test/fixtures/workflows/futures.ts, built once per test file (bundling is the slow part). */
export function futuresWorkflowBundle(): Promise<NalarWorkflowBundle> {
  futuresBundle ??= bundle(path.join(fixturesDir, 'workflows', 'futures.ts'));
  return futuresBundle;
}

export interface KillMidwayOptions {
  /**
   * A further condition, polled until the same deadline, that must hold before the kill (e.g. "the append
   * is in the store"). @default none: the kill follows the activity's first heartbeat
   */
  killWhen?: () => Promise<boolean>;
}

/**
 * Starts `workflowType` on a worker in a child process, SIGKILLs that process once the activity of future
 * `<workflowId>/<killDuring>` has started and heartbeated (and `killWhen` holds), and lets a fresh in-process
 * worker finish the workflow. Returns its result, its id and the future events the second worker saw.
 *
 * The killed call must heartbeat (the probe's long calls do, from the moment their work begins): the kill
 * waits for its first heartbeat, so that it lands in the call's work and never inside what the call did
 * before, such as a managed-state write. A write to the filesystem store is visible to readers (its rename)
 * before it releases the store's lock file; a process killed in between leaves the lock behind, and every
 * write to that session, the retry's replayed one included, then waits until the lock is stale (30 s) while
 * the retries' 2 s heartbeat timeouts run out, failing the workflow. A condition on the store alone
 * ("the append is in it") cannot tell the two moments apart; the heartbeat, sent after the write returned, can.
 */
export async function killMidway<T>(
  env: TestWorkflowEnvironment,
  workflowType: string,
  args: unknown[],
  killDuring: number,
  options: KillMidwayOptions = {},
) {
  const taskQueue = uniqueTaskQueue('restart');
  const output: string[] = [];
  const first = await ManagedProcess.start(
    {
      name: 'doomed-worker',
      command: path.join(fixturesDir, 'futures-worker.ts'),
      nodeModule: true,
      env: { ...process.env, TEMPORAL_ADDRESS: testTemporalAddress(), NALAR_TASK_QUEUE: taskQueue },
    },
    (_n, _s, line) => output.push(line),
  );
  try {
    await waitForReadyMessage(first, (m) => (m as { type?: string })?.type === 'ready', 120_000);
    const workflowId = `${taskQueue}-wf`;
    const handle: WorkflowHandleWithFirstExecutionRunId = await env.client.workflow.start(workflowType, {
      taskQueue,
      workflowId,
      args,
    });
    let started = false;
    let heartbeated = false;
    await waitFor(
      async () => {
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        const call = pending.find((a) => a.activityId === `${workflowId}/${killDuring}` && a.lastStartedTime);
        started = call !== undefined;
        heartbeated = !!call?.lastHeartbeatTime;
        return heartbeated && (!options.killWhen || (await options.killWhen()));
      },
      {
        what: () => {
          const awaited = !started
            ? `call ${killDuring} to start on the doomed worker`
            : !heartbeated
              ? `call ${killDuring} to heartbeat`
              : 'killWhen to hold';
          return `${awaited}:\n${output.join('\n')}`;
        },
        intervalMs: 100,
      },
    );
    process.kill(-first.pid, 'SIGKILL');
    await first.exited;

    const controller = new LocalController();
    const second = await createNalarWorker({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue,
      workflowBundle: await futuresWorkflowBundle(),
      localController: controller,
      definitions: [...definitions, probe],
    });
    const result = (await second.runUntil(handle.result())) as T;
    return { result, workflowId, handle, events: controller.recent(workflowId) };
  } finally {
    await first.stop(1000);
  }
}
