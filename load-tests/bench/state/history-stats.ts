/**
 * The arithmetic of the history part of the state benchmark: the size of a workflow history after every
 * agent step, how many steps a run without offload can take within Temporal's limits, bytes per step of a
 * mode (an S-step run minus a 0-step run, over S), and the largest of them, which the goal is judged on.
 */
import { temporal } from '@temporalio/proto';
import { TURN_BYTES } from './payloads';

/** Temporal's limit on one payload: runs without offload must keep every payload under it. */
export const PAYLOAD_LIMIT_BYTES = 2 * 1024 * 1024;
/** History budget of a run without offload: well under the 50 MB limit (and the 10 MB warning x 2). */
export const PLAIN_HISTORY_BUDGET_BYTES = 20 * 1024 * 1024;
/** Room left under the payload limit for what wraps the conversation (the activity input's JSON, metadata). */
const PAYLOAD_MARGIN_BYTES = 1024;

/** The encoded size of a workflow history, in all and after every agent step. */
export interface HistoryMeasure {
  bytes: number;
  events: number;
  /** History bytes after each agent step (index 0: before the first step). */
  afterStep: number[];
}

/** One workflow run of the history part (a line of records.jsonl.gz). */
export interface HistoryRunRecord {
  part: 'history';
  sizeKiB: number;
  offload: boolean;
  steps: number;
  ok: boolean;
  seconds: number;
  historyBytes?: number;
  events?: number;
  afterStep?: number[];
  error?: string;
}

/** One mode (offload on or off) at one conversation size. */
export interface HistoryModeResult {
  steps: number;
  ran: boolean;
  reason?: string;
  baselineBytes?: number;
  bytes?: number;
  events?: number;
  baselineEvents?: number;
  bytesPerStep?: number;
  eventsPerStep?: number;
}

/** Both modes at one conversation size. */
export interface HistorySizeResult {
  sizeKiB: number;
  withOffload: HistoryModeResult;
  withoutOffload: HistoryModeResult;
  /** bytes per step without / with offload. */
  ratio?: number;
}

/** Encoded size of one length-delimited field holding `len` bytes (tag of field 1 + varint length). */
function fieldBytes(len: number): number {
  let varint = 1;
  while (len >= 128) {
    len = Math.floor(len / 128);
    varint++;
  }
  return 1 + varint;
}

/**
 * The encoded size of the `History` protobuf of `events`, and its size after every agent step: after the
 * first workflow task completed (step 0), then after each completed activity. Throws if the per-event sizes
 * do not add up to the whole (they must: each step's figure comes from the same encoding).
 */
export function historySizes(events: readonly temporal.api.history.v1.IHistoryEvent[]): HistoryMeasure {
  const { History, HistoryEvent } = temporal.api.history.v1;
  const { EventType } = temporal.api.enums.v1;
  const bytes = History.encode(History.create({ events: [...events] })).finish().length;
  const afterStep: number[] = [];
  let sum = 0;
  let firstTaskDone = false;
  for (const e of events) {
    const len = HistoryEvent.encode(e).finish().length;
    sum += len + fieldBytes(len);
    if (!firstTaskDone && e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) {
      firstTaskDone = true;
      afterStep.push(sum);
    }
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) afterStep.push(sum);
  }
  if (sum !== bytes) throw new Error(`per-event history sizes add up to ${sum}, not ${bytes}`);
  return { bytes, events: events.length, afterStep };
}

/**
 * Steps a run without offload can take from a conversation of `sizeBytes`: at most `steps`, as many as keep
 * its largest payload (the conversation after the last step) under Temporal's 2 MB limit and its history
 * (each step records the conversation twice: activity input and result) under the budget; a reason when not
 * even one step fits.
 */
export function plainSteps(sizeBytes: number, steps: number): { steps: number } | { reason: string } {
  const fitting = Math.floor((PAYLOAD_LIMIT_BYTES - PAYLOAD_MARGIN_BYTES - sizeBytes) / (TURN_BYTES + 1));
  if (fitting < 1) {
    return { reason: `a ${Math.round(sizeBytes / 1024)} KiB payload does not fit Temporal's 2 MB payload limit` };
  }
  const capped = Math.min(steps, fitting);
  const largest = sizeBytes + capped * (TURN_BYTES + 1);
  return { steps: Math.max(1, Math.min(capped, Math.floor(PLAIN_HISTORY_BUDGET_BYTES / (2 * largest)))) };
}

/**
 * One mode's result from its 0-step run (`base`) and its `steps`-step run (`full`) of the same conversation:
 * bytes and events per step are the difference over `steps`, so what every run has anyway (start, the
 * conversation as workflow input, completion) does not count. Not run when either run failed.
 */
export function modeResult(base: HistoryRunRecord, full: HistoryRunRecord, steps: number): HistoryModeResult {
  if (!base.ok || !full.ok || base.historyBytes === undefined || full.historyBytes === undefined) {
    return { steps, ran: false, reason: base.error ?? full.error ?? 'no history size measured' };
  }
  const baseEvents = base.events ?? 0;
  const fullEvents = full.events ?? 0;
  return {
    steps,
    ran: true,
    baselineBytes: base.historyBytes,
    bytes: full.historyBytes,
    baselineEvents: baseEvents,
    events: fullEvents,
    bytesPerStep: (full.historyBytes - base.historyBytes) / steps,
    eventsPerStep: (fullEvents - baseEvents) / steps,
  };
}

/** Both modes at one size, with the ratio of bytes per step without / with offload when both ran. */
export function sizeResult(
  sizeKiB: number,
  withOffload: HistoryModeResult,
  withoutOffload: HistoryModeResult,
): HistorySizeResult {
  const ratio =
    withOffload.bytesPerStep !== undefined && withoutOffload.bytesPerStep !== undefined
      ? withoutOffload.bytesPerStep / withOffload.bytesPerStep
      : undefined;
  return { sizeKiB, withOffload, withoutOffload, ...(ratio !== undefined && { ratio }) };
}

/**
 * Largest bytes per step with offload over all sizes (the goal's figure; NaN if any size has none) and over
 * the sizes that start above the threshold, so are offloaded from the first step (smaller ones stay whole
 * in history until they pass it).
 */
export function historyMaxima(
  sizes: readonly HistorySizeResult[],
  offloadBytes: number,
): { maxWith: number; maxAbove: number } {
  const all = sizes.map((s) => s.withOffload.bytesPerStep ?? NaN);
  const above = sizes.filter((s) => s.sizeKiB * 1024 > offloadBytes).map((s) => s.withOffload.bytesPerStep ?? NaN);
  return { maxWith: all.length ? Math.max(...all) : NaN, maxAbove: above.length ? Math.max(...above) : NaN };
}
