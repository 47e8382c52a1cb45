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

test("the router's and swe's closing lines carry the capacity issue's targets", () => {
  const wall = (s: ReturnType<typeof seg>, wallSeconds: number, busyMs: number[]) => ({
    ...s,
    wallSeconds,
    busyMs,
    imbalance: { ...s.imbalance, overall: Math.max(...busyMs) / (busyMs.reduce((a, b) => a + b, 0) / busyMs.length) },
  });
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
