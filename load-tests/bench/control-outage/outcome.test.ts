import type { RunRecord } from '../e2e/stats';
import { runInfo } from '../run-info';
import { outageOutcome, outageReport, outageWindow, summarizePhase } from './outcome';

const rec = (sentAt: number, latencyMs: number, ok = true): RunRecord => ({
  id: `s-${sentAt}`,
  kind: 'turn',
  sentAt,
  latencyMs,
  ok,
  ...(!ok && { errorCode: 'TIMEOUT' }),
  rate: 0.35,
  variant: 'nalar',
  arrival: { id: `s-${sentAt}`, atMs: sentAt, kind: 'session', payload: null },
});

test('the outage is centred in its phase and must fit in it', () => {
  expect(outageWindow(150, 60)).toEqual({ startMs: 45_000, endMs: 105_000 });
  expect(() => outageWindow(60, 60)).toThrow(/shorter than a phase/);
  expect(() => outageWindow(60, 0)).toThrow(/longer than 0/);
});

test('the ratio of p99s and the failures of the outage phase are the targets; requests sent while away are apart', () => {
  const normal = summarizePhase({
    phase: 'normal',
    records: [rec(0, 1000), rec(10, 2000)],
    startedAt: 0,
    wallSeconds: 30,
  });
  const outage = summarizePhase({
    phase: 'outage',
    records: [rec(0, 1000), rec(50, 5000), rec(60, 3000, false)],
    startedAt: 0,
    wallSeconds: 30,
    outage: { stoppedAt: 40, restartedAt: 70, relinkedAt: 75 },
  });
  expect(outage.duringOutage).toMatchObject({ requests: 2, completed: 1, failed: 1 });
  const { metrics, targets } = outageOutcome(normal, outage, 0.005);
  expect(metrics).toMatchObject({ normal_p99_ms: 2000, outage_p99_ms: 5000, outage_p99_ratio: 2.5, outage_failed: 1 });
  expect(targets.outage_p99_ratio).toEqual({ value: 2.5, target: 2, op: '<=', met: false });
  expect(targets.outage_failed).toEqual({ value: 1, target: 0, op: '<=', met: false });

  const fine = outageOutcome(
    normal,
    summarizePhase({ phase: 'outage', records: [rec(0, 3000)], startedAt: 0, wallSeconds: 1 }),
    1,
  );
  expect(fine.targets.outage_p99_ratio?.met).toBe(true);
  expect(fine.targets.outage_failed?.met).toBe(true);

  const report = outageReport({
    info: runInfo(),
    temporalVersion: 'test',
    runId: 'r',
    seconds: 1,
    settings: {},
    simulator: 'test',
    policies: [],
    window: { startMs: 40, endMs: 70 },
    phases: [normal, outage],
    outage: { stoppedAt: 40, restartedAt: 70, relinkedAt: undefined },
    phaseStartedAt: 0,
    outcome: outageOutcome(normal, outage, NaN),
  });
  expect(report).toMatch(/\| outage: sent while the controller was away \| 2 \| 1 \| 1 \(TIMEOUT: 1\) \|/);
  expect(report).toMatch(/\| outage_p99_ratio \| 2\.5 \| <= 2 \| no \|/);
  expect(report).toMatch(/every worker reporting again at never/);
});
