import { ErrorCode, isNalarError } from '../../common/errors';
import { DEFAULT_IMBALANCE, DEFAULT_PHASES } from './azure-trace';
import { formatSummary, parseTraceArgs, summarizeTrace, traceOf } from './cli';

function usageError(args: string[]): string {
  try {
    parseTraceArgs(args);
  } catch (err) {
    if (isNalarError(err) && err.code === ErrorCode.USAGE) return err.message;
    throw err;
  }
  throw new Error(`expected a usage error for ${args.join(' ')}`);
}

describe('parseTraceArgs', () => {
  test('--help, defaults, and every option', () => {
    expect(parseTraceArgs(['--help'])).toBeUndefined();
    expect(parseTraceArgs([])).toEqual({
      rate: 10,
      durationS: 60,
      seed: 42,
      imbalance: DEFAULT_IMBALANCE,
      phases: DEFAULT_PHASES,
    });
    expect(
      parseTraceArgs([
        '--rate',
        '40',
        '--duration=30',
        '--seed',
        '7',
        '--imbalance',
        '0.9',
        '--phases',
        '4',
        '--csv',
        'x.csv',
      ]),
    ).toEqual({ rate: 40, durationS: 30, seed: 7, imbalance: 0.9, phases: 4, csv: 'x.csv' });
    // Real files play at their own pace unless a rate is given.
    expect(parseTraceArgs(['--from', 'a/code.csv:coding,conv.csv:chat'])).toMatchObject({
      from: [
        { path: 'a/code.csv', kind: 'coding' },
        { path: 'conv.csv', kind: 'chat' },
      ],
    });
    expect(parseTraceArgs(['--from', 'conv.csv:chat'])?.rate).toBeUndefined();
  });

  test('bad options are usage errors naming the option, followed by the usage', () => {
    expect(usageError(['--imbalance', '0.2'])).toMatch(/^--imbalance: must be in \[0.5, 1\]\n\nUsage:/);
    expect(usageError(['--phases', '1.5'])).toMatch(/^--phases: must be an integer/);
    expect(usageError(['--rate', 'fast'])).toMatch(/^--rate: /);
    expect(usageError(['--from', 'code.csv'])).toMatch(/^--from: each entry is path:kind/);
    expect(usageError(['--speed', '2'])).toMatch(/^unknown option --speed/);
    expect(usageError(['--seed'])).toMatch(/^--seed needs a value/);
    expect(usageError(['trace.csv'])).toMatch(/^unexpected argument trace.csv/);
  });
});

test('the summary shows each phase dominated by its kind, at the asked rate', () => {
  const options = parseTraceArgs(['--rate', '20', '--duration', '40', '--phases', '2', '--seed', '3'])!;
  const rows = summarizeTrace(traceOf(options), 40_000, 2);
  expect(rows.map((r) => [r.phase, r.dominant, r.requests])).toEqual([
    [0, 'chat', 400],
    [1, 'coding', 400],
    ['all', undefined, 800],
  ]);
  expect(rows[0]!.dominantShare).toBeCloseTo(0.95, 5);
  expect(rows[2]!.rate).toBe(20);
  expect(rows[1]!.medians.coding.output).toBeLessThan(rows[0]!.medians.chat.output);
  const text = formatSummary(rows);
  expect(text.split('\n')).toHaveLength(4);
  expect(text).toMatch(/^0\s+chat\s+400\s+20\.00\s+0\.950/m);
});
