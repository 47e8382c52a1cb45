import { defaultControlBenchOptions, parseControlBenchOptions } from './options';

test('the default run has every power of 2 from 2^10 to 2^20, with 131,072 and 1,048,576, on 32 and 64 nodes', () => {
  const o = parseControlBenchOptions([]);
  expect(o.sizes).toEqual(Array.from({ length: 11 }, (_, i) => 2 ** (10 + i)));
  expect(o.nodeCounts).toEqual([32, 64]);
  expect(o.decisionSizes[0]).toBe(1024);
  expect(o.decisionSizes.at(-1)).toBe(131072);
  expect(o).toEqual(defaultControlBenchOptions);
});

test('--quick shrinks the run, later flags win, and decision sizes join the loop sizes', () => {
  const o = parseControlBenchOptions(['--quick', '--sizes', '2048', '--decision-sizes', '4096', '--trials', '5']);
  expect(o.sizes).toEqual([2048, 4096]);
  expect(o.decisionSizes).toEqual([4096]);
  expect(o.trials).toBe(5);
  expect(o.links).toBeLessThan(defaultControlBenchOptions.links);
});

test('bad values and unknown flags are errors that name them', () => {
  expect(() => parseControlBenchOptions(['--rounds', '0'])).toThrow(/--rounds/);
  expect(() => parseControlBenchOptions(['--churn-share', '2'])).toThrow(/--churn-share/);
  expect(() => parseControlBenchOptions(['--parts', 'loop,nope'])).toThrow(/nope/);
  expect(() => parseControlBenchOptions(['--frobnicate', '1'])).toThrow(/--frobnicate/);
});
