/** The closing line's metrics of the policies benchmark (rounded; the full figures are in result.json). */
import { round } from '../stats';
import { changePct, type PolicyComparison, type PolicySegment } from './stats';

/** A figure for JSON: rounded, and null when not defined (NaN would print as null anyway; this says so). */
const num = (x: number): number | null => (Number.isFinite(x) ? round(x) : null);

/**
 * `srtf_mean_jct_ratio` (mean completion time srtf / default) and `lpt_makespan_ratio` (makespan lpt /
 * default) over the rates, the same as changes in percent, per rate, and per segment.
 */
export function policiesMetrics(c: PolicyComparison, segments: readonly PolicySegment[]): Record<string, unknown> {
  return {
    srtf_mean_jct_ratio: num(c.srtfMeanJctRatio),
    lpt_makespan_ratio: num(c.lptMakespanRatio),
    srtf_mean_jct_change_pct: num(changePct(c.srtfMeanJctRatio)),
    lpt_makespan_change_pct: num(changePct(c.lptMakespanRatio)),
    per_rate: c.perRate.map((r) => ({
      rate: r.rate,
      srtf_mean_jct_ratio: num(r.srtfMeanJctRatio),
      lpt_makespan_ratio: num(r.lptMakespanRatio),
      srtf_mean_jct_change_pct: num(changePct(r.srtfMeanJctRatio)),
      lpt_makespan_change_pct: num(changePct(r.lptMakespanRatio)),
    })),
    segments: segments.map((g) => ({
      seed: g.seed,
      rate: g.summary.rate,
      policy_set: g.policySet,
      completed: g.summary.completed,
      failed: g.summary.failed,
      mean_ms: num(g.summary.latency.mean),
      p50_ms: num(g.summary.latency.p50),
      p95_ms: num(g.summary.latency.p95),
      p99_ms: num(g.summary.latency.p99),
      makespan_ms: num(g.makespanMs),
    })),
  };
}
