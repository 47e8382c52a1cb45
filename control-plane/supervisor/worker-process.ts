/** A Nalar worker process as a {@link StackComponent}: forked with IPC, ready when it says so. */
import { ErrorCode, NalarError } from '../../common/errors';
import { workerMessage } from '../worker/protocol';
import type { StackComponent } from './component';
import { ManagedProcess, type LineSink } from './managed-process';

const workerMain = require.resolve('../worker/main');

export interface WorkerProcessOptions {
  /** 1-based index; the process is named `worker-<index>`. */
  index: number;
  taskQueue: string;
  /** Environment of the worker (carries the validated config onwards). */
  env: NodeJS.ProcessEnv;
}

export function workerProcess(o: WorkerProcessOptions): StackComponent {
  const name = `worker-${o.index}`;
  return {
    name,
    ports: [],
    endpoints: [`${name.padEnd(17)} task queue ${o.taskQueue}`],
    launch(sink: LineSink) {
      return ManagedProcess.start(
        { name, command: workerMain, nodeModule: true, env: { ...o.env, NALAR_WORKER_NAME: name } },
        sink,
      );
    },
    waitReady(proc, timeoutMs) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new NalarError(
                ErrorCode.READINESS_TIMEOUT,
                `${name} was not ready after ${timeoutMs} ms; raise NALAR_READINESS_TIMEOUT if it is slow`,
              ),
            ),
          timeoutMs,
        );
        proc.onMessage((raw) => {
          if (workerMessage.safeParse(raw).success) {
            clearTimeout(timer);
            resolve();
          }
        });
        proc.exitedAsError().catch((err: unknown) => {
          clearTimeout(timer);
          reject(err);
        });
      });
    },
  };
}
