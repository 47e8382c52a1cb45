/** A Nalar worker process as a {@link StackComponent}: forked with IPC, ready when it says so. */
import { workerMessage } from '../worker/protocol';
import type { StackComponent } from './component';
import { ManagedProcess, type LineSink } from './managed-process';
import { waitForReadyMessage } from './readiness';

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
      return waitForReadyMessage(proc, (m) => workerMessage.safeParse(m).success, timeoutMs);
    },
  };
}
