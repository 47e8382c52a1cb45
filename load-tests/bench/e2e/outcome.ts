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
  capacityRatio: number;
  overheadShareP50: number;
  metrics: Record<string, unknown>;
  targets: Record<string, Target>;
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
  const metrics = {
    workload,
    baseline_capacity_rate: capacities.baseline?.capacityRate ?? null,
    nalar_capacity_rate: capacities.nalar?.capacityRate ?? null,
    capacity_ratio: round(ratio),
    baseline_first_miss_rate: capacities.baseline?.firstMissRate ?? null,
    nalar_first_miss_rate: capacities.nalar?.firstMissRate ?? null,
    framework_overhead_share_p50: round(share),
    rates: segments.map(compactSegment),
  };
  return {
    capacities,
    capacityRatio: ratio,
    overheadShareP50: share,
    metrics,
    targets: { framework_overhead_share_p50: target(share, '<=', overheadShareTarget) },
  };
}
