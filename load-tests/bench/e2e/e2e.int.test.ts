/**
 * The whole runner on the fixture workload against a real dev server, simulator pool and worker process:
 * two tiny rates, both variants, then the files and the closing line.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { configDefaults } from '../../../common/config';
import { fixtureWorkload } from './fixture-workload';
import { parseE2eBenchOptions } from './options';
import type { RunRecord } from './stats';
import { runWorkloadBench } from '.';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'nalar-e2e-bench-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('two rates × two variants: report, figure, result, raw records and one closing line', async () => {
  const lines: string[] = [];
  const printed: string[] = [];
  const spy = jest.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
  let code: number;
  try {
    const o = parseE2eBenchOptions(['--rates', '1,2', '--step-seconds', '2', '--drain-seconds', '20']);
    code = await runWorkloadBench(fixtureWorkload, o, (l) => lines.push(l), { dir });
  } finally {
    spy.mockRestore();
  }
  expect(code).toBe(0);
  for (const f of ['report.md', 'figure9.svg', 'result.json', 'records.jsonl.gz']) {
    expect(existsSync(path.join(dir, f))).toBe(true);
  }
  // Progress went to the log, one closing line to stdout.
  expect(lines.some((l) => /rate 2\/s baseline: \d+\/\d+ completed/.test(l))).toBe(true);
  expect(printed).toHaveLength(1);
  const closing = JSON.parse(printed[0] as string) as {
    bench: string;
    metrics: Record<string, unknown> & { rates: { rate: number; variant: string; requests: number }[] };
    targets: Record<string, { op: string; target: number }>;
  };
  expect(closing.bench).toBe('fixture');
  expect(closing.metrics).toHaveProperty('nalar_capacity_rate');
  expect(closing.metrics).toHaveProperty('baseline_capacity_rate');
  expect(closing.metrics).toHaveProperty('capacity_ratio');
  // The fixture reports no critical path: no overhead figure, so the target is not met.
  expect(closing.metrics.framework_overhead_share_p50).toBeNull();
  expect(closing.targets.framework_overhead_share_p50).toMatchObject({ op: '<=', target: 0.1, met: false });
  // Rate 1 plays nalar first, rate 2 baseline first.
  expect(closing.metrics.rates.map((r) => `${r.rate} ${r.variant}`)).toEqual([
    '1 nalar',
    '1 baseline',
    '2 baseline',
    '2 nalar',
  ]);

  const records = gunzipSync(readFileSync(path.join(dir, 'records.jsonl.gz')))
    .toString('utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as RunRecord);
  // Both variants played the same arrivals at each rate.
  for (const rate of [1, 2]) {
    const ids = (v: string) =>
      records
        .filter((r) => r.rate === rate && r.variant === v)
        .map((r) => `${r.arrival.id}@${r.arrival.atMs}`)
        .sort();
    expect(ids('nalar')).toEqual(ids('baseline'));
  }
  const result = JSON.parse(readFileSync(path.join(dir, 'result.json'), 'utf8')) as {
    segments: {
      variant: string;
      requests: number;
      completed: number;
      busyMs: number[];
      imbalance: { overall: number | null };
    }[];
  };
  expect(result.segments.reduce((a, s) => a + s.requests, 0)).toBe(records.length);
  for (const s of result.segments.filter((g) => g.variant === 'nalar' && g.completed > 0)) {
    // The Nalar variant's model calls kept the writer replicas busy; max/mean is at least 1.
    expect(s.busyMs.some((b) => b > 0)).toBe(true);
    expect(s.imbalance.overall).toBeGreaterThanOrEqual(1);
  }
  const report = readFileSync(path.join(dir, 'report.md'), 'utf8');
  expect(report).toContain('![Mean latency per rate and variant');
  expect(report).toMatch(/Temporal: .*\d/);
  expect(report).toContain(`policy set: ${configDefaults.policies} every`);
  expect(readFileSync(path.join(dir, 'figure9.svg'), 'utf8').startsWith('<svg')).toBe(true);
}, 120_000);

test('requests still running when the drain bound ends are TIMEOUT records, and the run goes on', async () => {
  const timeoutDir = path.join(dir, 'timeout');
  const printed: string[] = [];
  const spy = jest.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
  const lines: string[] = [];
  try {
    // No drain at all: whatever is in flight when the last arrival is due times out.
    const o = parseE2eBenchOptions([
      '--rates', '8', '--step-seconds', '1', '--drain-seconds', '0', '--variants', 'nalar', '--warmup', '0',
    ]); // prettier-ignore
    await expect(runWorkloadBench(fixtureWorkload, o, (l) => lines.push(l), { dir: timeoutDir })).resolves.toBe(0);
  } finally {
    spy.mockRestore();
  }
  const records = gunzipSync(readFileSync(path.join(timeoutDir, 'records.jsonl.gz')))
    .toString('utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as RunRecord);
  const arrivals = fixtureWorkload.arrivals({ rate: 8, durationMs: 1000, seed: 42 });
  // One record per arrival, whether it completed or timed out.
  expect(records.map((r) => r.id).sort()).toEqual(arrivals.map((a) => a.id).sort());
  const timedOut = records.filter((r) => r.errorCode === 'TIMEOUT');
  expect(timedOut.length).toBeGreaterThan(0);
  expect(timedOut.every((r) => !r.ok && r.latencyMs >= 0)).toBe(true);
  const closing = JSON.parse(printed[0] as string) as { metrics: { rates: { failed: number }[] } };
  expect(closing.metrics.rates[0]?.failed).toBe(records.filter((r) => !r.ok).length);
}, 90_000);
