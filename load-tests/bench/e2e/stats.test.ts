import type { RequestRecord } from '../workloads/types';
import { compactSegment, e2eOutcome } from './outcome';
import {
  capacityOf,
  capacityRatio,
  imbalanceOf,
  maxOverMean,
  overheadShareP50,
  summarizeSegment,
  type RunRecord,
  type SegmentSummary,
} from './stats';

const rec = (over: Partial<RequestRecord> & { latencyMs: number }): RequestRecord => ({
  id: 'a',
  kind: 'job',
  sentAt: 0,
  ok: true,
  ...over,
});

const runRec = (over: Partial<RunRecord> & { latencyMs: number }): RunRecord => ({
  ...rec(over),
  rate: 1,
  variant: 'nalar',
  arrival: { id: 'a', atMs: 0, kind: 'job', payload: null },
  ...over,
});

test('a segment: counts, failures by code, throughput over the step, latency of completed requests, per kind', () => {
  const records = [
    rec({ latencyMs: 100, kind: 'chat' }),
    rec({ latencyMs: 300, kind: 'chat' }),
    rec({ latencyMs: 200, kind: 'coding' }),
    rec({ latencyMs: 5000, kind: 'coding', ok: false, errorCode: 'TIMEOUT' }),
    rec({ latencyMs: 10, kind: 'coding', ok: false, errorCode: 'NALAR_ERR_LLM_OVERLOADED' }),
    rec({ latencyMs: 10, kind: 'chat', ok: false }),
  ];
  const s = summarizeSegment({
    rate: 2,
    variant: 'baseline',
    arrivals: 6,
    stepSeconds: 4,
    records,
    busyMs: [300, 100, 200, 0],
    agentReplicas: { chat: [0, 1], coding: [2, 3] },
    wallSeconds: 5,
  });
  expect(s).toMatchObject({ rate: 2, variant: 'baseline', arrivals: 6, requests: 6, completed: 3, failed: 3 });
  expect(s.failedBy).toEqual({ TIMEOUT: 1, NALAR_ERR_LLM_OVERLOADED: 1, UNKNOWN: 1 });
  expect(s.completedShare).toBeCloseTo(0.5);
  expect(s.throughput).toBeCloseTo(3 / 4);
  expect(s.latency).toMatchObject({ count: 3, mean: 200, p50: 200, max: 300 });
  expect(Object.keys(s.kinds)).toEqual(['chat', 'coding']);
  expect(s.kinds.chat).toMatchObject({ requests: 3, completed: 2, failed: 1, latency: { mean: 200 } });
  expect(s.kinds.coding).toMatchObject({ requests: 3, completed: 1, failedBy: { TIMEOUT: 1 } });
  // chat: max 300 / mean 200; coding: 200 / 100; all: 300 / 150.
  expect(s.imbalance.perAgent).toEqual({ chat: 1.5, coding: 2 });
  expect(s.imbalance.maxOverAgents).toBe(2);
  expect(s.imbalance.overall).toBe(2);
});

test('imbalance is NaN where nothing was busy, and the max over agents skips such agents', () => {
  expect(maxOverMean([])).toBeNaN();
  expect(maxOverMean([0, 0])).toBeNaN();
  expect(maxOverMean([5, 5])).toBe(1);
  const i = imbalanceOf([0, 0, 10, 30], { idle: [0, 1], hot: [2, 3] });
  expect(i.perAgent.idle).toBeNaN();
  expect(i.perAgent.hot).toBe(1.5);
  expect(i.maxOverAgents).toBe(1.5);
  expect(i.overall).toBe(3);
});

function seg(rate: number, variant: 'nalar' | 'baseline', mean: number, completedShare = 1): SegmentSummary {
  return {
    rate,
    variant,
    arrivals: 10,
    requests: 10,
    completed: Math.round(10 * completedShare),
    failed: 10 - Math.round(10 * completedShare),
    failedBy: {},
    completedShare,
    latency: { count: 10, mean, p50: mean, p95: mean, p99: mean, max: mean },
    throughput: rate,
    kinds: {},
    busyMs: [],
    imbalance: { perAgent: {}, maxOverAgents: NaN, overall: NaN },
    wallSeconds: 1,
  };
}

test('capacity: the highest rate up to which every rate keeps mean ≤ 2× low-load mean and ≥ 99% completed', () => {
  const segments = [
    seg(4, 'baseline', 210), // first miss: above 2 × 100
    seg(1, 'baseline', 100),
    seg(2, 'baseline', 200), // exactly the bound: met
    seg(8, 'baseline', 150), // after a miss: does not count
    seg(1, 'nalar', 100),
    seg(2, 'nalar', 120),
    seg(4, 'nalar', 130, 0.98), // too many failed
  ];
  const b = capacityOf(segments, 'baseline');
  expect(b).toEqual({ variant: 'baseline', lowLoadMeanMs: 100, boundMs: 200, capacityRate: 2, firstMissRate: 4 });
  const n = capacityOf(segments, 'nalar');
  expect(n).toMatchObject({ capacityRate: 2, firstMissRate: 4 });
  expect(capacityRatio(n, b)).toBe(1);
  // Every rate meets it: capacity is the top of the grid, no miss.
  expect(capacityOf([seg(1, 'nalar', 10), seg(2, 'nalar', 15)], 'nalar')).toMatchObject({
    capacityRate: 2,
    firstMissRate: null,
  });
  // The lowest rate itself fails requests: no capacity, and no ratio.
  const none = capacityOf([seg(1, 'baseline', 10, 0.5), seg(2, 'baseline', 10)], 'baseline');
  expect(none).toMatchObject({ capacityRate: null, firstMissRate: 1 });
  expect(capacityRatio(n, none)).toBeNaN();
  expect(capacityRatio(n, undefined)).toBeNaN();
});

test('overhead share: p50 of (latency − critical path) / latency over Nalar requests at the lowest rate', () => {
  const records = [
    runRec({ latencyMs: 100, criticalPathMs: 90 }), // 0.1
    runRec({ latencyMs: 100, criticalPathMs: 80 }), // 0.2
    runRec({ latencyMs: 200, criticalPathMs: 100 }), // 0.5
    runRec({ latencyMs: 100 }), // no critical path: left out
    runRec({ latencyMs: 100, criticalPathMs: 0, ok: false }), // failed: left out
    runRec({ latencyMs: 100, criticalPathMs: 0, rate: 4 }), // not the lowest rate
    runRec({ latencyMs: 100, criticalPathMs: 0, variant: 'baseline' }), // not Nalar
  ];
  expect(overheadShareP50(records)).toBeCloseTo(0.2);
  expect(overheadShareP50(records.filter((r) => r.variant === 'baseline'))).toBeNaN();
  expect(overheadShareP50([runRec({ latencyMs: 100 })])).toBeNaN();
});

test('the outcome: capacities, ratio and the overhead target in the closing-line metrics', () => {
  const segments = [seg(1, 'nalar', 100), seg(2, 'nalar', 150), seg(1, 'baseline', 100), seg(2, 'baseline', 300)];
  const o = e2eOutcome('router', ['nalar', 'baseline'], segments, [runRec({ latencyMs: 100, criticalPathMs: 95 })]);
  expect(o.metrics).toMatchObject({
    workload: 'router',
    nalar_capacity_rate: 2,
    baseline_capacity_rate: 1,
    capacity_ratio: 2,
    nalar_first_miss_rate: null,
    baseline_first_miss_rate: 2,
    framework_overhead_share_p50: 0.05,
  });
  expect(o.targets.framework_overhead_share_p50).toEqual({ value: 0.05, target: 0.1, op: '<=', met: true });
  expect((o.metrics.rates as unknown[]).length).toBe(4);
  expect(compactSegment(segments[0] as SegmentSummary)).toMatchObject({ rate: 1, variant: 'nalar', mean_ms: 100 });
  // One variant only: no ratio; no critical path: the target is not met.
  const one = e2eOutcome('swe', ['nalar'], segments, []);
  expect(one.metrics.capacity_ratio).toBeNaN();
  expect(one.targets.framework_overhead_share_p50?.met).toBe(false);
});
