/**
 * The arithmetic of the end-to-end benchmark, pure and unit-tested: statistics of one (rate, variant)
 * segment, load imbalance from replica busy time, capacity under the latency bound, and the framework's
 * overhead share at low load.
 */
import { percentile, summarize, type LatencySummary } from '../stats';
import type { Arrival, BenchVariant, RequestRecord } from '../workloads/types';

/** A raw record as kept in records.jsonl.gz: the workload's record, its segment and its arrival. */
export interface RunRecord extends RequestRecord {
  rate: number;
  variant: BenchVariant;
  arrival: Arrival;
}

/** Max/mean busy time across replicas: 1 is perfectly even; NaN when no replica was busy. */
export interface Imbalance {
  /** Per agent, over the replicas serving it. */
  perAgent: Record<string, number>;
  /** The largest of `perAgent` (NaN when none is defined). */
  maxOverAgents: number;
  /** Over every replica of the pool. */
  overall: number;
}

/** Statistics of a group of records (a segment, or one request kind of it). */
export interface RecordStats {
  requests: number;
  completed: number;
  failed: number;
  /** Failed requests by `errorCode` ('UNKNOWN' when a failed record has none). */
  failedBy: Record<string, number>;
  /** completed / requests (NaN when there are none). */
  completedShare: number;
  /** Latency of the completed requests, ms. */
  latency: LatencySummary;
}

/** One (rate, variant) segment of the grid. */
export interface SegmentSummary extends RecordStats {
  rate: number;
  variant: BenchVariant;
  /** Arrivals offered in the step. */
  arrivals: number;
  /** Completed requests per second of the step (completed / step seconds). */
  throughput: number;
  /** Per request kind. */
  kinds: Record<string, RecordStats>;
  /** Model ms each replica was busy during the segment (index = replica). */
  busyMs: number[];
  imbalance: Imbalance;
  /** Real seconds from the first arrival until the replicas were idle again. */
  wallSeconds: number;
}

/** max/mean of `xs`; NaN when empty or the mean is not positive. */
export function maxOverMean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return mean > 0 ? Math.max(...xs) / mean : NaN;
}

/**
 * Load imbalance of one segment from each replica's busy time (index = replica) and which replicas serve
 * which agent (as the workload's `agentReplicas()`).
 */
export function imbalanceOf(busyMs: readonly number[], agentReplicas: Record<string, readonly number[]>): Imbalance {
  const perAgent: Record<string, number> = {};
  for (const [agent, replicas] of Object.entries(agentReplicas)) {
    perAgent[agent] = maxOverMean(replicas.map((i) => busyMs[i] ?? 0));
  }
  const defined = Object.values(perAgent).filter((x) => Number.isFinite(x));
  return {
    perAgent,
    maxOverAgents: defined.length ? Math.max(...defined) : NaN,
    overall: maxOverMean(busyMs),
  };
}

/** Counts, failures by code and latency of completed requests of `records`. */
export function recordStats(records: readonly RequestRecord[]): RecordStats {
  const failedBy: Record<string, number> = {};
  const ok: number[] = [];
  for (const r of records) {
    if (r.ok) ok.push(r.latencyMs);
    else {
      const code = r.errorCode ?? 'UNKNOWN';
      failedBy[code] = (failedBy[code] ?? 0) + 1;
    }
  }
  return {
    requests: records.length,
    completed: ok.length,
    failed: records.length - ok.length,
    failedBy,
    completedShare: records.length ? ok.length / records.length : NaN,
    latency: summarize(ok),
  };
}

/** Everything {@link summarizeSegment} needs about one segment. */
export interface SegmentInput {
  rate: number;
  variant: BenchVariant;
  arrivals: number;
  stepSeconds: number;
  records: readonly RequestRecord[];
  busyMs: number[];
  agentReplicas: Record<string, readonly number[]>;
  wallSeconds: number;
}

/** The statistics of one (rate, variant) segment. */
export function summarizeSegment(s: SegmentInput): SegmentSummary {
  const byKind = new Map<string, RequestRecord[]>();
  for (const r of s.records) {
    const list = byKind.get(r.kind) ?? [];
    list.push(r);
    byKind.set(r.kind, list);
  }
  const all = recordStats(s.records);
  return {
    rate: s.rate,
    variant: s.variant,
    arrivals: s.arrivals,
    ...all,
    throughput: all.completed / s.stepSeconds,
    kinds: Object.fromEntries(
      [...byKind.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, rs]) => [k, recordStats(rs)]),
    ),
    busyMs: s.busyMs,
    imbalance: imbalanceOf(s.busyMs, s.agentReplicas),
    wallSeconds: s.wallSeconds,
  };
}

/** The latency bound of the capacity figure: mean ≤ `meanFactor` × the low-load mean, ≥ `minCompletedShare` completed. */
export const capacityBound = { meanFactor: 2, minCompletedShare: 0.99 } as const;

/** A variant's capacity on the grid. */
export interface Capacity {
  variant: BenchVariant;
  /** Mean latency at the lowest rate (ms): the reference of the bound. */
  lowLoadMeanMs: number;
  /** `meanFactor` × lowLoadMeanMs. */
  boundMs: number;
  /** The highest rate up to which every rate meets the bound; null when the lowest rate misses it. */
  capacityRate: number | null;
  /** The first rate that misses it; null when every rate of the grid meets it (capacity is then a lower bound). */
  firstMissRate: number | null;
}

/** Whether a segment meets the bound `boundMs`. */
export function meetsBound(s: Pick<SegmentSummary, 'latency' | 'completedShare'>, boundMs: number): boolean {
  return s.completedShare >= capacityBound.minCompletedShare && s.latency.mean <= boundMs;
}

/** The capacity of `variant` from its segments (any order; other variants' segments are ignored). */
export function capacityOf(segments: readonly SegmentSummary[], variant: BenchVariant): Capacity {
  const own = segments.filter((s) => s.variant === variant).sort((a, b) => a.rate - b.rate);
  const lowLoadMeanMs = own[0]?.latency.mean ?? NaN;
  const boundMs = capacityBound.meanFactor * lowLoadMeanMs;
  let capacityRate: number | null = null;
  let firstMissRate: number | null = null;
  for (const s of own) {
    if (!meetsBound(s, boundMs)) {
      firstMissRate = s.rate;
      break;
    }
    capacityRate = s.rate;
  }
  return { variant, lowLoadMeanMs, boundMs, capacityRate, firstMissRate };
}

/** nalar / baseline capacity; NaN when either is missing. */
export function capacityRatio(nalar: Capacity | undefined, baseline: Capacity | undefined): number {
  const n = nalar?.capacityRate;
  const b = baseline?.capacityRate;
  return n != null && b != null && b > 0 ? n / b : NaN;
}

/**
 * The framework's overhead share at low load: over the Nalar variant's completed requests at the lowest rate
 * that report their critical path, the p50 of (latency − criticalPathMs) / latency. NaN when none does.
 */
export function overheadShareP50(records: readonly RunRecord[]): number {
  const nalar = records.filter((r) => r.variant === 'nalar');
  if (nalar.length === 0) return NaN;
  const lowest = Math.min(...nalar.map((r) => r.rate));
  const shares = nalar
    .filter((r) => r.rate === lowest && r.ok && r.criticalPathMs !== undefined && r.latencyMs > 0)
    .map((r) => (r.latencyMs - (r.criticalPathMs as number)) / r.latencyMs)
    .sort((a, b) => a - b);
  return percentile(shares, 0.5);
}
