/** `agentStub`: builds the typed stub object that generated files export. Workflow-side. */
import { call, type NalarFuture } from './future';
import type { CallOptions, FutureOr, StubSpec } from './types';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- mirrors the definition's method types
type Method = (input: any) => Promise<unknown>;

/** Input of a method, where any part may be a future. */
export type StubInput<F extends Method> = Parameters<F> extends [] ? void : FutureOr<Parameters<F>[0]>;

/** One stub method per definition method: same input (futures allowed), returns a future of the result. */
export type Stub<M extends Record<string, Method>> = {
  readonly [K in keyof M]: (input: StubInput<M[K]>, options?: CallOptions) => NalarFuture<Awaited<ReturnType<M[K]>>>;
};

/** The stub of one agent or tool; every method call returns a {@link NalarFuture} at once. */
export function agentStub<M extends Record<string, Method>>(spec: StubSpec): Stub<M> {
  const stub: Record<string, (input: unknown, options?: CallOptions) => NalarFuture<unknown>> = {};
  for (const method of spec.methods) {
    stub[method] = (input, options) => call(spec, method, input, options);
  }
  return Object.freeze(stub) as unknown as Stub<M>;
}
