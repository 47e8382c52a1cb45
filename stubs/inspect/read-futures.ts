/**
 * Reads every future of a workflow run back from Temporal: the run's history (one ActivityTaskScheduled
 * event per stub call, carrying the future's metadata in its `nalar-future` header and its summary in the
 * event's user metadata) plus, for a run still open, its pending activities (attempts, the running attempt's
 * start, the last failure). Works for open, completed and failed runs alike.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { LoadedDataConverter, Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { ErrorCode, NalarError } from '../../common/errors';
import { FUTURE_HEADER, type FutureMeta } from '../workflow/types';
import type { FutureError, FutureRecord, FutureRunState, FuturesReport } from './report';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type PendingActivity = temporal.api.workflow.v1.IPendingActivityInfo;
type Failure = temporal.api.failure.v1.IFailure;
type Timestamp = { seconds?: number | { toNumber(): number } | null; nanos?: number | null } | null | undefined;

const PendingState = temporal.api.enums.v1.PendingActivityState;

/** Which run to read. */
export interface FuturesTarget {
  workflowId: string;
  /** @default the latest run of the workflow id */
  runId?: string;
}

/** Milliseconds since the epoch, keeping the nanoseconds as a fraction; undefined when absent. */
function toMs(ts: Timestamp): number | undefined {
  if (!ts || ts.seconds === null || ts.seconds === undefined) return undefined;
  const seconds = typeof ts.seconds === 'number' ? ts.seconds : ts.seconds.toNumber();
  return seconds * 1000 + (ts.nanos ?? 0) / 1e6;
}

const iso = (msValue: number | undefined): string | null =>
  msValue === undefined ? null : new Date(Math.floor(msValue)).toISOString();

/** `b - a` rounded to microseconds, or null when either is unknown. */
function between(a: number | undefined, b: number | undefined): number | null {
  if (a === undefined || b === undefined) return null;
  return Math.max(0, Math.round((b - a) * 1000) / 1000);
}

/** A payload decoded as the client's data converter would (codecs in reverse, then the payload converter). */
async function decodePayload<T>(converter: LoadedDataConverter, payload: Payload): Promise<T> {
  let payloads = [payload];
  for (const codec of [...converter.payloadCodecs].reverse()) payloads = await codec.decode(payloads);
  return converter.payloadConverter.fromPayload<T>(payloads[0] as Payload);
}

function errorOf(failure: Failure | null | undefined): FutureError | null {
  if (!failure) return null;
  // A timeout's own failure says which timeout; the attempt's failure (if any) is its cause.
  const type =
    failure.applicationFailureInfo?.type ||
    failure.cause?.applicationFailureInfo?.type ||
    (failure.timeoutFailureInfo
      ? (temporal.api.enums.v1.TimeoutType[failure.timeoutFailureInfo.timeoutType ?? 0] ?? null)
      : null) ||
    null;
  const message = failure.cause?.message
    ? `${failure.message ?? ''}: ${failure.cause.message}`
    : (failure.message ?? '');
  return { type, message };
}

/** What one activity's events say, in the order history records them. */
interface ActivityTrack {
  meta: FutureMeta;
  summary: string | null;
  scheduledAt: number;
  startedAt?: number;
  attempt?: number;
  closedAt?: number;
  closed?: 'completed' | 'failed' | 'cancelled' | 'timed out';
  cancelRequested?: boolean;
  failure?: Failure | null;
}

/** What {@link futuresFromHistory} needs besides the events. */
export interface FuturesFromHistoryOptions {
  converter: LoadedDataConverter;
  /** The pending activities of an open run (from DescribeWorkflowExecution). @default none */
  pending?: readonly PendingActivity[];
  /** Whether the run has closed (then an activity that never closed was abandoned). */
  runClosed: boolean;
}

/**
 * The futures of one run from its history events, in call order. Activities without the `nalar-future`
 * header (plain `proxyActivities`, the framework's own) are not futures and are left out.
 */
export async function futuresFromHistory(
  events: readonly HistoryEvent[],
  options: FuturesFromHistoryOptions,
): Promise<FutureRecord[]> {
  const bySchedule = new Map<string, ActivityTrack>();
  for (const event of events) {
    const eventId = String(event.eventId ?? '');
    const at = toMs(event.eventTime) ?? 0;
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const header = scheduled.header?.fields?.[FUTURE_HEADER];
      if (!header) continue;
      const meta = await decodePayload<FutureMeta>(options.converter, header as Payload);
      const summaryPayload = event.userMetadata?.summary;
      const summary = summaryPayload ? await decodePayload<string>(options.converter, summaryPayload as Payload) : null;
      bySchedule.set(eventId, { meta, summary, scheduledAt: at });
      continue;
    }
    const started = event.activityTaskStartedEventAttributes;
    const completed = event.activityTaskCompletedEventAttributes;
    const failed = event.activityTaskFailedEventAttributes;
    const timedOut = event.activityTaskTimedOutEventAttributes;
    const cancelRequested = event.activityTaskCancelRequestedEventAttributes;
    const cancelled = event.activityTaskCanceledEventAttributes;
    const ref = (started ?? completed ?? failed ?? timedOut ?? cancelRequested ?? cancelled)?.scheduledEventId;
    const track = ref === undefined || ref === null ? undefined : bySchedule.get(String(ref));
    if (!track) continue;
    if (started) {
      track.startedAt = at;
      track.attempt = started.attempt ?? 1;
    } else if (cancelRequested) {
      track.cancelRequested = true;
    } else {
      track.closedAt = at;
      track.closed = completed ? 'completed' : failed ? 'failed' : timedOut ? 'timed out' : 'cancelled';
      track.failure = failed?.failure ?? timedOut?.failure ?? null;
    }
  }

  const pendingById = new Map((options.pending ?? []).map((p) => [p.activityId ?? '', p]));
  const tracks = [...bySchedule.values()];
  const consumersOf = new Map<string, string[]>();
  for (const t of tracks) {
    for (const d of t.meta.dependencies) consumersOf.set(d, [...(consumersOf.get(d) ?? []), t.meta.id]);
  }
  return tracks.map((t) =>
    recordOf(t, pendingById.get(t.meta.id), consumersOf.get(t.meta.id) ?? [], options.runClosed),
  );
}

function recordOf(t: ActivityTrack, pending: PendingActivity | undefined, consumers: string[], runClosed: boolean) {
  let state: FutureRunState;
  let startedAt = t.startedAt;
  let attempts = t.attempt ?? 0;
  let error = errorOf(t.failure);
  // The latest attempt's own scheduled time, which history does not keep (only DescribeWorkflowExecution does).
  let attemptScheduledAt = attempts === 1 ? t.scheduledAt : undefined;
  if (t.closed) {
    state = t.closed;
  } else if (pending) {
    attempts = pending.attempt ?? attempts;
    startedAt = toMs(pending.lastStartedTime) ?? startedAt;
    attemptScheduledAt = attempts === 1 ? t.scheduledAt : toMs(pending.scheduledTime);
    error = errorOf(pending.lastFailure) ?? error;
    switch (pending.state) {
      case PendingState.PENDING_ACTIVITY_STATE_STARTED:
        state = 'started';
        break;
      case PendingState.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED:
        state = 'cancelling';
        break;
      case PendingState.PENDING_ACTIVITY_STATE_PAUSED:
      case PendingState.PENDING_ACTIVITY_STATE_PAUSE_REQUESTED:
        state = 'paused';
        break;
      default:
        // Scheduled: waiting for a worker, or (after a failed attempt) for its retry. Its lastStartedTime is
        // then the failed attempt's, not one that runs now.
        state = attempts > 1 && pending.lastFailure ? 'retrying' : 'scheduled';
        if (state === 'scheduled' && attempts <= 1) startedAt = undefined;
    }
  } else if (t.cancelRequested && !runClosed) {
    state = 'cancelling';
  } else if (runClosed) {
    state = 'abandoned';
  } else {
    state = t.startedAt === undefined ? 'scheduled' : 'started';
  }
  const running = state === 'started' || state === 'cancelling';
  const n = Number(t.meta.id.slice(t.meta.id.lastIndexOf('/') + 1));
  const record: FutureRecord = {
    id: t.meta.id,
    n: Number.isInteger(n) && n > 0 ? n : 1,
    activityType: t.meta.activityType,
    state,
    sessionId: t.meta.sessionId,
    taskQueue: t.meta.executor.taskQueue,
    priority: t.meta.priority ?? null,
    dependencies: [...t.meta.dependencies],
    consumers,
    attempts,
    summary: t.summary,
    scheduledAt: iso(t.scheduledAt) as string,
    startedAt: iso(startedAt),
    closedAt: iso(t.closedAt),
    firstQueueMs: attempts === 1 ? between(t.scheduledAt, startedAt) : null,
    lastQueueMs: startedAt !== undefined && (running || t.closed) ? between(attemptScheduledAt, startedAt) : null,
    waitMs: between(t.scheduledAt, startedAt),
    serviceMs: t.closed ? between(startedAt, t.closedAt) : null,
    error,
  };
  return record;
}

/** Lower-case status name of a run, as `temporal workflow describe` would say it. */
function statusName(name: string): string {
  return name.toLowerCase().replace(/_/g, ' ').replace('continued as new', 'continued-as-new');
}

/**
 * Every future of one run: describes the run (which run, whether it is open, its pending activities) and
 * reads its whole history, decoding headers and summaries with the client's data converter (so payloads the
 * claim check offloaded come back too). Throws a `NalarError` `NALAR_ERR_WORKFLOW_NOT_FOUND` when the
 * namespace has no such workflow id or run.
 */
export async function readFutures(client: Client, target: FuturesTarget): Promise<FuturesReport> {
  const handle = client.workflow.getHandle(target.workflowId, target.runId);
  try {
    const description = await handle.describe();
    const runId = description.runId;
    const history = await client.workflow.getHandle(target.workflowId, runId).fetchHistory();
    const runClosed = description.status.name !== 'RUNNING';
    const futures = await futuresFromHistory(history.events ?? [], {
      converter: client.options.loadedDataConverter,
      pending: description.raw.pendingActivities ?? [],
      runClosed,
    });
    return {
      workflowId: description.workflowId,
      runId,
      workflowType: description.type,
      status: statusName(description.status.name),
      futures: futures.sort((a, b) => a.n - b.n),
    };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError || (err instanceof Error && err.name === 'WorkflowNotFoundError')) {
      const run = target.runId === undefined ? '' : ` with run id ${target.runId}`;
      throw new NalarError(
        ErrorCode.WORKFLOW_NOT_FOUND,
        `no workflow ${JSON.stringify(target.workflowId)}${run} in namespace ${client.options.namespace}`,
        { cause: err },
      );
    }
    throw err;
  }
}
