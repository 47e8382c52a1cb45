/** Summary statistics for benchmark reports. */

export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * Nearest-rank percentile of ascending `sorted` values: the value of rank ceil(q × n), at least the first.
 * NaN when there are none; a q outside [0, 1] is a programming error and throws.
 */
export function percentile(sorted: readonly number[], q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`percentile: q must be in [0, 1], got ${q}`);
  if (sorted.length === 0) return NaN;
  // q × n carries floating-point error (0.07 × 100 = 7.000000000000001): without the tolerance, ceil would
  // move a whole rank up.
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length - 1e-9) - 1));
  return sorted[rank] as number;
}

/** Count, mean, p50, p95, p99 and max of `values` (any order; not changed). NaN figures when empty. */
export function summarize(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    mean: sorted.length ? sum / sorted.length : NaN,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: sorted.length ? (sorted[sorted.length - 1] as number) : NaN,
  };
}

/** Rounds for reports: 3 decimals below 10 (in magnitude), else 1 decimal; NaN and infinities unchanged. */
export function round(x: number): number {
  if (!Number.isFinite(x)) return x;
  return Math.abs(x) < 10 ? Math.round(x * 1000) / 1000 : Math.round(x * 10) / 10;
}

/** A straight line `y = intercept + slope × x`. */
export interface LinearFit {
  slope: number;
  intercept: number;
}

/**
 * Least-squares line through `points`. NaN figures when there are fewer than two distinct x values (no
 * slope is defined then).
 */
export function linearFit(points: readonly { x: number; y: number }[]): LinearFit {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  if (!(sxx > 0)) return { slope: NaN, intercept: NaN };
  const slope = points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0) / sxx;
  return { slope, intercept: my - slope * mx };
}
