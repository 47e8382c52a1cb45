/** `agentStub`: builds the typed stub object that generated files export. Workflow-side. */
import { ApplicationFailure } from '@temporalio/workflow';
import type { ErrorCode } from '../../common/errors';
import { call, type NalarFuture } from './future';
import type { CallOptions, FutureOr, StubSpec } from './types';

// Workflow code does not value-import common/: the annotation fails the type check if the code is not registered.
const STUB_METHOD_UNKNOWN: typeof ErrorCode.STUB_METHOD_UNKNOWN = 'NALAR_ERR_STUB_METHOD_UNKNOWN';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- mirrors the definition's method types
type Method = (input: any) => Promise<unknown>;

/** Input of a method, where any part may be a future. */
export type StubInput<F extends Method> = Parameters<F> extends [] ? void : FutureOr<Parameters<F>[0]>;

/** One stub method per definition method: same input (futures allowed), returns a future of the result. */
export type Stub<M extends Record<string, Method>> = {
  readonly [K in keyof M]: (input: StubInput<M[K]>, options?: CallOptions) => NalarFuture<Awaited<ReturnType<M[K]>>>;
};

/**
 * Property names that code probes on any object to find out what it is (Promise resolution, JSON, React,
 * Jest, DOM and Node inspection). They must read as `undefined`, never as a method: a stub with a `then`
 * function would be taken for a promise, one with `toJSON` would serialise as its result.
 */
const probedNames = new Set(['then', 'toJSON', 'asymmetricMatch', '$$typeof', 'nodeType']);

/**
 * The failure of calling a method the stub does not have: not retryable, so the workflow fails at once instead
 * of retrying its workflow task forever on a `TypeError`.
 */
function unknownMethod(spec: StubSpec, method: string): ApplicationFailure {
  const known = spec.methods.join(', ') || 'none';
  return ApplicationFailure.create({
    type: STUB_METHOD_UNKNOWN,
    nonRetryable: true,
    message:
      `${spec.kind} ${spec.name} has no method ${method} (its stub has: ${known}); if you added it to the ` +
      `definition, run \`npm run stubs\` to regenerate the stubs, then restart the worker`,
    details: [{ agent: spec.name, method, methods: [...spec.methods] }],
  });
}

/**
 * The stub of one agent or tool; every method call returns a {@link NalarFuture} at once. Calling a method the
 * stub does not have (a stale stub, or a typo through `any` or a cast) throws a non-retryable
 * `ApplicationFailure` of type `NALAR_ERR_STUB_METHOD_UNKNOWN` naming the agent, the method and the methods
 * it has, which fails the workflow in the same workflow task.
 */
export function agentStub<M extends Record<string, Method>>(spec: StubSpec): Stub<M> {
  const stub: Record<string, (input: unknown, options?: CallOptions) => NalarFuture<unknown>> = {};
  for (const method of spec.methods) {
    stub[method] = (input, options) => call(spec, method, input, options);
  }
  return new Proxy(Object.freeze(stub), {
    get(target, property, receiver) {
      // Symbols (inspection, iteration, toPrimitive) and Object.prototype members behave as on a plain object.
      if (typeof property === 'symbol' || property in target || probedNames.has(property)) {
        return Reflect.get(target, property, receiver);
      }
      // A function, so that the error names the call (`stub.typo(...)`) rather than breaking every property read.
      return () => {
        throw unknownMethod(spec, property);
      };
    },
  }) as unknown as Stub<M>;
}
