/**
 * The global controller's view as a {@link KedaSource}: demand is read from a {@link Snapshot} (the live
 * view is one) at every call, and subscribers are ticked once per control period while any are subscribed.
 *
 * Demand of a task queue = its Temporal backlog (`taskQueueBacklog`, approximate, read every few seconds)
 * + the calls waiting in local controllers + the calls in flight, of the agents on that queue. The local
 * controllers report every period, so a burst shows in the waiting calls well before Temporal's backlog
 * statistics move. A waiting call is an activity a worker already holds, so the two never count one task
 * twice. With no worker running nobody reports a queue: `watch` has the controller read the backlog of every
 * queue asked about, so demand shows and KEDA scales the workers up from zero.
 */
import { configDefaults, durationMs } from '../../common/config';
import { realClock, type Clock, type Timer } from '../../common/clock';
import { createLogger, type Logger } from '../../common/log';
import type { Snapshot } from '../policies/api';
import type { KedaSource } from './source';

/** Options of {@link viewSource}. */
export interface ViewSourceOptions {
  /** The snapshot to read, called at every read (the controller's live view: `() => controller.view`). */
  snapshot: () => Snapshot;
  /** How often subscribers are ticked. @default NALAR_CONTROL_PERIOD's default (250 ms) */
  periodMs?: number;
  /**
   * The task queue an agent's methods run on (a definition's `taskQueue`); undefined for the default one.
   * @default every agent on {@link defaultTaskQueue}
   */
  taskQueueOf?: (agent: string) => string | undefined;
  /** The task queue of agents whose definition names none. @default NALAR_TASK_QUEUE's default (nalar) */
  defaultTaskQueue?: string;
  /**
   * Called with every task queue asked about, so that its backlog is read although no worker polls it (scaling
   * from zero): the controller's `view.watchTaskQueue`. @default none: only the queues workers report
   */
  watch?: (taskQueue: string) => void;
  /** Runs the tick timer. @default realClock */
  clock?: Clock;
  /** @default a logger named `keda` */
  log?: Logger;
}

/** A {@link KedaSource} over a snapshot. */
export function viewSource(options: ViewSourceOptions): KedaSource {
  const periodMs = options.periodMs ?? (durationMs(configDefaults.controlPeriod) as number);
  const defaultQueue = options.defaultTaskQueue ?? configDefaults.taskQueue;
  const queueOf = (agent: string): string => options.taskQueueOf?.(agent) ?? defaultQueue;
  const clock = options.clock ?? realClock;
  const log = options.log ?? createLogger('keda');
  const listeners = new Set<() => void>();
  let timer: Timer | undefined;

  const tick = (): void => {
    for (const listener of [...listeners]) {
      try {
        listener();
      } catch (err) {
        log.error(`KEDA scaler listener failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    timer = listeners.size > 0 ? clock.setTimer(tick, periodMs) : undefined;
  };

  return {
    demand(taskQueue, agent) {
      options.watch?.(taskQueue);
      const snapshot = options.snapshot();
      let demand = snapshot.taskQueueBacklog.get(taskQueue) ?? 0;
      if (agent !== undefined) {
        const view = snapshot.agents.get(agent);
        return Math.max(0, demand + (view ? view.waiting + view.inFlight : 0));
      }
      for (const view of snapshot.agents.values()) {
        if (queueOf(view.name) === taskQueue) demand += view.waiting + view.inFlight;
      }
      return Math.max(0, demand);
    },
    subscribe(listener) {
      listeners.add(listener);
      timer ??= clock.setTimer(tick, periodMs);
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) {
          timer?.cancel();
          timer = undefined;
        }
      };
    },
  };
}
