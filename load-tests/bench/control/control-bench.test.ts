/**
 * A smoke run of `npm run bench -- control` at tiny sizes (every part, real HTTP on loopback): it ends with
 * exactly one JSON line of the documented shape, with every goal of the issue, and writes its files.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseControlBenchOptions, runControlBench } from './index';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'control-bench-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a quick run ends with one closing JSON line naming every goal, and writes report, charts and result', async () => {
  const o = parseControlBenchOptions([
    '--quick',
    '--sizes',
    '512,1024',
    '--decision-sizes',
    '1024',
    '--nodes',
    '2,4',
    '--links',
    '4',
  ]);
  const out: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((line: string) => void out.push(line));
  const progress: string[] = [];
  try {
    await expect(runControlBench(o, (l) => progress.push(l), { dir })).resolves.toBe(0);
  } finally {
    log.mockRestore();
  }
  expect(out).toHaveLength(1);
  const line = JSON.parse(out[0] as string) as {
    bench: string;
    commit: string;
    metrics: Record<string, unknown>;
    targets: Record<string, { value: number | null; target: number; op: string; met: boolean }>;
  };
  expect(line.bench).toBe('control');
  expect(line.commit).toMatch(/^[0-9a-f]{40}$|^unknown$/);
  expect(Object.keys(line.targets).sort()).toEqual(
    [
      'default_policies_lines',
      'gc_loop_ms_at_1048576',
      'gc_loop_ms_at_131072',
      'local_decision_p99_ms_at_131072',
      'lpt_policy_lines',
      'propagation_ms',
      'srtf_policy_lines',
    ].sort(),
  );
  for (const t of Object.values(line.targets)) expect(['<=']).toContain(t.op);
  expect(line.targets.propagation_ms).toMatchObject({ target: o.periodMs + 50 });
  expect(typeof line.targets.propagation_ms?.value).toBe('number');
  // Sizes not in this run are goals without a figure: not met, never a crash.
  expect(line.targets.gc_loop_ms_at_131072).toMatchObject({ value: null, met: false });
  expect(line.metrics.loop_ms).toHaveProperty(['1024@4', 'total_p95']);
  expect(line.metrics.decision_ms).toHaveProperty(['1024', 'local_p99']);
  expect(progress.some((l) => l.startsWith('loop 512 futures, 2 nodes'))).toBe(true);
  for (const f of [
    'report.md',
    'result.json',
    'loop.svg',
    'memory.svg',
    'decision-central.svg',
    'decision-local.svg',
  ]) {
    expect(existsSync(path.join(dir, f))).toBe(true);
  }
  expect(readFileSync(path.join(dir, 'loop.svg'), 'utf8')).toContain('<svg');
});
