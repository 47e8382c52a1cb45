/** The figures of a workload benchmark: capacities, overhead share, the closing line's metrics and targets. */
import { round } from '../stats';
import { target, type Target } from '../run-info';
import type { BenchVariant } from '../workloads/types';
import {
  capacityOf,
  capacityRatio,
  overheadShareP50,
  type Capacity,
  type RunRecord,
  type SegmentSummary,
} from './stats';

/** The goal the issue states for every workload: the framework's share of latency at low load. */
export const overheadShareTarget = 0.1;

export interface E2eOutcome {
  capacities: Partial<Record<BenchVariant, Capacity>>;
  /** Completion times of the sets per rate (the software-engineering workload's measure). */
  speedups: Speedups;
  capacityRatio: number;
  overheadShareP50: number;
  metrics: Record<string, unknown>;
  targets: Record<string, Target>;
}

/**
 * The tail goals per workload, on Nalar / baseline ratios over the rates from half the baseline's
 * capacity to its capacity (the control-plane issue states the analyst's: p95 and p99 at least 60% lower,
 * mean not worse).
 */
export const tailRatioTargets: Readonly<Record<string, Readonly<Record<'p95' | 'p99' | 'mean', number>>>> = {
  analyst: { p95: 0.4, p99: 0.4, mean: 1 },
};

/**
 * The capacity issue's goals: the router's sustained rate (the capacity figure) at least 1.5× the baseline's;
 * on the software-engineering workload, a speedup (baseline / Nalar completion time of the same job set) of 3
 * and a baseline load imbalance 2.5× Nalar's, at the rate where the speedup is largest.
 */
export const capacityGoals = { routerSustainedRateRatio: 1.5, sweSpeedup: 3, sweImbalanceRatio: 2.5 } as const;

/** One rate both variants ran: how much sooner Nalar completed the set, and how much sooner anything could. */
export interface RateSpeedup {
  rate: number;
  /** Baseline / Nalar completion time of the set (`wallSeconds`: the step's start to idle replicas). */
  speedup: number;
  /** Baseline / Nalar load imbalance (max/mean busy time over every replica). */
  imbalanceRatio: number;
  /**
   * Seconds from the step's start the set would take with no wait anywhere: the latest arrival offset plus that
   * request's critical path (model and tool time; the shorter of the two variants' reports). Null when no
   * request completed. Framework overhead is left out, so no system on these engines completes the set sooner.
   */
  noWaitSeconds: number | null;
  /** The largest speedup any system could reach on this set: the baseline's completion time / `noWaitSeconds`. */
  speedupBound: number | null;
  /** The largest imbalance ratio any system could reach: the baseline's own imbalance (max/mean is at least 1). */
  imbalanceRatioBound: number;
}

/** Per rate both variants ran ({@link RateSpeedup}); the rate of the largest speedup. */
export interface Speedups {
  perRate: RateSpeedup[];
  best: RateSpeedup | null;
}

/** {@link RateSpeedup.noWaitSeconds} of the records of one rate (both variants'). */
export function noWaitSeconds(records: readonly RunRecord[]): number | null {
  const shortest = new Map<string, { atMs: number; criticalPathMs: number }>();
  for (const r of records) {
    if (!r.ok || r.criticalPathMs === undefined) continue;
    const key = `${r.id}\u0000${r.turn ?? ''}`;
    const known = shortest.get(key);
    if (!known || r.criticalPathMs < known.criticalPathMs) {
      shortest.set(key, { atMs: r.arrival.atMs, criticalPathMs: r.criticalPathMs });
    }
  }
  if (shortest.size === 0) return null;
  return Math.max(...[...shortest.values()].map((x) => x.atMs + x.criticalPathMs)) / 1000;
}

/** {@link Speedups} of a run. */
export function speedups(segments: readonly SegmentSummary[], records: readonly RunRecord[]): Speedups {
  const of = (variant: BenchVariant, rate: number) => segments.find((s) => s.variant === variant && s.rate === rate);
  const perRate = [...new Set(segments.map((s) => s.rate))]
    .sort((a, b) => a - b)
    .flatMap((rate): RateSpeedup[] => {
      const [n, b] = [of('nalar', rate), of('baseline', rate)];
      if (!n || !b || n.wallSeconds <= 0) return [];
      const noWait = noWaitSeconds(records.filter((r) => r.rate === rate));
      return [
        {
          rate,
          speedup: b.wallSeconds / n.wallSeconds,
          imbalanceRatio: b.imbalance.overall / n.imbalance.overall,
          noWaitSeconds: noWait,
          speedupBound: noWait === null || noWait <= 0 ? null : b.wallSeconds / noWait,
          imbalanceRatioBound: b.imbalance.overall,
        },
      ];
    });
  const best = perRate.reduce<Speedups['best']>((a, x) => (a === null || x.speedup > a.speedup ? x : a), null);
  return { perRate, best };
}

/** Nalar / baseline latency ratios over the rates in [capacity / 2, capacity] of the baseline: the worst of each. */
export interface TailRatios {
  /** The rates compared (both variants ran them, within the range). */
  rates: number[];
  p95Max: number | null;
  p99Max: number | null;
  meanMax: number | null;
}

/** {@link TailRatios} of a run; every figure null when the baseline has no capacity or no rate is in range. */
export function tailRatios(segments: readonly SegmentSummary[], baselineCapacity: number | null): TailRatios {
  const none: TailRatios = { rates: [], p95Max: null, p99Max: null, meanMax: null };
  if (baselineCapacity === null) return none;
  const of = (variant: BenchVariant, rate: number) => segments.find((s) => s.variant === variant && s.rate === rate);
  const pairs = [...new Set(segments.map((s) => s.rate))]
    .filter((r) => r >= baselineCapacity / 2 && r <= baselineCapacity)
    .sort((a, b) => a - b)
    .flatMap((rate) => {
      const [n, b] = [of('nalar', rate), of('baseline', rate)];
      return n && b && n.completed > 0 && b.completed > 0 ? [{ rate, n: n.latency, b: b.latency }] : [];
    });
  if (pairs.length === 0) return none;
  const worst = (k: 'p95' | 'p99' | 'mean') => Math.max(...pairs.map(({ n, b }) => n[k] / b[k]));
  return { rates: pairs.map((p) => p.rate), p95Max: worst('p95'), p99Max: worst('p99'), meanMax: worst('mean') };
}

/** Compact per-segment figures for the closing line (rounded; full ones are in result.json). */
export function compactSegment(s: SegmentSummary): Record<string, unknown> {
  return {
    rate: s.rate,
    variant: s.variant,
    requests: s.requests,
    completed: s.completed,
    failed: s.failed,
    throughput: round(s.throughput),
    mean_ms: round(s.latency.mean),
    p50_ms: round(s.latency.p50),
    p95_ms: round(s.latency.p95),
    p99_ms: round(s.latency.p99),
    max_ms: round(s.latency.max),
    imbalance: round(s.imbalance.overall),
    imbalance_max_agent: round(s.imbalance.maxOverAgents),
  };
}

/** The largest of the finite values, rounded; null when there is none. */
function maxOrNull(values: readonly (number | null)[]): number | null {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return finite.length ? round(Math.max(...finite)) : null;
}

/** Capacities, overhead share, and the closing line's metrics and targets of a run. */
export function e2eOutcome(
  workload: string,
  variants: readonly BenchVariant[],
  segments: readonly SegmentSummary[],
  records: readonly RunRecord[],
): E2eOutcome {
  const capacities: Partial<Record<BenchVariant, Capacity>> = {};
  for (const v of variants) capacities[v] = capacityOf(segments, v);
  const ratio = capacityRatio(capacities.nalar, capacities.baseline);
  const share = overheadShareP50(records);
  const tails = tailRatios(segments, capacities.baseline?.capacityRate ?? null);
  const metrics = {
    workload,
    baseline_capacity_rate: capacities.baseline?.capacityRate ?? null,
    nalar_capacity_rate: capacities.nalar?.capacityRate ?? null,
    capacity_ratio: round(ratio),
    baseline_first_miss_rate: capacities.baseline?.firstMissRate ?? null,
    nalar_first_miss_rate: capacities.nalar?.firstMissRate ?? null,
    framework_overhead_share_p50: round(share),
    tail_ratio_rates: tails.rates,
    [`${workload}_p95_ratio_max`]: tails.p95Max === null ? null : round(tails.p95Max),
    [`${workload}_p99_ratio_max`]: tails.p99Max === null ? null : round(tails.p99Max),
    [`${workload}_mean_ratio_max`]: tails.meanMax === null ? null : round(tails.meanMax),
    rates: segments.map(compactSegment),
  };
  const sp = speedups(segments, records);
  const capacityTargets: Record<string, Target> =
    workload === 'router'
      ? { router_sustained_rate_ratio: target(ratio, '>=', capacityGoals.routerSustainedRateRatio) }
      : workload === 'swe'
        ? {
            swe_speedup: target(sp.best?.speedup ?? NaN, '>=', capacityGoals.sweSpeedup),
            swe_imbalance_ratio: target(sp.best?.imbalanceRatio ?? NaN, '>=', capacityGoals.sweImbalanceRatio),
          }
        : {};
  Object.assign(metrics, {
    ...(workload === 'router' && { router_sustained_rate_ratio: round(ratio) }),
    ...(workload === 'swe' && {
      swe_speedup: sp.best ? round(sp.best.speedup) : null,
      swe_imbalance_ratio: sp.best ? round(sp.best.imbalanceRatio) : null,
      swe_speedup_rate: sp.best?.rate ?? null,
      // What no system could beat on this run's sets, and the rates where both targets were within reach at all.
      swe_speedup_bound_max: maxOrNull(sp.perRate.map((x) => x.speedupBound)),
      swe_targets_reachable_rates: sp.perRate
        .filter(
          (x) =>
            (x.speedupBound ?? 0) >= capacityGoals.sweSpeedup &&
            x.imbalanceRatioBound >= capacityGoals.sweImbalanceRatio,
        )
        .map((x) => x.rate),
      speedups: sp.perRate.map((x) => ({
        rate: x.rate,
        speedup: round(x.speedup),
        imbalance_ratio: round(x.imbalanceRatio),
        no_wait_s: x.noWaitSeconds === null ? null : round(x.noWaitSeconds),
        speedup_bound: x.speedupBound === null ? null : round(x.speedupBound),
        imbalance_ratio_bound: round(x.imbalanceRatioBound),
      })),
    }),
  });
  const goals = tailRatioTargets[workload];
  const tailTargets: Record<string, Target> = goals
    ? {
        [`${workload}_p95_ratio_max`]: target(tails.p95Max ?? NaN, '<=', goals.p95),
        [`${workload}_p99_ratio_max`]: target(tails.p99Max ?? NaN, '<=', goals.p99),
        [`${workload}_mean_ratio_max`]: target(tails.meanMax ?? NaN, '<=', goals.mean),
      }
    : {};
  return {
    capacities,
    speedups: sp,
    capacityRatio: ratio,
    overheadShareP50: share,
    metrics,
    targets: {
      framework_overhead_share_p50: target(share, '<=', overheadShareTarget),
      ...tailTargets,
      ...capacityTargets,
    },
  };
}
