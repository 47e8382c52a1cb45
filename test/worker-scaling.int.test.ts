/**
 * The worker scaler end to end on the supervisor's side: a real Supervisor and its worker pool start and stop
 * worker processes (`fixtures/scaled-worker.ts`, activity-only) on the shared dev server, asked through a
 * SupervisorScaler over an in-memory stand-in of the controller's IPC channel (the zod messages both ends
 * parse). 1 → 2 workers: the second one polls; 2 → 1 while it holds an activity: it drains, the activity
 * completes there and its workflow completes (one attempt, so nothing was retried); a worker killed above
 * the minimum is counted out and the stack keeps running.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig } from '../common/config';
import { createLogger } from '../common/log';
import type { ScaleWorkersMessage } from '../control-plane/capacity/scaler-protocol';
import { SupervisorScaler } from '../control-plane/capacity/supervisor-scaler';
import { buildEmbeddedStack } from '../data-plane/supervisor/embedded-stack';
import { Supervisor } from '../data-plane/supervisor/supervisor';
import { supervisorWorkerHost, WorkerScaling } from '../data-plane/supervisor/worker-scaling';
import { heldActivityWorkflow } from './fixtures/workflows/scaled';
import { waitFor } from './helpers/wait-for';
import { connectTestEnv, testTemporalAddress, uniqueTaskQueue, withNalarWorker } from './temporal';

jest.setTimeout(180_000);

let env: TestWorkflowEnvironment;
let dir: string;
beforeAll(async () => {
  env = await connectTestEnv();
  dir = mkdtempSync(path.join(os.tmpdir(), 'nalar-scaling-'));
});
afterAll(async () => {
  await env?.teardown();
  rmSync(dir, { recursive: true, force: true });
});

/** The pids of the activity pollers of `taskQueue` the server has seen (identities are `<pid>@<host>`). */
async function pollerPids(taskQueue: string): Promise<number[]> {
  const response = await env.client.workflowService.describeTaskQueue({
    namespace: 'default',
    taskQueue: { name: taskQueue },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
  });
  return (response.pollers ?? []).map((p) => Number(p.identity?.split('@')[0]));
}

test('the supervisor scales workers 1 → 2 → 1 on request, draining the stopped one without losing its task', async () => {
  const taskQueue = uniqueTaskQueue('scaling');
  const config = loadConfig({
    env: {
      TEMPORAL_ADDRESS: testTemporalAddress(),
      NALAR_TASK_QUEUE: taskQueue,
      // Only the workers: the rest of the stack is not what this test is about.
      NALAR_DEV_SERVER: 'false',
      NALAR_SIM: 'false',
      NALAR_CODEC_PORT: '0',
      NALAR_GATEWAY_PORT: '0',
      NALAR_CONTROLLER_PORT: '0',
      NALAR_METRICS_PORT: '0',
      NALAR_WORKERS_MAX: '3',
      // Generous: a worker that drains is never killed, however loaded the machine.
      NALAR_SHUTDOWN_GRACE: '60 seconds',
    },
  });
  const lines: string[] = [];
  const log = createLogger('nalar', 'info', (line) => lines.push(line));
  const stack = buildEmbeddedStack({
    config,
    env: { ...process.env, TEMPORAL_ADDRESS: config.temporalAddress, NALAR_TASK_QUEUE: taskQueue },
    workerCommand: { module: require.resolve('./fixtures/scaled-worker') },
  });
  expect(stack.components.map((c) => c.name)).toEqual(['worker-1']);
  const scaling = new WorkerScaling({
    log,
    pools: [{ taskQueue, min: 1, max: 3, initial: 1, host: supervisorWorkerHost(() => supervisor, stack.worker) }],
  });
  const supervisor: Supervisor = new Supervisor(stack.components, {
    log,
    sink: (name, _stream, line) => lines.push(`[${name}] ${line}`),
    readinessTimeoutMs: 120_000,
    shutdownGraceMs: config.shutdownGrace,
    tolerateExit: (component, status) => scaling.workerExited(component, status),
  });
  // The controller's end of the IPC channel, in memory: messages cross as JSON, as over a real channel.
  const toController = new Set<(m: unknown) => void>();
  const toSupervisor = new Set<(m: unknown) => void>();
  const scaler = new SupervisorScaler({
    send(message: ScaleWorkersMessage, done) {
      for (const l of toSupervisor) l(JSON.parse(JSON.stringify(message)));
      done(null);
    },
    onMessage(listener) {
      toController.add(listener);
      return () => toController.delete(listener);
    },
  });
  const output = (): string => lines.join('\n');
  const pidOf = (name: string): number | undefined =>
    supervisor.processes.find((p) => p.component.name === name)?.process.pid;
  try {
    await supervisor.start();
    scaling.link({
      onMessage: (listener) => toSupervisor.add(listener),
      send(message) {
        for (const l of toController) l(JSON.parse(JSON.stringify(message)));
        return true;
      },
    });
    expect(scaler.status()).toEqual([{ taskQueue, current: 1, desired: 1, min: 1, max: 3 }]);

    // 1 → 2: worker-2 starts like worker-1 and polls the task queue.
    await scaler.scale(taskQueue, 2);
    await waitFor(
      () => scaler.status()[0]?.current === 2 && output().includes(`worker-2 started (2 workers on ${taskQueue})`),
      {
        what: () => `worker-2 to start:\n${output()}`,
        timeoutMs: 120_000,
      },
    );
    const worker2 = pidOf('worker-2') as number;
    await waitFor(async () => (await pollerPids(taskQueue)).includes(worker2), {
      what: 'worker-2 among the task queue pollers',
    });

    await withNalarWorker(
      env,
      'scaling-wf',
      { workflowsPath: require.resolve('./fixtures/workflows/scaled') },
      async (wfQueue) => {
        // Each worker runs one activity at a time: two held activities sit one on each worker.
        const runs = ['a', 'b'].map((tag) =>
          env.client.workflow.start(heldActivityWorkflow, {
            taskQueue: wfQueue,
            workflowId: `${taskQueue}-${tag}`,
            args: [taskQueue, dir, tag],
          }),
        );
        const started = (tag: string): string | undefined => {
          const file = path.join(dir, `${tag}.started`);
          return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
        };
        const where = await waitFor(() => started('a') && started('b') && [started('a'), started('b')], {
          what: 'both activities to start',
        });
        expect([...where].sort()).toEqual(['worker-1', 'worker-2']);

        // 2 → 1 while worker-2 holds an activity: it gets SIGTERM and drains.
        await scaler.scale(taskQueue, 1);
        await waitFor(() => output().includes('worker-2 got SIGTERM: draining'), {
          what: () => `the drain:\n${output()}`,
        });
        expect(scaler.status()[0]).toMatchObject({ current: 1, desired: 1 });
        for (const tag of ['a', 'b']) writeFileSync(path.join(dir, `${tag}.release`), '');
        const results = await Promise.all((await Promise.all(runs)).map((h) => h.result()));
        expect([...results].sort()).toEqual(['worker-1', 'worker-2']);
        await waitFor(() => output().includes('stopped worker-2 (exit code 0)'), {
          what: () => `worker-2 to exit:\n${output()}`,
        });
        expect(output()).toContain('worker-2 drained');
        expect(output()).toContain(`worker-2 stopped (1 worker on ${taskQueue})`);
      },
    );

    // A worker that dies above the minimum is counted out; the stack keeps running.
    await scaler.scale(taskQueue, 2);
    // Ready, not just starting (a worker killed while it starts is a failed start, not a death).
    await waitFor(() => output().match(/worker-2 started \(2 workers/g)?.length === 2, {
      what: () => `worker-2 to start again:\n${output()}`,
      timeoutMs: 120_000,
    });
    process.kill(pidOf('worker-2') as number, 'SIGKILL');
    await waitFor(() => scaler.status()[0]?.current === 1, { what: () => `worker-2 counted out:\n${output()}` });
    expect(output()).toContain(`worker-2 exited unexpectedly (signal SIGKILL); 1 worker on ${taskQueue} (desired 2)`);
    expect(supervisor.stopRequested).toBe(false);
    expect(supervisor.processes.map((p) => p.component.name)).toEqual(['worker-1']);
  } finally {
    await scaling.close();
    await supervisor.stop();
    scaler.close();
  }
  expect(await supervisor.finished).toBe(0);
});
