/**
 * The second Temporal worker of every Nalar worker process: it polls the process's own placement task
 * queue and serves the cache activities of session moves (warm, drop) against the process's state cache.
 */
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { placementActivities } from '../../state/placement/activities';
import { placementTaskQueue } from '../../state/placement/worker-identity';
import { failureActivityInterceptors } from './failure-interceptor';

export interface PlacementWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  /** The main task queue (NALAR_TASK_QUEUE); the placement queue is derived from it and `workerId`. */
  taskQueue: string;
  workerId: string;
  identity?: string;
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
  dataConverter?: WorkerOptions['dataConverter'];
}

/** Builds the placement worker; run it next to the main worker (`run()`). */
export function createPlacementWorker(options: PlacementWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: placementTaskQueue(options.taskQueue, options.workerId),
    activities: placementActivities,
    interceptors: { activity: [failureActivityInterceptors] },
    ...(options.identity !== undefined && { identity: options.identity }),
    ...(options.shutdownGraceTime !== undefined && { shutdownGraceTime: options.shutdownGraceTime }),
    ...(options.dataConverter !== undefined && { dataConverter: options.dataConverter }),
  });
}
