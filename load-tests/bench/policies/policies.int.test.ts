/**
 * The whole policies benchmark on the fixture workload against a real dev server, simulator pool, worker
 * process and global controller: two tiny rates × three policy sets, then the files and the closing line.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { configDefaults } from '../../../common/config';
import { fixtureWorkload } from '../e2e/fixture-workload';
import { parsePoliciesBenchOptions } from './options';
import type { PolicyRecord } from './run';
import type { PolicySegment } from './stats';
import { runPoliciesBenchOn } from '.';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'nalar-policies-bench-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('two rates × three sets on one stack: the set is swapped per segment, files and one closing line', async () => {
  const lines: string[] = [];
  const printed: string[] = [];
  const spy = jest.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
  let code: number;
  try {
    const o = parsePoliciesBenchOptions([
      '--rates',
      '1,2',
      '--step-seconds',
      '2',
      '--drain-seconds',
      '20',
      '--warmup',
      '1',
    ]);
    code = await runPoliciesBenchOn(fixtureWorkload, o, (l) => lines.push(l), { dir });
  } finally {
    spy.mockRestore();
  }
  expect(code).toBe(0);
  for (const f of ['report.md', 'jct.svg', 'makespan.svg', 'result.json', 'records.jsonl.gz']) {
    expect(existsSync(path.join(dir, f))).toBe(true);
  }
  expect(printed).toHaveLength(1);
  const closing = JSON.parse(printed[0] as string) as {
    bench: string;
    metrics: Record<string, unknown> & {
      per_rate: { rate: number }[];
      segments: { rate: number; policy_set: string; completed: number; makespan_ms: number | null }[];
    };
    targets: Record<string, unknown>;
  };
  expect(closing.bench).toBe('policies');
  expect(closing.targets).toEqual({});
  for (const k of [
    'srtf_mean_jct_ratio',
    'lpt_makespan_ratio',
    'srtf_mean_jct_change_pct',
    'lpt_makespan_change_pct',
  ]) {
    expect(typeof closing.metrics[k]).toBe('number');
  }
  expect(closing.metrics.srtf_mean_jct_change_pct).toBeCloseTo(
    ((closing.metrics.srtf_mean_jct_ratio as number) - 1) * 100,
    0,
  );
  expect(closing.metrics.per_rate.map((r) => r.rate)).toEqual([1, 2]);
  // Rate 1 plays default, srtf, lpt; rate 2 the reverse.
  expect(closing.metrics.segments.map((g) => `${g.rate} ${g.policy_set}`)).toEqual([
    '1 default', '1 srtf', '1 lpt', '2 lpt', '2 srtf', '2 default',
  ]); // prettier-ignore
  expect(closing.metrics.segments.every((g) => g.completed > 0 && (g.makespan_ms ?? 0) > 0)).toBe(true);

  // The controller really ran each set: GET /v1/policy served it when the segment started, and every
  // decisions version published during the segment carried it.
  const result = JSON.parse(readFileSync(path.join(dir, 'result.json'), 'utf8')) as { segments: PolicySegment[] };
  const base = configDefaults.policies;
  const expected = { default: base, srtf: `${base},srtf`, lpt: `${base},lpt` };
  for (const g of result.segments) {
    expect(g.servedPolicies.join(',')).toBe(expected[g.policySet]);
    expect(g.publishedPolicyLists.every((l) => l === expected[g.policySet])).toBe(true);
  }
  // SRTF gives every session it sees a priority; the default set names no session.
  expect(result.segments.filter((g) => g.policySet === 'srtf').some((g) => g.prioritizedSessions > 0)).toBe(true);
  expect(result.segments.filter((g) => g.policySet === 'default').every((g) => g.prioritizedSessions === 0)).toBe(true);

  // Every set played the same arrivals at each rate.
  const records = gunzipSync(readFileSync(path.join(dir, 'records.jsonl.gz')))
    .toString('utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as PolicyRecord);
  for (const rate of [1, 2]) {
    const ids = (set: string) =>
      records
        .filter((r) => r.rate === rate && r.policySet === set)
        .map((r) => `${r.arrival.id}@${r.arrival.atMs}`)
        .sort();
    expect(ids('srtf')).toEqual(ids('default'));
    expect(ids('lpt')).toEqual(ids('default'));
  }
  const report = readFileSync(path.join(dir, 'report.md'), 'utf8');
  expect(report).toContain(`\`srtf\`: \`${base},srtf\``);
  expect(readFileSync(path.join(dir, 'jct.svg'), 'utf8').startsWith('<svg')).toBe(true);
}, 180_000);
