/**
 * The arithmetic of the policies benchmark, pure and unit-tested: a segment's makespan, and the SRTF and LPT
 * ratios against the default policy set per rate and over the rates.
 */
import type { RequestRecord } from '../workloads/types';
import type { SegmentSummary } from '../e2e/stats';

/** The policy sets the benchmark compares: the defaults, the defaults plus SRTF, the defaults plus LPT. */
export const policySetNames = ['default', 'srtf', 'lpt'] as const;
export type PolicySetName = (typeof policySetNames)[number];

/**
 * Wall ms from the segment's first arrival (the earliest `sentAt` of any record, failed ones included: they
 * arrived too) to its last completion (the latest `sentAt + latencyMs` of a completed record). NaN when
 * nothing completed.
 */
export function makespanMs(records: readonly Pick<RequestRecord, 'sentAt' | 'latencyMs' | 'ok'>[]): number {
  let first = Infinity;
  let last = -Infinity;
  for (const r of records) {
    first = Math.min(first, r.sentAt);
    if (r.ok) last = Math.max(last, r.sentAt + r.latencyMs);
  }
  return Number.isFinite(last) ? last - first : NaN;
}

/** `value / reference`; NaN unless both are finite and the reference is positive. */
export function ratioOf(value: number, reference: number): number {
  return Number.isFinite(value) && Number.isFinite(reference) && reference > 0 ? value / reference : NaN;
}

/** A ratio as a change in percent: 0.976 → −2.4. NaN stays NaN. */
export function changePct(ratio: number): number {
  return (ratio - 1) * 100;
}

/** Mean of the finite values; NaN when there is none. */
export function finiteMean(xs: readonly number[]): number {
  const ok = xs.filter((x) => Number.isFinite(x));
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : NaN;
}

/** One played segment: a (seed, rate, policy set) with its statistics and what the controller ran. */
export interface PolicySegment {
  policySet: PolicySetName;
  seed: number;
  /** The e2e statistics of the segment (variant `nalar`). */
  summary: SegmentSummary;
  makespanMs: number;
  /** Policy names `GET /v1/policy` served when the segment started. */
  servedPolicies: string[];
  /** Policy names of every decisions version published during the segment (distinct lists, comma-joined). */
  publishedPolicyLists: string[];
  /** Sessions that had a priority in at least one decisions version published during the segment. */
  prioritizedSessions: number;
}

/** SRTF and LPT against the default set at one rate (the mean over seeds of each seed's ratio). */
export interface RateComparison {
  rate: number;
  /** Mean completion time of completed jobs, srtf / default. */
  srtfMeanJctRatio: number;
  /** Makespan, lpt / default. */
  lptMakespanRatio: number;
}

/** The comparison over the whole run. */
export interface PolicyComparison {
  perRate: RateComparison[];
  /** Mean of the per-rate ratios (finite ones). */
  srtfMeanJctRatio: number;
  lptMakespanRatio: number;
}

/**
 * SRTF's mean completion time and LPT's makespan against the default set's, per (seed, rate) pair of
 * segments, averaged over seeds per rate, then over rates. A pair missing a segment, or where a figure is
 * not defined (nothing completed), contributes nothing.
 */
export function comparePolicySets(segments: readonly PolicySegment[]): PolicyComparison {
  const find = (set: PolicySetName, seed: number, rate: number) =>
    segments.find((g) => g.policySet === set && g.seed === seed && g.summary.rate === rate);
  const rates = [...new Set(segments.map((g) => g.summary.rate))].sort((a, b) => a - b);
  const seeds = [...new Set(segments.map((g) => g.seed))];
  const perRate = rates.map((rate): RateComparison => {
    const srtf: number[] = [];
    const lpt: number[] = [];
    for (const seed of seeds) {
      const base = find('default', seed, rate);
      if (!base) continue;
      const s = find('srtf', seed, rate);
      const l = find('lpt', seed, rate);
      if (s) srtf.push(ratioOf(s.summary.latency.mean, base.summary.latency.mean));
      if (l) lpt.push(ratioOf(l.makespanMs, base.makespanMs));
    }
    return { rate, srtfMeanJctRatio: finiteMean(srtf), lptMakespanRatio: finiteMean(lpt) };
  });
  return {
    perRate,
    srtfMeanJctRatio: finiteMean(perRate.map((r) => r.srtfMeanJctRatio)),
    lptMakespanRatio: finiteMean(perRate.map((r) => r.lptMakespanRatio)),
  };
}

/**
 * The order a step plays the sets in: as given on even steps, reversed on odd ones, so that no set always
 * runs first (on a colder stack) or last.
 */
export function setOrder<T>(sets: readonly T[], step: number): T[] {
  return step % 2 === 0 ? [...sets] : [...sets].reverse();
}
