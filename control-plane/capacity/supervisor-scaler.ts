/**
 * The worker scaler of `npm start`: the global controller, a child of the supervisor, asks it over its IPC
 * channel for a number of workers per task queue, and keeps the pools' state the supervisor sends back (at
 * start and after every change). Requests are fire-and-forget by design: the supervisor carries them out one
 * change at a time, a newer one superseding a pending one, and its next status says where it got.
 */
import { Gauge } from 'prom-client';
import { ErrorCode, NalarError } from '../../common/errors';
import type { Logger } from '../../common/log';
import { getOrCreateMetric } from '../../common/metrics';
import { workerPoolsMessage, type ScaleWorkersMessage } from './scaler-protocol';
import type { WorkerPoolStatus, WorkerScaler } from './worker-scaler';

/** The IPC channel to the supervisor: `process.send` / `process.on('message')` in the controller process. */
export interface ScalerChannel {
  /** Hands a message to the channel; `done` gets an error when it cannot be sent (the supervisor is gone). */
  send(message: ScaleWorkersMessage, done: (err: Error | null) => void): void;
  /** Subscribes to messages from the supervisor; returns the unsubscribe. */
  onMessage(listener: (message: unknown) => void): () => void;
}

/** This process's own IPC channel; undefined when it was not started with one (not under the supervisor). */
export function processScalerChannel(proc: NodeJS.Process = process): ScalerChannel | undefined {
  const send = proc.send?.bind(proc);
  if (!send) return undefined;
  return {
    send(message, done) {
      // Node reports a closed channel through the callback (or throws when it is already disconnected).
      try {
        send(message, undefined, undefined, (err: Error | null) => done(err));
      } catch (err) {
        done(err instanceof Error ? err : new Error(String(err)));
      }
    },
    onMessage(listener) {
      proc.on('message', listener);
      return () => void proc.off('message', listener);
    },
  };
}

/** Worker processes per task queue, as the supervisor last said (the controller's /metrics). */
export const supervisorWorkersGauge = getOrCreateMetric(
  'nalar_supervisor_workers',
  () =>
    new Gauge({
      name: 'nalar_supervisor_workers',
      help: 'Worker processes running on a task queue (starting ones included), as the supervisor of npm start last reported.',
      labelNames: ['task_queue'],
    }),
);

/** Worker processes asked for per task queue (clamped to the supervisor's bounds). */
export const supervisorWorkersDesiredGauge = getOrCreateMetric(
  'nalar_supervisor_workers_desired',
  () =>
    new Gauge({
      name: 'nalar_supervisor_workers_desired',
      help: 'Worker processes last asked for on a task queue, clamped to NALAR_WORKERS_MIN..NALAR_WORKERS_MAX.',
      labelNames: ['task_queue'],
    }),
);

/** Options of {@link SupervisorScaler}. */
export interface SupervisorScalerOptions {
  /** Logs a malformed message from the supervisor (once per kind of problem). @default silent */
  log?: Logger;
}

/** {@link WorkerScaler} over the supervisor's IPC channel. */
export class SupervisorScaler implements WorkerScaler {
  readonly name = 'supervisor';
  private pools = new Map<string, WorkerPoolStatus>();
  private readonly unsubscribe: () => void;
  private warnedMalformed = false;

  constructor(
    private readonly channel: ScalerChannel,
    private readonly options: SupervisorScalerOptions = {},
  ) {
    this.unsubscribe = channel.onMessage((message) => this.receive(message));
  }

  /** The pools as the supervisor last reported them, with each pool's `desired` as last asked for here. */
  status(): WorkerPoolStatus[] {
    return [...this.pools.values()];
  }

  /**
   * Sends the request; resolves once the channel took it. Rejects with NALAR_ERR_INVALID_INPUT for a task
   * queue the supervisor has not reported (or a count that is not a whole number ≥ 0), and with
   * NALAR_ERR_PROCESS_EXITED when the supervisor is gone.
   */
  scale(taskQueue: string, n: number): Promise<void> {
    const pool = this.pools.get(taskQueue);
    if (!pool) {
      const known = [...this.pools.keys()].join(', ') || 'none yet';
      return Promise.reject(
        new NalarError(ErrorCode.INVALID_INPUT, `scaleWorkers(${taskQueue}): no worker pool on it (known: ${known})`),
      );
    }
    if (!Number.isInteger(n) || n < 0) {
      return Promise.reject(
        new NalarError(ErrorCode.INVALID_INPUT, `scaleWorkers(${taskQueue}, ${n}): expected a whole number ≥ 0`),
      );
    }
    return new Promise((resolve, reject) => {
      this.channel.send({ type: 'scaleWorkers', taskQueue, n }, (err) => {
        if (err) {
          reject(
            new NalarError(ErrorCode.PROCESS_EXITED, `scaleWorkers(${taskQueue}, ${n}): supervisor unreachable`, {
              cause: err,
            }),
          );
          return;
        }
        // Until the supervisor's next status, the request is what this pool is asked to be.
        const current = this.pools.get(taskQueue);
        if (current) this.update({ ...current, desired: Math.min(current.max, Math.max(current.min, n)) });
        resolve();
      });
    });
  }

  /** Stops listening to the channel (the process is stopping). */
  close(): void {
    this.unsubscribe();
  }

  private receive(message: unknown): void {
    // The channel also carries other messages (none from the supervisor today); only `workers` is ours.
    if (typeof message !== 'object' || message === null || (message as { type?: unknown }).type !== 'workers') return;
    const parsed = workerPoolsMessage.safeParse(message);
    if (!parsed.success) {
      if (!this.warnedMalformed)
        this.options.log?.warn(`malformed workers message from the supervisor: ${parsed.error.message}`);
      this.warnedMalformed = true;
      return;
    }
    const next = new Map(parsed.data.pools.map((p) => [p.taskQueue, p] as const));
    for (const queue of this.pools.keys()) {
      if (next.has(queue)) continue;
      supervisorWorkersGauge.remove(queue);
      supervisorWorkersDesiredGauge.remove(queue);
    }
    this.pools = new Map();
    for (const pool of next.values()) this.update(pool);
  }

  private update(pool: WorkerPoolStatus): void {
    this.pools.set(pool.taskQueue, pool);
    supervisorWorkersGauge.set({ task_queue: pool.taskQueue }, pool.current);
    supervisorWorkersDesiredGauge.set({ task_queue: pool.taskQueue }, pool.desired);
  }
}
