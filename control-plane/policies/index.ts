/**
 * The built-in policies by name, and how configuration names them. NALAR_POLICIES is a list of entries, each a
 * name or `{ "name": ..., "params": {...} }`, run in that order every round.
 */
import type { Policy } from './api';

/** A built-in policy: made from its (validated) params. */
export interface PolicyModule {
  /** One line for `--help` and GET /v1/policy. */
  readonly description: string;
  /** Builds the policy; throws a NalarError (CONFIG_INVALID) for bad params. */
  create(params: unknown): Policy;
}

/** Every built-in policy, by the name configuration uses. */
export const builtInPolicies: Readonly<Record<string, PolicyModule>> = {};
