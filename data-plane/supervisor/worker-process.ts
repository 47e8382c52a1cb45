/**
 * A Nalar worker process as a {@link StackComponent}: forked with IPC, ready when it says so; a worker that
 * refuses to start (stale stubs) fails the start with its error code and message.
 */
import { NalarError } from '../../common/errors';
import { workerReadyMessage, workerRefusedMessage } from '../worker/protocol';
import type { StackComponent } from './component';
import { ManagedProcess, type LineSink } from './managed-process';
import { waitForReadyMessage } from './readiness';

const workerMain = require.resolve('../worker/main');

export interface WorkerProcessOptions {
  /** 1-based index; the process is named `worker-<index>`. */
  index: number;
  taskQueue: string;
  /** Port of its /metrics endpoint on 127.0.0.1; 0 = none. */
  metricsPort: number;
  /** Whether it runs the state janitor (NALAR_STATE_GC_INTERVAL as configured, else 0). */
  runsStateJanitor: boolean;
  /** Environment of the worker (carries the validated config onwards). */
  env: NodeJS.ProcessEnv;
  /** The worker's entry module and its arguments (tests run a stand-in). @default data-plane/worker/main.ts */
  command?: { module: string; args?: readonly string[] };
}

export function workerProcess(o: WorkerProcessOptions): StackComponent {
  const name = `worker-${o.index}`;
  const env: NodeJS.ProcessEnv = {
    ...o.env,
    NALAR_WORKER_NAME: name,
    // Its name in session owner records: stable across restarts of the stack.
    NALAR_WORKER_ID: name,
    NALAR_METRICS_PORT: String(o.metricsPort),
    ...(!o.runsStateJanitor && { NALAR_STATE_GC_INTERVAL: '0' }),
  };
  const metrics = o.metricsPort === 0 ? '' : `, metrics http://127.0.0.1:${o.metricsPort}/metrics`;
  return {
    name,
    runsUserCode: true,
    description: `Nalar worker running every workflow and activity on task queue ${o.taskQueue}${
      o.runsStateJanitor ? ', and the state janitor' : ''
    }`,
    ports:
      o.metricsPort === 0
        ? []
        : [
            {
              host: '127.0.0.1',
              port: o.metricsPort,
              what: `${name} metrics`,
              setting: 'NALAR_METRICS_PORT (worker N uses NALAR_METRICS_PORT + N - 1; 0 turns it off)',
            },
          ],
    endpoints: [`${name.padEnd(17)} task queue ${o.taskQueue}${metrics}`],
    launch(sink: LineSink) {
      const command = o.command ?? { module: workerMain };
      return ManagedProcess.start(
        { name, command: command.module, ...(command.args && { args: command.args }), nodeModule: true, env },
        sink,
      );
    },
    async waitReady(proc, timeoutMs) {
      let refusal: NalarError | undefined;
      proc.onMessage((m) => {
        const parsed = workerRefusedMessage.safeParse(m);
        if (parsed.success)
          refusal = new NalarError(parsed.data.code, `${name} refused to start: ${parsed.data.message}`);
      });
      try {
        await waitForReadyMessage(proc, (m) => workerReadyMessage.safeParse(m).success, timeoutMs);
      } catch (err) {
        // A refusing worker exits at once; its refusal may still be in the IPC channel when the exit is seen.
        if (!proc.running) await proc.ipcClosed();
        throw refusal ?? err;
      }
    },
  };
}
