/**
 * The input schema of every workflow in this folder, declared once. Workflows validate with them
 * (`withInput`, stubs/workflow/input.ts); the HTTP gateway imports this file, and only this file, to answer
 * 400 naming the bad field before it starts anything. So this file imports nothing but zod: no workflow code,
 * no `@temporalio/workflow`.
 *
 * Schemas only check, they do not transform (no `.trim()`, `.default()`, coercion): a workflow must see exactly
 * the input its history recorded. Unknown keys are dropped.
 */
import { z } from 'zod';

/** A string with at least one non-blank character. */
const text = z.string().regex(/\S/, 'must not be blank');

/** Conversation this request belongs to. @default the workflow id */
const sessionId = text.optional();

/** Input of `helloAgentWorkflow`. */
export const helloAgentInput = z.object({ question: text, sessionId });
export type HelloAgentInput = z.infer<typeof helloAgentInput>;

/** Input of `textPipelineWorkflow` and its vanilla twin. */
export const textPipelineInput = z.object({ sentences: z.array(z.string()), sessionId });
export type TextPipelineInput = z.infer<typeof textPipelineInput>;

/** Input of `writeArticleWorkflow`. */
export const writeArticleInput = z.object({ topics: z.array(text).min(1), sessionId });
export type WriteArticleInput = z.infer<typeof writeArticleInput>;

/**
 * Every workflow type of workflows/index.ts with its input schema: what a gateway validates a request body
 * against before it starts that workflow type (a test checks that the two lists match).
 */
export const workflowInputs = {
  helloAgentWorkflow: helloAgentInput,
  textPipelineWorkflow: textPipelineInput,
  textPipelineVanillaWorkflow: textPipelineInput,
  writeArticleWorkflow: writeArticleInput,
} as const satisfies Record<string, z.ZodType>;

/** The name of a workflow type that has an input schema. */
export type WorkflowWithInput = keyof typeof workflowInputs;
