import { e2eOutcome, tailRatios } from './outcome';
import { summarizeSegment } from './stats';

const agentReplicas = { a: [0] };

/** A segment whose requests all took `latencyMs`, except one slow one (the tail). */
const seg = (rate: number, variant: 'nalar' | 'baseline', latencyMs: number, tailMs = latencyMs) =>
  summarizeSegment({
    rate,
    variant,
    arrivals: 20,
    stepSeconds: 1,
    records: Array.from({ length: 20 }, (_, i) => ({
      id: `r${i}`,
      kind: 'turn',
      sentAt: 0,
      latencyMs: i === 0 ? tailMs : latencyMs,
      ok: true,
    })),
    busyMs: [10],
    agentReplicas,
    wallSeconds: 1,
  });

test('tail ratios compare the variants only at rates from half the baseline capacity to it, worst rate each', () => {
  const segments = [
    seg(0.25, 'nalar', 10, 10), // below half the capacity: left out however bad
    seg(0.25, 'baseline', 10, 10),
    seg(0.5, 'nalar', 100, 300),
    seg(0.5, 'baseline', 100, 1000),
    seg(1, 'nalar', 150, 600),
    seg(1, 'baseline', 200, 1000),
    seg(2, 'nalar', 100, 100), // above the capacity: left out
    seg(2, 'baseline', 900, 5000),
  ];
  const t = tailRatios(segments, 1);
  expect(t.rates).toEqual([0.5, 1]);
  expect(t.p99Max).toBeCloseTo(0.6); // 600 / 1000 at rate 1 (0.3 at 0.5)
  expect(t.meanMax).toBeCloseTo(segments[2]!.latency.mean / segments[3]!.latency.mean);
  expect(tailRatios(segments, null)).toEqual({ rates: [], p95Max: null, p99Max: null, meanMax: null });
});

test("the analyst's closing line has the issue's tail targets; a missed one is a result", () => {
  // Baseline capacity: the low-load mean bound holds at 1 and 2 for the baseline here.
  const segments = [
    seg(1, 'nalar', 100, 150),
    seg(1, 'baseline', 100, 1000),
    seg(2, 'nalar', 110, 900),
    seg(2, 'baseline', 120, 1000),
  ];
  const outcome = e2eOutcome('analyst', ['nalar', 'baseline'], segments, []);
  expect(outcome.metrics.tail_ratio_rates).toEqual([1, 2]);
  expect(outcome.targets.analyst_p99_ratio_max).toMatchObject({ op: '<=', target: 0.4, met: false });
  expect(outcome.targets.analyst_p99_ratio_max?.value).toBeCloseTo(0.9);
  expect(outcome.targets.analyst_mean_ratio_max).toMatchObject({ target: 1, met: true });
  // Other workloads report the ratios without targets.
  expect(e2eOutcome('router', ['nalar', 'baseline'], segments, []).targets).not.toHaveProperty('router_p99_ratio_max');
});

/** `s` with a completion time and the replicas' busy time (its overall imbalance max/mean of them). */
const wall = (s: ReturnType<typeof seg>, wallSeconds: number, busyMs: number[]) => ({
  ...s,
  wallSeconds,
  busyMs,
  imbalance: { ...s.imbalance, overall: Math.max(...busyMs) / (busyMs.reduce((a, b) => a + b, 0) / busyMs.length) },
});

test("the router's and swe's closing lines carry the capacity issue's targets", () => {
  const segments = [
    wall(seg(1, 'nalar', 100), 30, [10, 10]),
    wall(seg(1, 'baseline', 100), 45, [20, 0]),
    wall(seg(2, 'nalar', 100), 30, [10, 10]),
    wall(seg(2, 'baseline', 300), 100, [30, 10]),
  ];
  const swe = e2eOutcome('swe', ['nalar', 'baseline'], segments, []);
  // Largest speedup at rate 2: 100 s / 30 s; imbalance there 1.5 against 1.
  expect(swe.metrics.swe_speedup_rate).toBe(2);
  expect(swe.targets.swe_speedup?.value).toBeCloseTo(100 / 30);
  expect(swe.targets.swe_speedup).toMatchObject({ op: '>=', target: 3, met: true });
  expect(swe.targets.swe_imbalance_ratio).toMatchObject({ op: '>=', target: 2.5, met: false });
  expect(swe.targets.swe_imbalance_ratio?.value).toBeCloseTo(1.5);
  // The router's sustained rate ratio is the capacity ratio (Nalar holds 2, the baseline 1).
  const router = e2eOutcome('router', ['nalar', 'baseline'], segments, []);
  expect(router.targets.router_sustained_rate_ratio).toMatchObject({ op: '>=', target: 1.5, met: true });
  expect(router.targets.router_sustained_rate_ratio?.value).toBe(2);
});

test('swe: the set with no wait bounds the speedup any system could reach; the baseline imbalance bounds the ratio', () => {
  // Imbalance (max/mean busy time) 1.2 and 2 at rate 1, 1.1 and 3 at rate 2.
  const segments = [
    wall(seg(1, 'nalar', 100), 20, [12, 8]),
    wall(seg(1, 'baseline', 100), 30, [20, 0]),
    wall(seg(2, 'nalar', 100), 20, [11, 9]),
    wall(seg(2, 'baseline', 100), 60, [30, 0, 0]),
  ];
  const rec = (rate: number, variant: 'nalar' | 'baseline', id: string, atMs: number, criticalPathMs?: number) => ({
    id,
    kind: 'job',
    sentAt: 0,
    latencyMs: 1,
    ok: criticalPathMs !== undefined,
    ...(criticalPathMs !== undefined && { criticalPathMs }),
    rate,
    variant,
    arrival: { id, atMs, kind: 'job', payload: null },
  });
  const records = [
    // Rate 1: job a (at 0 s) 12 s of critical path in Nalar's report, 25 s in the baseline's (its engine queue):
    // the shorter counts. Job b arrives at 5 s with 10 s. The set with no wait: 15 s.
    rec(1, 'nalar', 'a', 0, 12_000),
    rec(1, 'baseline', 'a', 0, 25_000),
    rec(1, 'nalar', 'b', 5_000, 10_000),
    rec(1, 'baseline', 'b', 5_000, 11_000),
    // Rate 2: a failed record has no critical path and does not count; the other variant's does.
    rec(2, 'nalar', 'a', 8_000),
    rec(2, 'baseline', 'a', 8_000, 12_000),
  ];
  const swe = e2eOutcome('swe', ['nalar', 'baseline'], segments, records);
  const [one, two] = swe.speedups.perRate;
  expect(one).toMatchObject({ rate: 1, noWaitSeconds: 15, imbalanceRatioBound: 2 });
  expect(one?.speedupBound).toBeCloseTo(30 / 15);
  expect(two).toMatchObject({ rate: 2, noWaitSeconds: 20, speedupBound: 3, imbalanceRatioBound: 3 });
  expect(swe.metrics.swe_speedup_bound_max).toBe(3);
  // Only at rate 2 could any system have met both targets (speedup 3, imbalance ratio 2.5).
  expect(swe.metrics.swe_targets_reachable_rates).toEqual([2]);
  // Without critical paths (no completed request) there is no bound to state.
  const bare = e2eOutcome('swe', ['nalar', 'baseline'], segments, []);
  expect(bare.speedups.perRate.map((x) => x.speedupBound)).toEqual([null, null]);
  expect(bare.metrics.swe_targets_reachable_rates).toEqual([]);
});
