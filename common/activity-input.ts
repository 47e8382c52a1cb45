/**
 * Input validation of activities: one zod schema per activity, and every problem reported as a
 * non-retryable `NALAR_INVALID_INPUT` failure, because retrying a call with the same bad input cannot succeed
 * and the workflow should see why at once.
 */
import { ApplicationFailure } from '@temporalio/common';
import { type z } from 'zod';

/** The `ApplicationFailure` type of every input the tools reject. */
export const INVALID_INPUT = 'NALAR_INVALID_INPUT';

/** `documents[2].id` from zod's `['documents', 2, 'id']`; `input` for a problem with the whole object. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || 'input';
}

/**
 * Parses `input` with `schema`, or throws `ApplicationFailure.nonRetryable` of type `NALAR_INVALID_INPUT`
 * whose message names the activity and every bad field (`searchCorpus: invalid input: query: …`).
 */
export function parseInput<S extends z.ZodType>(activity: string, schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
  throw ApplicationFailure.nonRetryable(`${activity}: invalid input: ${problems.join('; ')}`, INVALID_INPUT);
}

/** Throws the same failure as {@link parseInput} for a problem found after schema validation. */
export function invalidInput(activity: string, field: string, message: string): never {
  throw ApplicationFailure.nonRetryable(`${activity}: invalid input: ${field}: ${message}`, INVALID_INPUT);
}

/**
 * A zod `error` option for a field's type check: "is required" when it is missing, "must be …" otherwise
 * (zod's own message, "expected string, received undefined", reads badly in a workflow failure).
 */
export function expected(what: string): (issue: { input?: unknown }) => string {
  return (issue) => (issue.input === undefined ? 'is required' : `must be ${what}`);
}

