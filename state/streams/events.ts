/**
 * Run events: what the streaming side channel carries for one workflow run. A preview of the run, never its
 * record: tokens and lifecycle events travel beside Temporal (nothing per token enters workflow history), and
 * the run's result still comes through Temporal.
 */
import { z } from 'zod';

/** A future's lifecycle step, as the `nalar` sink and the activity interceptor report it. */
export const futureEventBody = z.object({
  kind: z.literal('future'),
  futureId: z.string().min(1).max(512),
  activityType: z.string().max(512),
  /** created, ready, scheduled, started, completed, failed or cancelled. */
  state: z.string().min(1).max(32),
  /** Milliseconds since the epoch (workflow time for workflow-side events). */
  at: z.number(),
});

/** Text the model produced for one attempt of a future's LLM call, in order. */
export const tokenEventBody = z.object({
  kind: z.literal('token'),
  futureId: z.string().min(1).max(512),
  /** Activity attempt (1 = first try): text of different attempts never mixes. */
  attempt: z.number().int().positive(),
  text: z.string().max(1_000_000),
});

/** A retry started: drop the text streamed so far for this future (its failed attempt's output). */
export const resetEventBody = z.object({
  kind: z.literal('reset'),
  futureId: z.string().min(1).max(512),
  attempt: z.number().int().positive(),
});

/**
 * The run ended (worker side: status only) or, as sent to SSE clients, its outcome: `result` when it
 * completed, `error` (`{ code, message }`) when not. `continued_as_new` does not end a stream.
 */
export const runEventBody = z.object({
  kind: z.literal('run'),
  status: z.enum(['completed', 'failed', 'cancelled', 'terminated', 'timed_out', 'continued_as_new']),
  result: z.unknown().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});

/** Any run event without its sequence number (what publishers send). */
export const runEventBodySchema = z.discriminatedUnion('kind', [
  futureEventBody,
  tokenEventBody,
  resetEventBody,
  runEventBody,
]);
export type RunEventBody = z.infer<typeof runEventBodySchema>;
export type RunEventKind = RunEventBody['kind'];

/** A run event as subscribers see it: `seq` orders the events of one workflow id (1, 2, …) on one bus. */
export type RunEvent = RunEventBody & { seq: number };

/** One published event: the Temporal workflow id it belongs to and the event. */
export const publishedEventSchema = z.object({ workflowId: z.string().min(1).max(1024), event: runEventBodySchema });
export type PublishedEvent = z.infer<typeof publishedEventSchema>;

/** The body of `POST /internal/v1/events` (a batch from one worker, in publish order). */
export const eventBatchSchema = z.object({ events: z.array(publishedEventSchema).max(10_000) });
export type EventBatch = z.infer<typeof eventBatchSchema>;

/** What an SSE `data:` line carries: the event without its seq (which is the `id:` line). */
export function eventData(event: RunEvent): RunEventBody {
  const data: Partial<RunEvent> = { ...event };
  delete data.seq;
  return data as RunEventBody;
}
