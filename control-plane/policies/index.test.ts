import { ErrorCode, hasErrorCode } from '../../common/errors';
import { builtInPolicies } from './index';
import { defaultPolicies } from './lines';
import { runPolicy, SnapshotBuilder } from './testing';

describe('the built-in policy registry', () => {
  test('every policy is made from no params (all defaults) and carries the name configuration uses', () => {
    expect(Object.keys(builtInPolicies).sort()).toEqual(
      [
        'attained-service',
        'autoscale',
        'capacity-reassign',
        'high-priority',
        'hol-migration',
        'load-balance',
        'lpt',
        'prefix-aware',
        'srtf',
      ].sort(),
    );
    for (const [name, module] of Object.entries(builtInPolicies)) {
      expect(module.description.length).toBeGreaterThan(10);
      expect(module.create(undefined).name).toBe(name);
      expect(module.create({}).name).toBe(name);
    }
  });

  test('every default policy is registered', () => {
    for (const name of defaultPolicies) expect(builtInPolicies[name]).toBeDefined();
  });

  test('unknown params are refused with CONFIG_INVALID naming the policy and the field, for every policy', () => {
    for (const [name, module] of Object.entries(builtInPolicies)) {
      let caught: unknown;
      try {
        module.create({ typo: true });
      } catch (err) {
        caught = err;
      }
      expect(hasErrorCode(caught, ErrorCode.CONFIG_INVALID)).toBe(true);
      expect((caught as Error).message).toContain(`policy '${name}'`);
      expect((caught as Error).message).toContain('typo');
    }
  });

  test('params that are not an object are refused too', () => {
    expect(() => builtInPolicies['srtf']?.create('fast')).toThrow(/policy 'srtf': params: /);
  });

  test('every policy runs on an empty system and on a busy one without throwing', () => {
    const empty = new SnapshotBuilder().build();
    const busy = new SnapshotBuilder()
      .replica('a1', { agent: 'analyst', capacity: 1, inFlight: 1, residentPrefixes: ['p'] })
      .replica('a2', { agent: 'analyst', capacity: 1 })
      .workflow('w1', { session: 's1', stage: 2, reentries: 1 })
      .session('s1', { prefixHash: 'p', waiting: [{ agent: 'analyst', replica: 'a1', waitedMs: 10_000 }] })
      .build();
    for (const module of Object.values(builtInPolicies)) {
      expect(() => runPolicy(module.create({}), empty)).not.toThrow();
      expect(() => runPolicy(module.create({}), busy)).not.toThrow();
    }
  });
});
