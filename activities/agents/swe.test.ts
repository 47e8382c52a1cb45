/**
 * The seeded, documented functions behind the software-engineering workload (docs/workloads/swe.md): the
 * fan-out distribution, the per-attempt pass probability, and that the generated code really passes or fails
 * the generated tests when the code-run tool runs them.
 */
import { configureCodeRun, resetCodeRunOptions, runCode } from '../tools/code-run';
import {
  SUBTASKS_MAX,
  SUBTASKS_MIN,
  codeFor,
  developerWritesCorrectCode,
  subtaskCount,
  subtaskSpec,
  testsFor,
  uniform,
} from './swe';

afterEach(() => resetCodeRunOptions());

test('uniform draws are in (0, 1), stable for the same parts and different for others', () => {
  expect(uniform(1, 's1', 'k')).toBe(uniform(1, 's1', 'k'));
  expect(uniform(1, 's1', 'k')).not.toBe(uniform(2, 's1', 'k'));
  const draws = Array.from({ length: 2000 }, (_, i) => uniform(i, 'x'));
  for (const u of draws) expect(u > 0 && u < 1).toBe(true);
  const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
  expect(Math.abs(mean - 0.5)).toBeLessThan(0.03);
});

test('the first plan has 1 to 4 subtasks, each count about equally likely', () => {
  const counts = new Map<number, number>();
  for (let seed = 0; seed < 4000; seed++) counts.set(subtaskCount(seed), (counts.get(subtaskCount(seed)) ?? 0) + 1);
  expect([...counts.keys()].sort()).toEqual([1, 2, 3, 4]);
  expect([SUBTASKS_MIN, SUBTASKS_MAX]).toEqual([1, 4]);
  for (const n of counts.values()) expect(Math.abs(n / 4000 - 0.25)).toBeLessThan(0.03);
});

test('an attempt passes with the given probability, independently per subtask and round', () => {
  const trials = 4000;
  const passes = (p: number, round: number): number =>
    Array.from({ length: trials }, (_, seed) => developerWritesCorrectCode(seed, 's1', round, p)).filter(Boolean)
      .length;
  expect(Math.abs(passes(0.7, 0) / trials - 0.7)).toBeLessThan(0.03);
  expect(passes(0, 0)).toBe(0);
  expect(passes(1, 0)).toBe(trials);
  // Round 1 is a new draw, not a copy of round 0.
  const same = Array.from(
    { length: trials },
    (_, seed) => developerWritesCorrectCode(seed, 's1', 0, 0.5) === developerWritesCorrectCode(seed, 's1', 1, 0.5),
  ).filter(Boolean).length;
  expect(Math.abs(same / trials - 0.5)).toBeLessThan(0.04);
});

test('correct code passes the tester’s tests in the code-run tool, and off-by-one code fails them', async () => {
  configureCodeRun({ timeScale: 0 });
  const spec = subtaskSpec(42, 's2');
  expect(spec.k).toBeGreaterThanOrEqual(1);
  const good = await runCode({ code: codeFor(spec, true), tests: testsFor(spec) });
  expect(good.passed).toBe(true);
  const bad = await runCode({ code: codeFor(spec, false), tests: testsFor(spec) });
  expect(bad.passed).toBe(false);
  expect(bad.results.every((r) => !r.passed)).toBe(true);
});
