/**
 * Creates a Nalar worker: one Temporal worker that runs every registered workflow (workflows/index.ts, the
 * single workflowsPath) and every activity (activities/index.ts). Later the local controller hooks in here.
 */
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import * as activities from '../../activities';

/** Path of the workflow registration barrel, bundled by the worker. */
export const workflowsPath = require.resolve('../../workflows');

export interface NalarWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** A prebuilt bundle (tests build one per file to save time); by default the worker bundles `workflowsPath`. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** @default Temporal's default `pid@hostname` */
  identity?: string;
  /** @default Temporal's default: SIGINT, SIGTERM, SIGQUIT, SIGUSR2 */
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
}

/** Builds the worker; call `run()` on the result. */
export function createNalarWorker(options: NalarWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    // The core SDK rejects an explicit `undefined`; only pass what was set.
    ...(options.identity !== undefined && { identity: options.identity }),
    ...(options.shutdownGraceTime !== undefined && { shutdownGraceTime: options.shutdownGraceTime }),
    activities,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
  });
}
