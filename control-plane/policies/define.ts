/**
 * How a built-in policy is declared: a name, one line of description, a zod schema for its params and a
 * factory of its round. Bad params fail here, once, as a CONFIG_INVALID NalarError that names the policy and
 * the field, so every policy file stays the few lines of its idea.
 */
import type { z } from 'zod';
import { ErrorCode, NalarError } from '../../common/errors';
import { formatIssuePath } from '../../common/workflow/input-issues';
import type { Policy } from './api';
import type { PolicyModule } from './index';

/**
 * Validates `params` (absent means `{}`, so every default applies) against `schema`; throws a
 * {@link NalarError} with code CONFIG_INVALID naming `policy` and each bad field (`params.marginMs: ...`).
 */
export function parsePolicyParams<S extends z.ZodType>(policy: string, schema: S, params: unknown): z.output<S> {
  const parsed = schema.safeParse(params ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const field = issue.path.length > 0 ? `params.${formatIssuePath(issue.path)}` : 'params';
    return `${field}: ${issue.message}`;
  });
  throw new NalarError(ErrorCode.CONFIG_INVALID, `policy '${policy}': ${problems.join('; ')}`, {
    details: { policy, issues: problems },
  });
}

/**
 * A {@link PolicyModule} from its parts: `create(params)` validates the params with `schema` (see
 * {@link parsePolicyParams}) and returns a {@link Policy} named `name` whose round is `round(params)`. The
 * factory runs once per installation, so state a policy keeps between rounds (a cool-down) lives in its closure.
 */
export function definePolicy<S extends z.ZodType>(
  name: string,
  description: string,
  schema: S,
  round: (params: z.output<S>) => Policy['decide'],
): PolicyModule {
  return {
    description,
    create: (params) => ({ name, decide: round(parsePolicyParams(name, schema, params)) }),
  };
}
