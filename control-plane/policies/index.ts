/**
 * The built-in policies by name, and how configuration names them. NALAR_POLICIES is a list of entries, each a
 * name or `{ "name": ..., "params": {...} }`, run in that order every round.
 */
import type { Policy } from './api';
import { attainedService } from './attained-service';
import { autoscale } from './autoscale';
import { capacityReassign } from './capacity-reassign';
import { highPriority } from './high-priority';
import { holMigration } from './hol-migration';
import { loadBalance } from './load-balance';
import { lpt } from './lpt';
import { prefixAware } from './prefix-aware';
import { srtf } from './srtf';

/** A built-in policy: made from its (validated) params. */
export interface PolicyModule {
  /** One line for `--help` and GET /v1/policy. */
  readonly description: string;
  /** Builds the policy; throws a NalarError (CONFIG_INVALID) for bad params. */
  create(params: unknown): Policy;
}

/**
 * Every built-in policy, by the name configuration uses. The policy named `x` lives in `control-plane/policies/x.ts`
 * (lines.ts counts its lines by that rule).
 */
export const builtInPolicies: Readonly<Record<string, PolicyModule>> = {
  'load-balance': loadBalance,
  'hol-migration': holMigration,
  'high-priority': highPriority,
  srtf,
  lpt,
  'attained-service': attainedService,
  'prefix-aware': prefixAware,
  'capacity-reassign': capacityReassign,
  autoscale,
};
