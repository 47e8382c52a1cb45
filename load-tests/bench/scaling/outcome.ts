/**
 * The arithmetic of `npm run bench -- scaling`, pure and unit-tested: the reaction times of capacity to a step
 * of load (from the controller's rounds, the capacity manager's events and the workers' call records), calls
 * lost on the way down, the timeline of serving replicas and offered/served rate, per-phase statistics, and the
 * closing line's metrics and targets.
 */
import type { CapacityEvent } from '../../../control-plane/capacity/manager';
import { recordStats, type RecordStats } from '../e2e/stats';
import { round } from '../stats';
import { target, type Target } from '../run-info';
import type { RequestRecord } from '../workloads/types';

/** The three phases of offered load, in order. */
export const scalingPhases = ['low', 'high', 'after'] as const;
export type ScalingPhase = (typeof scalingPhases)[number];

/** What one controller round showed of the managed agent (read by the probe policy after the others ran). */
export interface ProbeRound {
  /** Epoch ms of the round. */
  at: number;
  /** Serving replicas (base URLs). */
  serving: readonly string[];
  /** Replicas loading for it, provisions under way included. */
  loading: number;
  /** Calls waiting in the workers for its serving replicas. */
  waiting: number;
  /** Calls in flight on its serving replicas. */
  inFlight: number;
  /** Short by autoscale's rule (`isShort`): waiting above `upWaiting` × serving replicas, or a call waiting longer than `upQueueMs`. */
  short: boolean;
}

/** One finished model call of the managed agent, as a worker reported it. */
export interface ServedCall {
  /** Epoch ms it finished. */
  at: number;
  replica: string;
  ok: boolean;
  errorCode?: string;
}

/** When the phases begin, epoch ms. */
export interface PhaseTimes {
  /** First arrival of the low phase. */
  startedAt: number;
  /** The step up: first arrival of the high phase. */
  stepAt: number;
  /** The fall: first arrival of the last (low) phase. */
  fallAt: number;
  /** End of the arrivals. */
  endAt: number;
}

/** The phase a request belongs to, by when it was sent. */
export function phaseOf(sentAt: number, t: PhaseTimes): ScalingPhase {
  return sentAt < t.stepAt ? 'low' : sentAt < t.fallAt ? 'high' : 'after';
}

/** The reaction of capacity to the step up and to the fall. NaN where the thing never happened. */
export interface Reaction {
  /** Step → first round at or after it whose snapshot shows the agent short. */
  detectionS: number;
  /** Detection → the first provision asked for after the step. */
  decisionS: number;
  /** That provision → first call served (finished ok) by a replica that was not serving before the step. */
  actuationS: number;
  /** Step → that first call: what a user of the agent waits for. */
  scaleUpReactionS: number;
  /** The replica of that call. */
  firstNewReplica?: string;
  /** Fall → first replica removed (drained and gone). */
  scaleDownS: number;
  /** From the fall to the end: failed requests plus failed model calls (a replica that refused or lost one). */
  callsLostOnScaleDown: number;
  failedRequestsAfterFall: number;
  failedCallsAfterFall: number;
  /** Most replicas serving at once, and replicas serving at the end. */
  maxServing: number;
  servingAtEnd: number;
}

const seconds = (ms: number) => ms / 1000;
const first = <T>(xs: readonly T[], ok: (x: T) => boolean) => xs.find(ok);

/** Reaction times from the rounds, the capacity events, the call records and the request records. */
export function reactionOf(
  t: PhaseTimes,
  rounds: readonly ProbeRound[],
  events: readonly CapacityEvent[],
  calls: readonly ServedCall[],
  records: readonly RequestRecord[],
): Reaction {
  const byTime = <T extends { at: number }>(xs: readonly T[]) => [...xs].sort((a, b) => a.at - b.at);
  const rs = byTime(rounds);
  const before = [...rs].reverse().find((r) => r.at < t.stepAt);
  const oldReplicas = new Set(before?.serving ?? rs[0]?.serving ?? []);
  const detected = first(rs, (r) => r.at >= t.stepAt && r.short);
  const evs = byTime(events);
  const provision = first(evs, (e) => e.kind === 'provision-requested' && e.at >= t.stepAt);
  const served = first(byTime(calls), (c) => c.ok && c.at >= t.stepAt && !oldReplicas.has(c.replica));
  const removed = first(evs, (e) => e.kind === 'removed' && e.at >= t.fallAt);
  const failedRequestsAfterFall = records.filter((r) => !r.ok && r.sentAt + r.latencyMs >= t.fallAt).length;
  const failedCallsAfterFall = calls.filter((c) => !c.ok && c.at >= t.fallAt).length;
  const diff = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? NaN : seconds(b - a);
  return {
    detectionS: diff(t.stepAt, detected?.at),
    decisionS: diff(detected?.at, provision?.at),
    actuationS: diff(provision?.at, served?.at),
    scaleUpReactionS: diff(t.stepAt, served?.at),
    ...(served && { firstNewReplica: served.replica }),
    scaleDownS: diff(t.fallAt, removed?.at),
    callsLostOnScaleDown: failedRequestsAfterFall + failedCallsAfterFall,
    failedRequestsAfterFall,
    failedCallsAfterFall,
    maxServing: Math.max(0, ...rs.map((r) => r.serving.length)),
    servingAtEnd: rs[rs.length - 1]?.serving.length ?? 0,
  };
}

/** One bucket of the timeline. */
export interface TimelinePoint {
  /** Seconds from the start of the arrivals (the bucket's start). */
  t: number;
  /** Requests sent per second. */
  offered: number;
  /** Requests completed per second (by completion time). */
  served: number;
  /** Serving and loading replicas at the bucket's last round. */
  serving: number;
  loading: number;
  /** Calls waiting in the workers at the bucket's last round. */
  waiting: number;
}

/** The timeline in buckets of `bucketS` seconds from `t.startedAt` to the last round or completion. */
export function timelineOf(
  t: PhaseTimes,
  rounds: readonly ProbeRound[],
  records: readonly RequestRecord[],
  bucketS = 2,
): TimelinePoint[] {
  const bucketMs = bucketS * 1000;
  const done = records.filter((r) => r.ok).map((r) => r.sentAt + r.latencyMs);
  const last = Math.max(t.endAt, ...done, ...rounds.map((r) => r.at));
  const n = Math.max(1, Math.ceil((last - t.startedAt) / bucketMs));
  const points: TimelinePoint[] = Array.from({ length: n }, (_, i) => ({
    t: i * bucketS,
    offered: 0,
    served: 0,
    serving: NaN,
    loading: NaN,
    waiting: NaN,
  }));
  const bucket = (at: number) => Math.floor((at - t.startedAt) / bucketMs);
  for (const r of records) {
    const b = points[bucket(r.sentAt)];
    if (b) b.offered += 1 / bucketS;
  }
  for (const at of done) {
    const b = points[bucket(at)];
    if (b) b.served += 1 / bucketS;
  }
  for (const r of [...rounds].sort((a, b) => a.at - b.at)) {
    const b = points[bucket(r.at)];
    if (!b) continue;
    b.serving = r.serving.length;
    b.loading = r.loading;
    b.waiting = r.waiting;
  }
  // A bucket without a round (none fell in it) keeps the state of the one before.
  for (let i = 1; i < points.length; i++) {
    const p = points[i] as TimelinePoint;
    const prev = points[i - 1] as TimelinePoint;
    if (Number.isNaN(p.serving))
      Object.assign(p, { serving: prev.serving, loading: prev.loading, waiting: prev.waiting });
  }
  return points.map((p) => ({ ...p, offered: round(p.offered), served: round(p.served) }));
}

/** Statistics of the requests sent in each phase. */
export function phaseStats(t: PhaseTimes, records: readonly RequestRecord[]): Record<ScalingPhase, RecordStats> {
  const of = (p: ScalingPhase) => recordStats(records.filter((r) => phaseOf(r.sentAt, t) === p));
  return { low: of('low'), high: of('high'), after: of('after') };
}

/** The closing line's metrics and targets (issue 14): reaction to a step within 10 s, no call lost going down. */
export function scalingOutcome(
  reaction: Reaction,
  phases: Record<ScalingPhase, RecordStats>,
): { metrics: Record<string, number>; targets: Record<string, Target> } {
  const metrics: Record<string, number> = {
    scale_up_reaction_s: round(reaction.scaleUpReactionS),
    detection_s: round(reaction.detectionS),
    decision_s: round(reaction.decisionS),
    actuation_s: round(reaction.actuationS),
    scale_down_s: round(reaction.scaleDownS),
    calls_lost_on_scale_down: reaction.callsLostOnScaleDown,
    max_serving_replicas: reaction.maxServing,
    serving_replicas_at_end: reaction.servingAtEnd,
  };
  for (const p of scalingPhases) {
    metrics[`${p}_requests`] = phases[p].requests;
    metrics[`${p}_failed`] = phases[p].failed;
    metrics[`${p}_mean_ms`] = round(phases[p].latency.mean);
  }
  return {
    metrics,
    targets: {
      scale_up_reaction_s: target(reaction.scaleUpReactionS, '<=', 10),
      calls_lost_on_scale_down: target(reaction.callsLostOnScaleDown, '<=', 0),
    },
  };
}
