/**
 * Validated workflow inputs: `withInput(schema, fn)` makes a workflow check its input against a zod schema
 * before it does anything. Workflow-side. The schema is declared once (workflows/inputs.ts for the reference
 * workflows), so the HTTP gateway can answer 400 from the very same object without importing workflow code.
 */
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import type { z } from 'zod';
import type { ErrorCode } from '../../common/errors';
import { describeIssues } from '../../common/workflow/input-issues';

// Workflow code does not value-import common/errors: the annotation fails the type check if the code is not registered.
const INVALID_INPUT: typeof ErrorCode.INVALID_INPUT = 'NALAR_ERR_INVALID_INPUT';

/** A workflow function made by {@link withInput}; `inputSchema` is the schema it validates with. */
export type ValidatedWorkflow<S extends z.ZodType, R> = ((input: z.input<S>) => Promise<R>) & {
  readonly inputSchema: S;
};

/**
 * Checks `input` against `schema` and returns the parsed value, or throws a non-retryable `ApplicationFailure`
 * of type `NALAR_ERR_INVALID_INPUT` whose message names every bad field (`question: expected string, received
 * undefined`) and whose `details[0]` is `{ workflowType, issues }`. Thrown from workflow code, that failure
 * fails the workflow in its first workflow task (no task retries). Pure: it adds nothing to the history.
 */
export function parseWorkflowInput<S extends z.ZodType>(workflowType: string, schema: S, input: unknown): z.output<S> {
  // jitless: zod would otherwise compile a fast path with `new Function`; the sandbox needs no generated code.
  const parsed = schema.safeParse(input, { jitless: true });
  if (parsed.success) return parsed.data;
  const { lines, issues } = describeIssues(parsed.error.issues);
  throw ApplicationFailure.create({
    type: INVALID_INPUT,
    nonRetryable: true,
    message: `invalid input of workflow ${workflowType}: ${lines.join('; ')}`,
    details: [{ workflowType, issues }],
  });
}

/**
 * Wraps a workflow so that it validates its (single) argument with `schema` first; `fn` receives the parsed
 * value. Pass a named function and export the result under the same name: Temporal registers the export's
 * name, and a client that starts the workflow by function (`client.workflow.start(helloAgentWorkflow, …)`)
 * sends the function's name, which the wrapper copies from `fn`.
 *
 * ```ts
 * export const helloAgentWorkflow = withInput(helloAgentInput, async function helloAgentWorkflow(input) { ... });
 * ```
 *
 * Schemas should only check (no transforms or defaults that change values), so that what a workflow sees is
 * exactly what its history recorded.
 */
export function withInput<S extends z.ZodType, R>(
  schema: S,
  fn: (input: z.output<S>) => Promise<R>,
): ValidatedWorkflow<S, R> {
  const workflow = async (input: z.input<S>): Promise<R> =>
    fn(parseWorkflowInput(workflowInfo().workflowType, schema, input));
  Object.defineProperty(workflow, 'name', { value: fn.name });
  return Object.assign(workflow, { inputSchema: schema });
}
