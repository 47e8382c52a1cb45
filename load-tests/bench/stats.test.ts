import { linearFit, percentile, round, summarize } from './stats';

const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('percentile (nearest rank)', () => {
  test('of no values is NaN, not 0 or undefined', () => {
    for (const q of [0, 0.5, 0.99, 1]) expect(percentile([], q)).toBeNaN();
  });

  test('of one value is that value at every q', () => {
    for (const q of [0, 0.01, 0.5, 0.99, 1]) expect(percentile([7], q)).toBe(7);
  });

  test('of 1..100 is the value of rank ceil(q × 100)', () => {
    const v = oneTo(100);
    expect(percentile(v, 0)).toBe(1);
    expect(percentile(v, 0.5)).toBe(50);
    expect(percentile(v, 0.95)).toBe(95);
    expect(percentile(v, 0.99)).toBe(99);
    expect(percentile(v, 1)).toBe(100);
  });

  test('of five values: the median is the middle one, p20 the first, p21 the second', () => {
    const v = [10, 20, 30, 40, 50];
    expect(percentile(v, 0.5)).toBe(30);
    expect(percentile(v, 0.2)).toBe(10);
    expect(percentile(v, 0.21)).toBe(20);
    expect(percentile(v, 0.95)).toBe(50);
  });

  test('with ties returns the tied value, and the tail above them', () => {
    expect(percentile([5, 5, 5, 7], 0.5)).toBe(5);
    expect(percentile([5, 5, 5, 7], 0.75)).toBe(5);
    expect(percentile([5, 5, 5, 7], 0.99)).toBe(7);
  });

  test('is not moved up a rank by floating-point error in q × n (0.07 × 100 = 7.000000000000001)', () => {
    expect(percentile(oneTo(100), 0.07)).toBe(7);
    expect(percentile(oneTo(300), 0.07)).toBe(21);
  });

  test('rejects a q outside [0, 1] instead of returning a value that is not in the data', () => {
    expect(() => percentile([1, 2, 3], NaN)).toThrow(RangeError);
    expect(() => percentile([1, 2, 3], 1.5)).toThrow(RangeError);
    expect(() => percentile([1, 2, 3], -0.1)).toThrow(RangeError);
  });
});

describe('summarize', () => {
  test('sorts a copy: exact figures of unsorted input, input untouched', () => {
    const input = [30, 10, 20];
    expect(summarize(input)).toEqual({ count: 3, mean: 20, p50: 20, p95: 30, p99: 30, max: 30 });
    expect(input).toEqual([30, 10, 20]);
  });

  test('p99 of 100 values in any order is the 99th smallest', () => {
    const shuffled = oneTo(100).map((v) => (v * 37) % 101);
    const s = summarize(shuffled);
    expect(s.count).toBe(100);
    expect(s.p99).toBe([...shuffled].sort((a, b) => a - b)[98]);
    expect(s.max).toBe(Math.max(...shuffled));
  });

  test('of no values: count 0 and NaN figures (a goal judged on them is not met)', () => {
    const s = summarize([]);
    expect(s.count).toBe(0);
    for (const k of ['mean', 'p50', 'p95', 'p99', 'max'] as const) expect(s[k]).toBeNaN();
  });

  test('of one value: every figure is that value', () => {
    expect(summarize([4.5])).toEqual({ count: 1, mean: 4.5, p50: 4.5, p95: 4.5, p99: 4.5, max: 4.5 });
  });
});

describe('round', () => {
  test('keeps three decimals below 10 and one from 10 on', () => {
    expect(round(1.23456)).toBe(1.235);
    expect(round(-0.0126)).toBe(-0.013);
    expect(round(12.345)).toBe(12.3);
    expect(round(1234.56)).toBe(1234.6);
  });

  test('passes NaN and infinities through', () => {
    expect(round(NaN)).toBeNaN();
    expect(round(Infinity)).toBe(Infinity);
  });
});

describe('linearFit', () => {
  test('recovers the line through exact points', () => {
    const fit = linearFit([1, 3, 10].map((x) => ({ x, y: 50 + 20 * x })));
    expect(fit.slope).toBeCloseTo(20, 9);
    expect(fit.intercept).toBeCloseTo(50, 9);
  });

  test('averages out noise: repeated x values fit their means', () => {
    const fit = linearFit([
      { x: 1, y: 60 },
      { x: 1, y: 80 },
      { x: 3, y: 100 },
      { x: 3, y: 140 },
    ]);
    expect(fit.slope).toBeCloseTo(25, 9);
    expect(fit.intercept).toBeCloseTo(45, 9);
  });

  test('has no slope without two distinct x values', () => {
    expect(linearFit([]).slope).toBeNaN();
    expect(
      linearFit([
        { x: 3, y: 1 },
        { x: 3, y: 2 },
      ]).slope,
    ).toBeNaN();
  });
});
