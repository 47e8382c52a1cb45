/** The IPC messages between the supervisor and a worker process it forked. */
import { z } from 'zod';

/** Sent by a worker once it polls its task queue. */
export const workerReadyMessage = z.object({
  type: z.literal('ready'),
  taskQueue: z.string(),
  identity: z.string(),
  /** NALAR_WORKER_ID: the name in session owner records. */
  workerId: z.string(),
  /** Prometheus endpoint, if served. */
  metricsUrl: z.string().optional(),
});

export type WorkerReadyMessage = z.infer<typeof workerReadyMessage>;

/** Every message a worker sends to its supervisor. */
export const workerMessage = z.discriminatedUnion('type', [workerReadyMessage]);
export type WorkerMessage = z.infer<typeof workerMessage>;
