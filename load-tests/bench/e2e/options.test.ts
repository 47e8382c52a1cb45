import { defaultE2eBenchOptions, parseE2eBenchOptions } from './options';
import { workloadOfModule, loadWorkload, isWorkloadName } from './workloads';
import { fixtureWorkload } from './fixture-workload';
import { e2eSettings } from '.';

test('no options: documented defaults, the workload fills in rates, step, time scale and drain', () => {
  const o = parseE2eBenchOptions([]);
  expect(o).toEqual(defaultE2eBenchOptions);
  expect(o).toEqual({ seed: 42, variants: ['nalar', 'baseline'], workers: 1, warmup: 3 });
  expect(e2eSettings(fixtureWorkload, o)).toEqual({
    rates: [1, 2],
    stepSeconds: 3,
    seed: 42,
    timeScale: 0.01,
    variants: ['nalar', 'baseline'],
    drainSeconds: 30,
    workers: 1,
    warmup: 3,
    // The global controller's defaults: NALAR_POLICIES' and NALAR_CONTROL_PERIOD's.
    policies: 'load-balance,hol-migration,high-priority',
    controlPeriodMs: 250,
  });
  // A workload whose requests run long sets its own drain; --drain-seconds still wins.
  const longRequests = { ...fixtureWorkload, defaultDrainSeconds: 75 };
  expect(e2eSettings(longRequests, o).drainSeconds).toBe(75);
  expect(e2eSettings(longRequests, parseE2eBenchOptions(['--drain-seconds', '5'])).drainSeconds).toBe(5);
});

test('every option parses; rates are sorted low to high without repeats', () => {
  const o = parseE2eBenchOptions([
    '--rates', '8,1,2,2',
    '--step-seconds', '2.5',
    '--seed', '7',
    '--time-scale', '0.005',
    '--variants', 'baseline',
    '--drain-seconds', '0',
    '--workers', '2',
    '--warmup', '0',
    '--policies', 'srtf,lpt',
    '--control-period', '100',
  ]); // prettier-ignore
  expect(o).toEqual({
    rates: [1, 2, 8],
    stepSeconds: 2.5,
    seed: 7,
    timeScale: 0.005,
    variants: ['baseline'],
    drainSeconds: 0,
    workers: 2,
    warmup: 0,
    policies: 'srtf,lpt',
    controlPeriodMs: 100,
  });
});

test('bad values and unknown flags are errors naming them', () => {
  expect(() => parseE2eBenchOptions(['--rates', '1,x'])).toThrow(/--rates needs a positive number, got x/);
  expect(() => parseE2eBenchOptions(['--rates', '0'])).toThrow(/--rates/);
  expect(() => parseE2eBenchOptions(['--variants', 'nalar,vllm'])).toThrow(/unknown variant 'vllm'/);
  expect(() => parseE2eBenchOptions(['--workers', '0'])).toThrow(/--workers needs a whole number >= 1/);
  expect(() => parseE2eBenchOptions(['--drain-seconds', '-1'])).toThrow(/--drain-seconds/);
  expect(() => parseE2eBenchOptions(['--seed'])).toThrow(/--seed needs a value/);
  expect(() => parseE2eBenchOptions(['--policies', 'srtf,fastest'])).toThrow(
    /--policies: unknown policy 'fastest'; known: .*srtf/,
  );
  expect(() => parseE2eBenchOptions(['--speed', '2'])).toThrow(/unknown option --speed/);
});

test('the registry: a workload without its line is not available, said plainly; a module gives its workload', async () => {
  expect(isWorkloadName('router')).toBe(true);
  expect(isWorkloadName('fixture')).toBe(false);
  const registry = { router: () => Promise.resolve({ w: { ...fixtureWorkload, name: 'router' } }) };
  await expect(loadWorkload('swe', registry)).rejects.toThrow(/workload 'swe' is not available yet.*available: router/);
  await expect(loadWorkload('router', registry)).resolves.toMatchObject({ name: 'router' });
  expect(workloadOfModule({ other: 1, fixtureWorkload }, 'fixture')).toBe(fixtureWorkload);
  expect(() => workloadOfModule({ fixtureWorkload }, 'router')).toThrow(/exports 0 BenchWorkload named 'router'/);
});
