/**
 * Input validation of activities: one zod schema per activity, and every problem reported as a
 * non-retryable `NALAR_ERR_INVALID_INPUT` failure, because retrying a call with the same bad input cannot succeed
 * and the workflow should see why at once.
 */
import { type z } from 'zod';
import { ErrorCode, nalarFailure } from './errors';
import { formatIssuePath } from './workflow/input-issues';

/**
 * Parses `input` with `schema`, or throws a non-retryable `ApplicationFailure` of type `NALAR_ERR_INVALID_INPUT`
 * whose message names the activity and every bad field (`searchCorpus: invalid input: query: …`).
 */
export function parseInput<S extends z.ZodType>(activity: string, schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${formatIssuePath(issue.path)}: ${issue.message}`);
  throw nalarFailure(ErrorCode.INVALID_INPUT, `${activity}: invalid input: ${problems.join('; ')}`);
}

/** Throws the same failure as {@link parseInput} for a problem found after schema validation. */
export function invalidInput(activity: string, field: string, message: string): never {
  throw nalarFailure(ErrorCode.INVALID_INPUT, `${activity}: invalid input: ${field}: ${message}`);
}

/**
 * A zod `error` option for a field's type check: "is required" when it is missing, "must be …" otherwise
 * (zod's own message, "expected string, received undefined", reads badly in a workflow failure).
 */
export function expected(what: string): (issue: { input?: unknown }) => string {
  return (issue) => (issue.input === undefined ? 'is required' : `must be ${what}`);
}
