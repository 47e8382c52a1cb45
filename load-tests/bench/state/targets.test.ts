import { closingLine } from '../run-info';
import { summarize } from '../stats';
import type { HistoryResult } from './history';
import { sizeResult, type HistoryModeResult } from './history-stats';
import type { OpsResult, VariantResult } from './ops';
import type { VariantOps } from './ops-summary';
import { defaultStateBenchOptions, type StateBenchOptions } from './options';
import { HISTORY_TARGET_BYTES, STATE_TARGET_MS, stateBenchOutcome } from './targets';

const options = (over: Partial<StateBenchOptions> = {}): StateBenchOptions => ({
  ...defaultStateBenchOptions,
  backends: ['filesystem', 'redis', 'redis+cache'],
  ...over,
});

/** Summaries of a variant whose read + write per call took `readWriteMs` (read half of it). */
function variantOps(readWriteMs: number[], failed = 0): VariantOps {
  const s = summarize(readWriteMs);
  const half = summarize(readWriteMs.map((v) => v / 2));
  return { read: half, write: half, readWrite: s, get: half, put: half, getPut: s, failed, windows: [] };
}

const ran = (name: string, ops: VariantOps): VariantResult => ({ name, status: 'ran', ops });
const opsResult = (variants: VariantResult[]): OpsResult => ({
  variants,
  records: [],
  seconds: 1,
  loadAverage: { before: 0, after: 0 },
});
const hundred = (p99: number) => [...Array.from({ length: 98 }, () => 1), p99, 100];

const withOffload = (bytesPerStep: number): HistoryModeResult => ({ steps: 50, ran: true, bytesPerStep });
const history = (...perSize: [number, HistoryModeResult][]): HistoryResult => ({
  temporalVersion: 'test',
  sizes: perSize.map(([kib, w]) => sizeResult(kib, w, { steps: 0, ran: false, reason: 'too large' })),
  records: [],
  seconds: 1,
});

describe('state goals: read + write p99 per plain backend', () => {
  test(`met at ${STATE_TARGET_MS} ms, not met above; cached variants have metrics but no goal`, () => {
    const ops = opsResult([
      ran('filesystem', variantOps(hundred(5))),
      ran('redis', variantOps(hundred(5.1))),
      ran('redis+cache', variantOps(hundred(2))),
    ]);
    const { targets, metrics } = stateBenchOutcome(options({ parts: ['ops'] }), ops, undefined, undefined);
    expect(targets.state_read_write_p99_ms_filesystem).toEqual({ value: 5, target: 5, op: '<=', met: true });
    expect(targets.state_read_write_p99_ms_redis).toEqual({ value: 5.1, target: 5, op: '<=', met: false });
    expect(targets).not.toHaveProperty('state_read_write_p99_ms_redis+cache');
    const state = metrics.state_ms as Record<string, Record<string, number>>;
    expect(state['redis+cache']).toMatchObject({ read_write_p99: 2, p99_vs_fastest: 1, read_p50_vs_plain: 1 });
    expect(state.redis).toMatchObject({ read_write_p99: 5.1, p99_vs_fastest: 2.55, failed: 0 });
  });

  test('not met when an operation failed, however fast the rest were', () => {
    const ops = opsResult([ran('filesystem', variantOps(hundred(1), 3))]);
    const { targets } = stateBenchOutcome(
      options({ backends: ['filesystem'], parts: ['ops'] }),
      ops,
      undefined,
      undefined,
    );
    expect(targets.state_read_write_p99_ms_filesystem).toMatchObject({
      value: 1,
      met: false,
      note: '3 operations failed',
    });
  });

  test('a skipped backend or a part not run is a goal not met, with the reason, never a missing entry', () => {
    const skipped = opsResult([{ name: 'redis', status: 'skipped', reason: 'ECONNREFUSED' }]);
    const o = options({ backends: ['redis'], parts: ['ops'] });
    expect(stateBenchOutcome(o, skipped, undefined, undefined).targets.state_read_write_p99_ms_redis).toMatchObject({
      met: false,
      note: 'skipped: ECONNREFUSED',
    });
    const notRun = stateBenchOutcome(options({ backends: ['redis'], parts: ['history'] }), undefined, undefined, 'x');
    expect(notRun.targets.state_read_write_p99_ms_redis).toMatchObject({ met: false, note: 'not run (--parts)' });
  });
});

describe('history goal: bytes per step with offload, the largest over all sizes', () => {
  const o = options({ parts: ['history'] });

  test(`met at ${HISTORY_TARGET_BYTES} bytes, not met above`, () => {
    const at = stateBenchOutcome(o, undefined, history([10, withOffload(900)], [1024, withOffload(1024)]), undefined);
    expect(at.targets.history_bytes_per_step_with_offload).toEqual({ value: 1024, target: 1024, op: '<=', met: true });
    expect(at.metrics).toMatchObject({
      history_bytes_per_step_with_offload_max: 1024,
      history_bytes_per_step: { '10KiB': { with_offload_bytes_per_step: 900, without_offload_bytes_per_step: null } },
    });
    const above = stateBenchOutcome(o, undefined, history([10, withOffload(1024.5)]), undefined);
    expect(above.targets.history_bytes_per_step_with_offload).toMatchObject({ value: 1024.5, met: false });
  });

  test('not met when a size failed with offload, when the part could not run, or when it had no sizes', () => {
    const failed = history([10, withOffload(500)], [1024, { steps: 50, ran: false, reason: 'timed out' }]);
    expect(
      stateBenchOutcome(o, undefined, failed, undefined).targets.history_bytes_per_step_with_offload,
    ).toMatchObject({ met: false, note: 'failed at 1024 KiB: timed out' });
    expect(
      stateBenchOutcome(o, undefined, undefined, 'no dev server').targets.history_bytes_per_step_with_offload,
    ).toMatchObject({ met: false, note: 'not run: no dev server' });
    expect(
      stateBenchOutcome(o, undefined, history(), undefined).targets.history_bytes_per_step_with_offload,
    ).toMatchObject({ met: false });
  });
});

test('the closing line of a run is one line of JSON with one entry per goal: value, target, op, met (and a note)', () => {
  const ops = opsResult([
    ran('filesystem', variantOps(hundred(3))),
    { name: 'redis', status: 'skipped', reason: 'ECONNREFUSED' },
    ran('redis+cache', variantOps(hundred(2))),
  ]);
  const { metrics, targets } = stateBenchOutcome(options(), ops, history([10, withOffload(923)]), undefined);
  const line = closingLine('state', 'abc', metrics, targets);
  expect(line).not.toContain('\n');
  const parsed = JSON.parse(line) as { bench: string; targets: Record<string, Record<string, unknown>> };
  expect(parsed.bench).toBe('state');
  expect(Object.keys(parsed.targets)).toEqual([
    'state_read_write_p99_ms_filesystem',
    'state_read_write_p99_ms_redis',
    'history_bytes_per_step_with_offload',
  ]);
  for (const t of Object.values(parsed.targets)) {
    expect(Object.keys(t).slice(0, 4)).toEqual(['value', 'target', 'op', 'met']);
    expect(typeof t.met).toBe('boolean');
  }
  expect(parsed.targets.state_read_write_p99_ms_redis).toEqual({
    value: null,
    target: 5,
    op: '<=',
    met: false,
    note: 'skipped: ECONNREFUSED',
  });
});
