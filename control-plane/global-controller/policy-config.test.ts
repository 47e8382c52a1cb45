import { configDefaults } from '../../common/config';
import type { PolicyModule } from '../policies/index';
import { parsePolicyList, resolvePolicies } from './policy-config';

const registry: Record<string, PolicyModule> = {
  'load-balance': { description: 'test', create: () => ({ name: 'load-balance', decide: () => {} }) },
  'with-params': {
    description: 'test',
    create: (params) => {
      if (typeof params !== 'object' || params === null || !('n' in params)) throw new Error('needs {"n": …}');
      return { name: 'with-params', decide: () => {} };
    },
  },
};

test('NALAR_POLICIES is a comma list of names or a JSON list of names and {name, params}', () => {
  expect(parsePolicyList(' load-balance , with-params ')).toEqual(['load-balance', 'with-params']);
  expect(parsePolicyList('["load-balance", {"name": "with-params", "params": {"n": 2}}]')).toEqual([
    'load-balance',
    { name: 'with-params', params: { n: 2 } },
  ]);
  expect(() => parsePolicyList('a,,b')).toThrow(/empty policy name/);
  expect(() => parsePolicyList('[1]')).toThrow(/NALAR_POLICIES: expected a list of policy names/);
  expect(() => parsePolicyList('[')).toThrow(/NALAR_POLICIES: not JSON/);
});

test('names resolve through the registry; an unknown name or bad params is a config error naming what is known', () => {
  const installed = resolvePolicies(parsePolicyList('[{"name": "with-params", "params": {"n": 1}}]'), registry);
  expect(installed.map((p) => [p.name, p.params])).toEqual([['with-params', { n: 1 }]]);
  expect(() => resolvePolicies(['nope'], registry)).toThrow(
    "NALAR_POLICIES: unknown policy 'nope'; known: load-balance, with-params",
  );
  expect(() => resolvePolicies([{ name: 'with-params' }], registry)).toThrow(
    'NALAR_POLICIES: policy \'with-params\': needs {"n": …}',
  );
  // The default list names the three default policies: with an empty registry that is an error, not nothing.
  expect(() => resolvePolicies(parsePolicyList(configDefaults.policies), {})).toThrow(
    /unknown policy 'load-balance'; known: none/,
  );
});
