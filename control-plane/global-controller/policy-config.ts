/**
 * NALAR_POLICIES (and the body of `PUT /v1/policy`): which policies run, in order, with their params. Names
 * resolve through the registry of built-in policies; an unknown name is a configuration error that lists the
 * known ones, never a silently smaller list.
 */
import { z } from 'zod';
import { ErrorCode, errorMessage, isNalarError, NalarError } from '../../common/errors';
import type { Policy } from '../policies/api';
import { builtInPolicies, type PolicyModule } from '../policies/index';

/** One entry of the list: a name, or a name with params. */
export const policyEntry = z.union([
  z.string().min(1),
  z.object({ name: z.string().min(1), params: z.unknown().optional() }).strict(),
]);

/** The list, as JSON. */
export const policyList = z.array(policyEntry);
export type PolicyEntry = z.infer<typeof policyEntry>;

/** A policy made from its entry: what the controller runs and what GET /v1/policy shows. */
export interface InstalledPolicy {
  readonly name: string;
  /** The params it was made from (undefined: its defaults). */
  readonly params: unknown;
  readonly policy: Policy;
}

/** Where names resolve. @default builtInPolicies */
export type PolicyRegistry = Readonly<Record<string, PolicyModule>>;

/**
 * Parses NALAR_POLICIES: a JSON list (`["load-balance", {"name": "srtf", "params": {...}}]`) when it starts
 * with `[`, else a comma-separated list of names. Throws NALAR_ERR_CONFIG_INVALID naming what is wrong.
 */
export function parsePolicyList(text: string, source = 'NALAR_POLICIES'): PolicyEntry[] {
  const trimmed = text.trim();
  if (!trimmed.startsWith('[')) {
    const names = trimmed.split(',').map((n) => n.trim());
    if (names.some((n) => n === '')) {
      throw new NalarError(ErrorCode.CONFIG_INVALID, `${source}: empty policy name in '${text}'`);
    }
    return names;
  }
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch (err) {
    throw new NalarError(ErrorCode.CONFIG_INVALID, `${source}: not JSON (${errorMessage(err)})`);
  }
  return checkPolicyList(json, source);
}

/** Validates a policy list already parsed from JSON (the body of `PUT /v1/policy`). */
export function checkPolicyList(json: unknown, source: string): PolicyEntry[] {
  const parsed = policyList.safeParse(json);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'list'}: ${i.message}`).join('; ');
    throw new NalarError(
      ErrorCode.CONFIG_INVALID,
      `${source}: expected a list of policy names or {"name": ..., "params": {...}}: ${why}`,
    );
  }
  return parsed.data;
}

/** Makes every entry's policy; throws NALAR_ERR_CONFIG_INVALID for an unknown name or bad params. */
export function resolvePolicies(
  entries: readonly PolicyEntry[],
  registry: PolicyRegistry = builtInPolicies,
  source = 'NALAR_POLICIES',
): InstalledPolicy[] {
  return entries.map((entry) => {
    const { name, params } = typeof entry === 'string' ? { name: entry, params: undefined } : entry;
    const module = Object.hasOwn(registry, name) ? registry[name] : undefined;
    if (!module) {
      const known = Object.keys(registry);
      throw new NalarError(
        ErrorCode.CONFIG_INVALID,
        `${source}: unknown policy '${name}'; known: ${known.length ? known.join(', ') : 'none (no built-in policy is registered)'}`,
      );
    }
    try {
      return { name, params, policy: module.create(params) };
    } catch (err) {
      if (isNalarError(err)) throw err;
      throw new NalarError(ErrorCode.CONFIG_INVALID, `${source}: policy '${name}': ${errorMessage(err)}`);
    }
  });
}
