import { stepBenchServers, summarizeSteps, type StepRecord } from './futures-steps';

const run = (rep: number, steps: number, durationMs: number): StepRecord => ({
  part: 'steps',
  settings: 'after',
  kind: 'stub',
  rep,
  steps,
  durationMs,
});

test('step overhead is the p50 over repetitions of (duration(N max) − duration(N min)) / (N max − N min)', () => {
  const records = [
    // Per-step slopes 20, 30 and 100 ms: a slow repetition moves the p50 by one rank only.
    ...[run(0, 1, 60), run(0, 3, 100), run(0, 10, 240)],
    ...[run(1, 1, 50), run(1, 3, 110), run(1, 10, 320)],
    ...[run(2, 1, 100), run(2, 3, 300), run(2, 10, 1000)],
  ];
  const s = summarizeSteps(records, [1, 3, 10]);
  expect(s.repetitions).toBe(3);
  expect(s.perStepP50Ms).toBeCloseTo(30, 9);
  expect(s.perStepP95Ms).toBeCloseTo(100, 9);
  expect(s.p50ByStepsMs).toEqual({ 1: 60, 3: 110, 10: 320 });
  expect(s.fitSlopeMs).toBeGreaterThan(30);
});

test('a repetition missing its shortest or longest workflow does not count', () => {
  const s = summarizeSteps([run(0, 1, 60), run(0, 10, 240), run(1, 1, 50), run(1, 3, 90)], [1, 3, 10]);
  expect(s.repetitions).toBe(1);
  expect(s.perStepP50Ms).toBeCloseTo(20, 9);
});

test("'before' differs from the stack's dev server only by the history queue settings and SQLite pragmas", () => {
  const { before, after } = stepBenchServers;
  const extra = after.dynamicConfig.filter((kv) => !before.dynamicConfig.includes(kv));
  expect(extra.map((kv) => kv.split('=')[0])).toEqual([
    'history.transferProcessorMaxPollRPS',
    'history.timerProcessorMaxPollRPS',
    'history.timerProcessorMaxTimeShift',
  ]);
  expect(before.dynamicConfig).toContain('matching.enableFairness=true');
  expect(before.sqlitePragmas).toEqual([]);
  expect(after.sqlitePragmas).toContain('synchronous=normal');
});
