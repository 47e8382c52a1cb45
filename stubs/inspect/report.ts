/**
 * The shape `nalar futures --json` prints: every future of one workflow run, read back from its history.
 * Stable: fields are only added, never renamed or removed. Times are ISO 8601 (UTC) from the history's own
 * event times; durations are milliseconds (fractional, from Temporal's nanosecond timestamps).
 */
import { z } from 'zod';

/**
 * Where a future's call stands.
 * - `scheduled`: its activity is scheduled, no attempt runs yet (it waits in the task queue);
 * - `started`: an attempt is running;
 * - `retrying`: an attempt failed and the next one waits for its retry time or a worker;
 * - `paused`: Temporal paused the activity;
 * - `cancelling`: the workflow asked to cancel it, the activity has not stopped yet;
 * - `completed`, `failed`, `cancelled`, `timed out`: how it ended;
 * - `abandoned`: the run ended without waiting for it (no close event, nothing pending).
 *
 * A future whose call is not scheduled yet (it waits on its dependencies, or a dependency failed) has no
 * event in the history, so it is not listed.
 */
export const futureRunState = z.enum([
  'scheduled',
  'started',
  'retrying',
  'paused',
  'cancelling',
  'completed',
  'failed',
  'cancelled',
  'timed out',
  'abandoned',
]);
export type FutureRunState = z.infer<typeof futureRunState>;

const isoTime = z.string().datetime({ offset: true });
const ms = z.number().nonnegative();

/** A failure as history records it: its type (an `ApplicationFailure` type is the Nalar error code) and message. */
export const futureError = z.object({
  /** `NALAR_ERR_…` or another ApplicationFailure type; for a timeout, `TIMEOUT_TYPE_…`; null when none. */
  type: z.string().nullable(),
  message: z.string(),
});
export type FutureError = z.infer<typeof futureError>;

/** One future: one stub call, i.e. one activity carrying the `nalar-future` header. */
export const futureRecord = z.object({
  /** Future id, `<workflowId>/<n>` (also the activity id). */
  id: z.string(),
  /** Call number within the run (`#n`). */
  n: z.number().int().positive(),
  /** `<agent>.<method>` */
  activityType: z.string(),
  state: futureRunState,
  sessionId: z.string(),
  taskQueue: z.string(),
  /** Task-queue priority 1-5, when the call set one. */
  priority: z.number().int().nullable(),
  /** Futures passed in its arguments (their ids), in argument order. */
  dependencies: z.array(z.string()),
  /** Futures of this run that took this one as an argument (the inverse edges). */
  consumers: z.array(z.string()),
  /** Attempts made so far (0: none started yet). */
  attempts: z.number().int().nonnegative(),
  /** The activity summary (Temporal user metadata) as the Web UI shows it; null for runs recorded without it. */
  summary: z.string().nullable(),
  scheduledAt: isoTime,
  /** Start of the latest attempt (history records only the last attempt's start). */
  startedAt: isoTime.nullable(),
  closedAt: isoTime.nullable(),
  /** Queue time of the first attempt, scheduled → started; null when not known (not started, or retried). */
  firstQueueMs: ms.nullable(),
  /**
   * Queue time of the latest attempt, from its own scheduled time to its start: equals `firstQueueMs` for a
   * single attempt; for a retried call only while the run is open (history keeps no per-attempt schedule).
   */
  lastQueueMs: ms.nullable(),
  /** Scheduled → start of the latest attempt: queueing plus earlier attempts and retry back-off. */
  waitMs: ms.nullable(),
  /** Service time of the latest attempt, started → closed; null while running. */
  serviceMs: ms.nullable(),
  /** Why it failed, timed out or was cancelled; for a call being retried, the last attempt's failure. */
  error: futureError.nullable(),
});
export type FutureRecord = z.infer<typeof futureRecord>;

/** The whole report of one run. */
export const futuresReport = z.object({
  workflowId: z.string(),
  runId: z.string(),
  workflowType: z.string(),
  /** The run's status: running, completed, failed, cancelled, terminated, continued-as-new, timed out. */
  status: z.string(),
  /** Futures in call order. */
  futures: z.array(futureRecord),
});
export type FuturesReport = z.infer<typeof futuresReport>;
