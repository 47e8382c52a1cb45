import { configDefaults } from '../../../common/config';
import { fixtureWorkload } from '../e2e/fixture-workload';
import { sweWorkload } from '../workloads/swe';
import { parsePoliciesBenchOptions, policiesSettings, policySets, upperHalf } from './options';

test('defaults: swe near its capacity, 60 s segments, one seed, the Nalar variant only, the default list first', () => {
  const o = parsePoliciesBenchOptions([]);
  expect(o.workload).toBe('swe');
  const s = policiesSettings(sweWorkload, o);
  expect(s).toMatchObject({ rates: [1.5, 2], stepSeconds: 60, seed: 42, variants: ['nalar'] });
  expect(s.policies).toBe(configDefaults.policies);
  // Another workload without its own rates: the upper half of its grid.
  expect(policiesSettings(fixtureWorkload, o).rates).toEqual([2]);
  expect(upperHalf([1.5, 0.25, 0.5, 1])).toEqual([1, 1.5]);
});

test('every option parses; the e2e options pass through; those that do not apply are refused', () => {
  const o = parsePoliciesBenchOptions([
    '--workload', 'analyst', '--rates', '0.5,0.2', '--step-seconds', '5', '--seeds', '7,8',
    '--base-policies', 'load-balance', '--drain-seconds', '3', '--warmup', '0', '--control-period', '100',
  ]); // prettier-ignore
  expect(o).toMatchObject({
    workload: 'analyst',
    rates: [0.2, 0.5],
    stepSeconds: 5,
    seeds: [7, 8],
    basePolicies: 'load-balance',
  });
  const s = policiesSettings(fixtureWorkload, o);
  expect(s).toMatchObject({ seed: 7, drainSeconds: 3, warmup: 0, controlPeriodMs: 100, policies: 'load-balance' });
  expect(() => parsePoliciesBenchOptions(['--variants', 'baseline'])).toThrow(/does not apply/);
  expect(() => parsePoliciesBenchOptions(['--workload', 'nope'])).toThrow(/unknown workload/);
  expect(() => parsePoliciesBenchOptions(['--base-policies', 'srtff'])).toThrow(/unknown policy 'srtff'/);
  expect(() => parsePoliciesBenchOptions(['--seeds', '1.5'])).toThrow(/--seeds/);
  expect(() => parsePoliciesBenchOptions(['--nope', '1'])).toThrow(/unknown option --nope/);
});

test('the sets add srtf or lpt to the base list, in comma or JSON form', () => {
  expect(policySets('load-balance,hol-migration')).toEqual({
    default: 'load-balance,hol-migration',
    srtf: 'load-balance,hol-migration,srtf',
    lpt: 'load-balance,hol-migration,lpt',
  });
  expect(policySets('[{"name":"load-balance"}]').lpt).toBe('[{"name":"load-balance"},"lpt"]');
});
