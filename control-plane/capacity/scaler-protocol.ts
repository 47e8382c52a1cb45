/**
 * The IPC messages between the global controller and the supervisor of `npm start` about worker pools
 * (zod: both ends parse what they receive). The controller asks, the supervisor answers with the state of
 * every pool it manages, at start and after every change, so the controller's view follows the supervisor's
 * even when a worker dies on its own.
 */
import { z } from 'zod';

/** A whole number of worker processes (the same bound as NALAR_WORKERS_MAX's schema). */
const count = z.number().int().min(0).max(64);

/** Controller → supervisor: ask for `n` workers on `taskQueue` (the supervisor clamps it to its bounds). */
export const scaleWorkersMessage = z.object({
  type: z.literal('scaleWorkers'),
  taskQueue: z.string().min(1),
  n: count,
});
export type ScaleWorkersMessage = z.infer<typeof scaleWorkersMessage>;

/** One pool as the supervisor sees it ({@link WorkerPoolStatus} of worker-scaler.ts). */
export const workerPoolStatusSchema = z.object({
  taskQueue: z.string().min(1),
  current: count,
  desired: count,
  min: count,
  max: count,
});

/** Supervisor → controller: every pool it manages, sent at start and whenever one changes. */
export const workerPoolsMessage = z.object({
  type: z.literal('workers'),
  pools: z.array(workerPoolStatusSchema),
});
export type WorkerPoolsMessage = z.infer<typeof workerPoolsMessage>;
