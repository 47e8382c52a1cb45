/** The IPC messages between the supervisor and a worker process it forked. */
import { z } from 'zod';
import { ErrorCode } from '../../common/errors';

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

/** Sent by a worker that will not start (then it exits 1): e.g. `NALAR_ERR_STUBS_STALE` with what to run. */
export const workerRefusedMessage = z.object({
  type: z.literal('refused'),
  code: z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]),
  message: z.string(),
});

export type WorkerRefusedMessage = z.infer<typeof workerRefusedMessage>;

/** Every message a worker sends to its supervisor. */
export const workerMessage = z.discriminatedUnion('type', [workerReadyMessage, workerRefusedMessage]);
export type WorkerMessage = z.infer<typeof workerMessage>;
