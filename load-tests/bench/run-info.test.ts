import { closingLine, target } from './run-info';

describe('target', () => {
  test('<= and >= are met at the boundary and not past it', () => {
    expect(target(5, '<=', 5)).toEqual({ value: 5, target: 5, op: '<=', met: true });
    expect(target(5.001, '<=', 5).met).toBe(false);
    expect(target(500, '>=', 500).met).toBe(true);
    expect(target(499, '>=', 500).met).toBe(false);
  });

  test('< and > are not met at the boundary', () => {
    expect(target(5, '<', 5).met).toBe(false);
    expect(target(4.999, '<', 5).met).toBe(true);
    expect(target(5, '>', 5).met).toBe(false);
    expect(target(5.001, '>', 5).met).toBe(true);
  });

  test.each(['<=', '>=', '<', '>'] as const)('a value that was not measured is never met (op %s)', (op) => {
    for (const missing of [NaN, undefined, null]) {
      expect(target(missing as unknown as number, op, 0).met).toBe(false);
      expect(target(missing as unknown as number, op, 1).met).toBe(false);
    }
  });

  test.each(['<=', '>=', '<', '>'] as const)('a figure divided by zero (infinite) is never met (op %s)', (op) => {
    expect(target(Infinity, op, 500).met).toBe(false);
    expect(target(-Infinity, op, 500).met).toBe(false);
  });
});

describe('closingLine', () => {
  const targets = {
    p99_ms: target(3.2, '<=', 5),
    in_flight: target(NaN, '>=', 500),
  };

  test('is exactly one line of JSON with bench, commit, metrics and targets', () => {
    const line = closingLine('state', 'abc123', { note: 'two\nlines', nested: { p50: 1.5 } }, targets);
    expect(line.split('\n')).toHaveLength(1);
    expect(JSON.parse(line)).toEqual({
      bench: 'state',
      commit: 'abc123',
      metrics: { note: 'two\nlines', nested: { p50: 1.5 } },
      targets: {
        p99_ms: { value: 3.2, target: 5, op: '<=', met: true },
        // NaN is not JSON: an unmeasured value is null, and not met.
        in_flight: { value: null, target: 500, op: '>=', met: false },
      },
    });
  });

  test('keeps the order of the targets and every entry has value, target, op and met', () => {
    const parsed = JSON.parse(closingLine('sim', 'x', {}, targets)) as { targets: Record<string, object> };
    expect(Object.keys(parsed.targets)).toEqual(['p99_ms', 'in_flight']);
    for (const t of Object.values(parsed.targets)) expect(Object.keys(t)).toEqual(['value', 'target', 'op', 'met']);
  });
});
