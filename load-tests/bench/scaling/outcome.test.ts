import type { CapacityEvent } from '../../../control-plane/capacity/manager';
import type { RequestRecord } from '../workloads/types';
import { parseScalingOptions, replicaTemplate, stepArrivals, defaultScalingOptions } from './options';
import {
  phaseOf,
  phaseStats,
  reactionOf,
  scalingOutcome,
  timelineOf,
  type PhaseTimes,
  type ProbeRound,
} from './outcome';

const t: PhaseTimes = { startedAt: 1_000_000, stepAt: 1_030_000, fallAt: 1_090_000, endAt: 1_150_000 };
const r0 = 'http://127.0.0.1:1/v1';
const r1 = 'http://127.0.0.1:2/v1';

const round = (at: number, serving: string[], waiting: number, short = false): ProbeRound => ({
  at,
  serving,
  loading: 0,
  waiting,
  inFlight: 0,
  short,
});
const event = (at: number, kind: CapacityEvent['kind'], replica?: string): CapacityEvent => ({
  at,
  kind,
  agent: 'writer',
  ...(replica && { replica }),
});
const request = (sentAt: number, latencyMs: number, ok = true): RequestRecord => ({
  id: `r${sentAt}`,
  kind: 'x',
  sentAt,
  latencyMs,
  ok,
  ...(!ok && { errorCode: 'TIMEOUT' }),
});

test('the reaction splits into detection, decision and actuation that add up to the scale-up reaction', () => {
  const rounds = [
    round(t.startedAt + 29_000, [r0], 3, true), // short before the step: not the detection
    round(t.stepAt + 250, [r0], 1),
    round(t.stepAt + 500, [r0], 3, true),
    round(t.stepAt + 8_000, [r0, r1], 4, true),
  ];
  const events = [
    event(t.stepAt - 5_000, 'provision-requested'), // before the step: ignored
    event(t.stepAt + 750, 'provision-requested'),
    event(t.stepAt + 5_900, 'serving', r1),
    event(t.fallAt + 12_000, 'kill-requested', r1),
    event(t.fallAt + 14_500, 'removed', r1),
  ];
  const calls = [
    { at: t.stepAt + 100, replica: r0, ok: true },
    { at: t.stepAt + 6_500, replica: r1, ok: true },
    { at: t.stepAt + 6_000, replica: r1, ok: false, errorCode: 'x' }, // failed: not served
  ];
  const x = reactionOf(t, rounds, events, calls, [request(t.startedAt, 100)]);
  expect(x.detectionS).toBeCloseTo(0.5);
  expect(x.decisionS).toBeCloseTo(0.25);
  expect(x.actuationS).toBeCloseTo(5.75);
  expect(x.scaleUpReactionS).toBeCloseTo(6.5);
  expect(x.detectionS + x.decisionS + x.actuationS).toBeCloseTo(x.scaleUpReactionS);
  expect(x.firstNewReplica).toBe(r1);
  expect(x.scaleDownS).toBeCloseTo(14.5);
  expect(x.callsLostOnScaleDown).toBe(0);
  expect([x.maxServing, x.servingAtEnd]).toEqual([2, 2]);
});

test('calls lost on the way down: failed requests that ended and failed calls after the fall; NaN when nothing happened', () => {
  const calls = [
    { at: t.fallAt - 1, replica: r0, ok: false }, // before the fall
    { at: t.fallAt + 1, replica: r0, ok: false, errorCode: 'NALAR_ERR_LLM_SERVER_ERROR' },
  ];
  const records = [request(t.fallAt - 5_000, 6_000, false), request(t.stepAt, 1_000, false), request(t.fallAt, 10)];
  const x = reactionOf(t, [], [], calls, records);
  expect([x.failedRequestsAfterFall, x.failedCallsAfterFall, x.callsLostOnScaleDown]).toEqual([1, 1, 2]);
  expect(x.scaleUpReactionS).toBeNaN();
  expect(x.scaleDownS).toBeNaN();
  const outcome = scalingOutcome(x, phaseStats(t, records));
  expect(outcome.targets.scale_up_reaction_s?.met).toBe(false);
  expect(outcome.targets.calls_lost_on_scale_down).toMatchObject({ value: 2, met: false });
  expect(outcome.metrics.high_failed).toBe(2);
});

test('phases by send time, and a timeline of offered, served and serving replicas per bucket', () => {
  expect([phaseOf(t.startedAt, t), phaseOf(t.stepAt, t), phaseOf(t.fallAt, t)]).toEqual(['low', 'high', 'after']);
  const records = [request(t.startedAt + 100, 1_000), request(t.startedAt + 1_500, 3_000)];
  const rounds = [round(t.startedAt + 500, [r0], 0), round(t.startedAt + 4_500, [r0, r1], 2)];
  const points = timelineOf({ ...t, endAt: t.startedAt + 6_000 }, rounds, records, 2);
  expect(points.map((p) => p.t)).toEqual([0, 2, 4]);
  expect(points.map((p) => p.offered)).toEqual([1, 0, 0]);
  expect(points.map((p) => p.served)).toEqual([0.5, 0, 0.5]);
  expect(points.map((p) => p.serving)).toEqual([1, 1, 2]); // the bucket without a round keeps the last state
});

test('options: the step arrivals by phase, the model load in model ms, bad values named', () => {
  const o = { ...defaultScalingOptions, lowSeconds: 10, highSeconds: 10, afterSeconds: 10 };
  const arrivals = stepArrivals(o);
  const inPhase = (kind: string) => arrivals.filter((a) => a.kind === kind);
  expect(inPhase('high').every((a) => a.atMs >= 10_000 && a.atMs < 20_000)).toBe(true);
  expect(inPhase('after').every((a) => a.atMs >= 20_000 && a.atMs < 30_000)).toBe(true);
  expect(inPhase('high').length).toBeGreaterThan(inPhase('low').length);
  expect(stepArrivals(o)).toEqual(arrivals); // seeded
  expect(replicaTemplate({ ...o, timeScale: 0.5, modelLoadSeconds: 5 }).modelLoadMs).toBe(10_000);
  expect(parseScalingOptions(['--high-rate', '6', '--max-instances', '5'])).toMatchObject({
    highRate: 6,
    maxInstances: 5,
  });
  expect(() => parseScalingOptions(['--high-rate', '0.1'])).toThrow(/must be above --low-rate/);
  expect(() => parseScalingOptions(['--bogus', '1'])).toThrow(/unknown option --bogus/);
});
