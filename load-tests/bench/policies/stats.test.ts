import { summarizeSegment } from '../e2e/stats';
import { policiesMetrics } from './outcome';
import {
  changePct,
  comparePolicySets,
  finiteMean,
  makespanMs,
  ratioOf,
  setOrder,
  type PolicySegment,
  type PolicySetName,
} from './stats';

const rec = (sentAt: number, latencyMs: number, ok = true) => ({ sentAt, latencyMs, ok });

test('makespan runs from the first arrival, failed ones included, to the last completion', () => {
  // The first job (sent at 1000) failed; the last to finish is 2000 + 9000.
  expect(makespanMs([rec(1000, 500, false), rec(2000, 9000), rec(5000, 1000)])).toBe(10_000);
  // A failure that ends later than every completion does not stretch it.
  expect(makespanMs([rec(0, 100), rec(50, 60_000, false)])).toBe(100);
  expect(makespanMs([rec(0, 100, false)])).toBeNaN();
  expect(makespanMs([])).toBeNaN();
});

test('ratios and changes: 0.976 is −2.4%, an undefined reference gives NaN', () => {
  expect(ratioOf(976, 1000)).toBeCloseTo(0.976);
  expect(changePct(0.976)).toBeCloseTo(-2.4);
  expect(changePct(1.05)).toBeCloseTo(5);
  expect(ratioOf(1, 0)).toBeNaN();
  expect(ratioOf(NaN, 1)).toBeNaN();
  expect(finiteMean([1, NaN, 3])).toBe(2);
  expect(finiteMean([NaN])).toBeNaN();
});

test('the order of the sets alternates per step', () => {
  expect(setOrder(['default', 'srtf', 'lpt'], 0)).toEqual(['default', 'srtf', 'lpt']);
  expect(setOrder(['default', 'srtf', 'lpt'], 1)).toEqual(['lpt', 'srtf', 'default']);
});

/** A segment whose completed jobs took `latencies` ms, sent at 0, 1000, 2000, … */
function segment(policySet: PolicySetName, rate: number, latencies: number[], seed = 42): PolicySegment {
  const records = latencies.map((l, i) => ({ id: `j${i}`, kind: 'job', sentAt: i * 1000, latencyMs: l, ok: true }));
  return {
    policySet,
    seed,
    summary: summarizeSegment({
      rate,
      variant: 'nalar',
      arrivals: records.length,
      stepSeconds: 10,
      records,
      busyMs: [],
      agentReplicas: {},
      wallSeconds: 10,
    }),
    makespanMs: makespanMs(records),
    servedPolicies: [],
    publishedPolicyLists: [],
    prioritizedSessions: 0,
  };
}

test('srtf is compared on mean completion time, lpt on makespan, per rate then over rates', () => {
  const segments = [
    // rate 1: default mean 2000, makespan 1000 + 3000 = 4000
    segment('default', 1, [1000, 3000]),
    segment('srtf', 1, [1000, 2000]), // mean 1500: 0.75
    segment('lpt', 1, [4000, 1000]), // makespan max(4000, 2000) = 4000: 1.0 — while its mean is worse
    // rate 2: default mean 1000, makespan 2000
    segment('lpt', 2, [1000, 500]), // makespan 1500: 0.75
    segment('srtf', 2, [1100, 1100]), // 1.1
    segment('default', 2, [1000, 1000]),
  ];
  const c = comparePolicySets(segments);
  expect(c.perRate.map((r) => r.rate)).toEqual([1, 2]);
  expect(c.perRate[0]?.srtfMeanJctRatio).toBeCloseTo(0.75);
  expect(c.perRate[0]?.lptMakespanRatio).toBeCloseTo(1);
  expect(c.perRate[1]?.srtfMeanJctRatio).toBeCloseTo(1.1);
  expect(c.perRate[1]?.lptMakespanRatio).toBeCloseTo(0.75);
  expect(c.srtfMeanJctRatio).toBeCloseTo(0.925);
  expect(c.lptMakespanRatio).toBeCloseTo(0.875);

  const m = policiesMetrics(c, segments) as Record<string, unknown> & { segments: unknown[]; per_rate: unknown[] };
  expect(m.srtf_mean_jct_change_pct).toBeCloseTo(-7.5);
  expect(m.lpt_makespan_change_pct).toBeCloseTo(-12.5);
  expect(m.per_rate).toHaveLength(2);
  expect(m.segments[0]).toMatchObject({ seed: 42, rate: 1, policy_set: 'default', mean_ms: 2000, makespan_ms: 4000 });
});

test('seeds average per rate; a pair without its default segment or with nothing completed counts for nothing', () => {
  const segments = [
    segment('default', 1, [1000], 1),
    segment('srtf', 1, [900], 1), // 0.9
    segment('default', 1, [1000], 2),
    segment('srtf', 1, [1100], 2), // 1.1
    segment('srtf', 1, [1], 3), // no default for seed 3
    segment('default', 2, [], 1), // nothing completed
    segment('srtf', 2, [1000], 1),
  ];
  const c = comparePolicySets(segments);
  expect(c.perRate[0]?.srtfMeanJctRatio).toBeCloseTo(1);
  expect(c.perRate[1]?.srtfMeanJctRatio).toBeNaN();
  expect(c.perRate[0]?.lptMakespanRatio).toBeNaN(); // no lpt segment at all
  expect(c.srtfMeanJctRatio).toBeCloseTo(1);
  const m = policiesMetrics(c, segments);
  expect(m.lpt_makespan_ratio).toBeNull();
  expect(m.lpt_makespan_change_pct).toBeNull();
});
