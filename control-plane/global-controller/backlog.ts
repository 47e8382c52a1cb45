/**
 * Approximate Temporal task-queue backlogs for the snapshot (`taskQueueBacklog`): on its own, slower timer,
 * for the task queues the live nodes report, never in the round's way. A failed look-up is logged (once per
 * queue until it works again) and leaves the last known figure; a queue no node reports any more is dropped.
 */
import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { realClock, type Clock, type Timer } from '../../common/clock';
import { errorMessage } from '../../common/errors';
import type { Logger } from '../../common/log';
import type { ControlView } from './view';

/** Backlog of one task queue (workflow plus activity tasks); rejects when it cannot be read. */
export type BacklogSource = (taskQueue: string) => Promise<number>;

/** Default of {@link BacklogPollerOptions.intervalMs}: DescribeTaskQueue with stats is not cheap for the server. */
export const defaultBacklogIntervalMs = 2_000;

/** Reads backlogs with DescribeTaskQueue (`reportStats`), activity and workflow tasks added up. */
export function temporalBacklog(connection: Connection, namespace: string, timeoutMs = 2_000): BacklogSource {
  const { TaskQueueType } = temporal.api.enums.v1;
  return async (name) => {
    let total = 0;
    for (const taskQueueType of [TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW]) {
      const response = await connection.withDeadline(Date.now() + timeoutMs, () =>
        connection.workflowService.describeTaskQueue({
          namespace,
          taskQueue: { name },
          taskQueueType,
          reportStats: true,
        }),
      );
      total += Number(response.stats?.approximateBacklogCount ?? 0);
    }
    return total;
  };
}

/** Options of {@link BacklogPoller}. */
export interface BacklogPollerOptions {
  view: ControlView;
  source: BacklogSource;
  log: Logger;
  /** @default 2000 */
  intervalMs?: number;
  /** @default realClock */
  clock?: Clock;
}

/** Polls backlogs into the view until stopped. */
export class BacklogPoller {
  private timer: Timer | undefined;
  private stopped = false;
  private readonly failing = new Set<string>();
  private readonly intervalMs: number;
  private readonly clock: Clock;

  constructor(private readonly options: BacklogPollerOptions) {
    this.intervalMs = options.intervalMs ?? defaultBacklogIntervalMs;
    this.clock = options.clock ?? realClock;
  }

  start(): void {
    this.timer = this.clock.setTimer(() => void this.poll(), 0);
  }

  /** One pass over every reported task queue; resolves when all look-ups settled. */
  async poll(): Promise<void> {
    const { view, source, log } = this.options;
    const queues = view.taskQueues();
    for (const q of view.taskQueueBacklog.keys()) if (!queues.has(q)) view.taskQueueBacklog.delete(q);
    await Promise.all(
      [...queues].map(async (q) => {
        try {
          view.taskQueueBacklog.set(q, await source(q));
          this.failing.delete(q);
        } catch (err) {
          if (!this.failing.has(q)) log.warn(`backlog of task queue ${q} not read: ${errorMessage(err)}`);
          this.failing.add(q);
        }
      }),
    );
    if (!this.stopped) this.timer = this.clock.setTimer(() => void this.poll(), this.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }
}
