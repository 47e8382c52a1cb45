/**
 * How input problems read, in one place for every side: activities (common/activity-input.ts), workflows
 * (stubs/workflow/input.ts, in the sandbox) and the HTTP gateway. Workflow-side (pure, deterministic, no Node
 * built-ins), so the sandbox may import it; only `import type` from zod.
 */
import type { z } from 'zod';

/** `documents[2].id` from zod's `['documents', 2, 'id']`; `input` for a problem with the whole object. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || 'input';
}

/** One input problem as it travels in a failure's details and an HTTP 400 body (JSON only). */
export interface InputIssue {
  /** The field, as {@link formatIssuePath} writes it. */
  field: string;
  /** zod's issue code, e.g. `invalid_type`. */
  code: string;
  message: string;
}

/**
 * Every issue of a failed parse as `field: message` plus structured {@link InputIssue}s. zod's generic
 * "Invalid input: " prefix is dropped: the field name already says where.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): { lines: string[]; issues: InputIssue[] } {
  const described = issues.map((issue) => ({
    field: formatIssuePath(issue.path),
    code: issue.code,
    message: issue.message.replace(/^Invalid input: /, ''),
  }));
  return { lines: described.map((i) => `${i.field}: ${i.message}`), issues: described };
}
