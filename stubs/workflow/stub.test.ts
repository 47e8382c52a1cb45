/**
 * The stub object outside a workflow (pure logic): a known method is a function; an unknown one is a function
 * that throws the typed failure; and the stub still behaves as a plain object for Promise resolution, JSON,
 * inspection and `in`. Inside a workflow: test/user-mistakes.int.test.ts.
 */
import { inspect } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import { agentStub } from './stub';
import type { StubSpec } from './types';

const spec: StubSpec = {
  name: 'analyst',
  kind: 'agent',
  methods: ['plan', 'summarise'],
  startToCloseTimeout: '1 minute',
  directives: { stateful: false, batchable: false, preemptable: false, minInstances: 1, maxInstances: 1 },
};
type Methods = {
  plan: (input: { topic: string }) => Promise<string>;
  summarise: (input: { text: string }) => Promise<string>;
};
const stub = agentStub<Methods>(spec);

test('calling a method the stub does not have throws NALAR_ERR_STUB_METHOD_UNKNOWN, not a TypeError', () => {
  const loose = stub as unknown as Record<string, (input: unknown) => unknown>;
  let thrown: unknown;
  try {
    loose.critique!({ text: 'x' });
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ApplicationFailure);
  const failure = thrown as ApplicationFailure;
  expect(failure.type).toBe('NALAR_ERR_STUB_METHOD_UNKNOWN');
  expect(failure.nonRetryable).toBe(true);
  expect(failure.message).toBe(
    'agent analyst has no method critique (its stub has: plan, summarise); if you added it to the definition, ' +
      'run `npm run stubs` to regenerate the stubs, then restart the worker',
  );
  expect(failure.details).toEqual([{ agent: 'analyst', method: 'critique', methods: ['plan', 'summarise'] }]);
});

test('known methods are functions; the stub is frozen and lists only them', () => {
  expect(typeof stub.plan).toBe('function');
  expect(Object.keys(stub)).toEqual(['plan', 'summarise']);
  expect('plan' in stub).toBe(true);
  expect('critique' in stub).toBe(false);
  expect(Object.isFrozen(stub)).toBe(true);
});

test('the stub is not a thenable, serialises and inspects as a plain object', async () => {
  const probe = stub as unknown as Record<string, unknown>;
  expect(probe.then).toBeUndefined();
  expect(probe.toJSON).toBeUndefined();
  // Awaiting or resolving with it gives the stub itself (a `then` method would make it a promise).
  await expect(Promise.resolve(stub)).resolves.toBe(stub);
  expect(await (async () => stub)()).toBe(stub);
  expect(JSON.stringify(stub)).toBe('{}');
  expect(inspect(stub)).toMatch(/plan: \[Function/);
  expect(String(stub)).toBe('[object Object]');
  expect(stub[Symbol.iterator as never]).toBeUndefined();
});
