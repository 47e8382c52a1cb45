/**
 * A real worker process (data-plane/worker/main.ts) with NALAR_CONTROLLER_URL: it reports to the global
 * controller every NALAR_CONTROL_PERIOD with its token, installs the decisions it serves, shows the link on
 * /metrics, and stops cleanly on SIGINT with the link running.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { emptyDecisions } from '../control-plane/protocol';
import { ManagedProcess } from '../data-plane/supervisor/managed-process';
import { freePort } from '../data-plane/supervisor/ports';
import { waitForReadyMessage } from '../data-plane/supervisor/readiness';
import { workerReadyMessage } from '../data-plane/worker/protocol';
import { FakeGlobalController } from './helpers/fake-global-controller';
import { waitFor } from './helpers/wait-for';
import { testTemporalAddress, uniqueTaskQueue } from './temporal';

const token = 'worker-link-test-token-0123456789';

test('a worker process reports to the global controller, installs its decisions and stops cleanly', async () => {
  const controller = new FakeGlobalController(token);
  const port = await controller.listen();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nalar-link-'));
  const metricsPort = await freePort();
  const taskQueue = uniqueTaskQueue('link');
  const output: string[] = [];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: testTemporalAddress(),
    NALAR_TASK_QUEUE: taskQueue,
    NALAR_WORKER_ID: 'link-worker',
    NALAR_DATA_DIR: dataDir,
    NALAR_STATE_BACKEND: 'filesystem',
    NALAR_STATE_GC_INTERVAL: '0',
    NALAR_STUBS_CHECK: 'false',
    NALAR_METRICS_PORT: String(metricsPort),
    NALAR_CONTROLLER_URL: `http://127.0.0.1:${port}`,
    NALAR_CONTROL_TOKEN: token,
    NALAR_CONTROL_PERIOD: '50 ms',
  };
  delete env.NALAR_STREAM_URL;
  const proc = await ManagedProcess.start(
    { name: 'link-worker', command: require.resolve('../data-plane/worker/main'), nodeModule: true, env },
    (_n, _s, line) => output.push(line),
  );
  try {
    let identity = '';
    await waitForReadyMessage(
      proc,
      (m) => {
        const ready = workerReadyMessage.safeParse(m);
        if (ready.success) identity = ready.data.identity;
        return ready.success;
      },
      120_000,
    );
    const first = await waitFor(() => controller.reports[0], { what: () => `a report (output: ${output.join('\n')})` });
    expect(first.node).toBe(identity);
    expect(first.taskQueues).toEqual([taskQueue, `${taskQueue}.placement.link-worker`]);
    expect(controller.unauthorized).toEqual([]);

    controller.publish({ ...emptyDecisions, version: 7, policies: ['test'], issuedAt: Date.now() });
    await waitFor(() => controller.reports.some((r) => r.decisionsVersion === 7), {
      what: 'a report naming the installed version',
    });
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/^nalar_local_decisions_version 7$/m);
    expect(metrics).toMatch(/^nalar_local_controller_link_up 1$/m);
  } finally {
    const exit = await proc.stop(30_000);
    await controller.close();
    rmSync(dataDir, { recursive: true, force: true });
    expect(exit).toMatchObject({ code: 0 });
  }
});
