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

/** Input of `researchWorkflow`. */
export const researchInput = z.object({
  question: text.max(4000),
  sessionId,
  /** The most model calls of the agent loop. @default agentLoop's (8) */
  maxSteps: z.number().int().min(1).max(32).optional(),
  /** `'required'`: every model reply must call tools. @default the researcher's ('required' until a tool answered) */
  toolChoice: z.enum(['auto', 'required']).optional(),
});
export type ResearchInput = z.infer<typeof researchInput>;

/** Input of `sweWorkflow` and its vanilla twin `sweBaselineWorkflow` (docs/workloads/swe.md). */
export const sweInput = z.object({
  task: text.max(4000),
  /** The job's seed: its fan-out, token lengths and which attempts pass follow it. */
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1),
  sessionId,
  /** Subtasks of the first plan. @default drawn from the seed, uniform in 1..4 */
  subtasks: z.number().int().min(1).max(16).optional(),
  /** Re-plans of failed subtasks at most (0 = no recursion). @default 2 */
  maxDepth: z.number().int().min(0).max(8).optional(),
  /** Probability that a developer's attempt passes its tests. @default 0.7 */
  passProbability: z.number().min(0).max(1).optional(),
  /** The job fails with NALAR_ERR_DEADLINE_EXCEEDED when not done after this many ms. @default none */
  deadlineMs: z.number().int().positive().optional(),
  /** Most model calls of a developer's agent loop. @default 4 */
  maxDeveloperSteps: z.number().int().min(1).max(16).optional(),
});
export type SweInput = z.infer<typeof sweInput>;

/** One exchange of a chat session. */
export const chatTurn = z.object({ user: z.string(), assistant: z.string() });
export type ChatTurnRecord = z.infer<typeof chatTurn>;

/** Input of `chatSessionWorkflow` (the gateway's sessions start it with update-with-start). */
export const chatSessionInput = z.object({
  sessionId,
  /** The session ends after this many milliseconds without a message (NALAR_SESSION_IDLE_TIMEOUT). */
  idleTimeoutMs: z.number().int().positive(),
  /** Turns so far: set by the session itself when it continues as new. */
  turns: z.array(chatTurn).optional(),
  /** Continue as new once history has this many events. @default shouldContinueAsNew's (2000) */
  maxHistoryEvents: z.number().int().min(10).optional(),
});
export type ChatSessionInput = z.infer<typeof chatSessionInput>;

/** The argument of a chat session's `message` update: the next user turn. */
export const chatMessageInput = z.object({
  message: text.max(32_000),
  /** Reply length in tokens. @default the model's choice */
  maxTokens: z.number().int().positive().max(8192).optional(),
});
export type ChatMessageInput = z.infer<typeof chatMessageInput>;

/**
 * Input of `routerWorkflow` and its vanilla twin `routerBaselineWorkflow`: one request of the router workload
 * (docs/workloads/router.md). The request travels as numbers: the agents rebuild its prompt from `seed`.
 */
export const routerInput = z.object({
  sessionId,
  /** The request's label in the trace; stands in for the classifier's judgement (the simulator reads no prompt). */
  kind: z.enum(['chat', 'coding']),
  /** Prompt length in tokens; the workload caps the trace's at 4096 (what a small replica holds). */
  promptTokens: z.number().int().min(1).max(32_768),
  /** Reply length in tokens; the workload caps the trace's at 1024. */
  outputTokens: z.number().int().min(1).max(8192),
  /** Seed of the prompt's text. */
  seed: z.number().int(),
  /**
   * Milliseconds the request may take from the workflow's start; past it the workflow fails with
   * `NALAR_ERR_DEADLINE_EXCEEDED`. Each step gets the time left as its schedule-to-close timeout.
   */
  deadlineMs: z.number().int().positive().max(3_600_000),
});
export type RouterInput = z.infer<typeof routerInput>;

/**
 * Input of `analystSessionWorkflow` and its vanilla twin `analystSessionBaselineWorkflow` (the financial-analyst
 * workload; docs/workloads/analyst.md). Defaults: `analystDefaults` in workflows/analyst-session.ts.
 */
export const analystSessionInput = z.object({
  sessionId,
  /** The session ends after this many milliseconds without a message. */
  idleTimeoutMs: z.number().int().positive(),
  /** Tokens of the session's brief at the head of every analyst prompt. @default 4000 */
  contextTokens: z.number().int().min(0).max(64_000).optional(),
  /** Tokens of each specialist's data excerpt. @default 600 */
  dataTokens: z.number().int().min(0).max(16_000).optional(),
  /** A turn not answered this many ms after its message arrived fails with NALAR_ERR_DEADLINE_EXCEEDED. @default 120000 */
  turnDeadlineMs: z.number().int().positive().optional(),
  /** Turns so far: set by the session itself when it continues as new. */
  turns: z.array(chatTurn).optional(),
  /** Continue as new once history has this many events. @default shouldContinueAsNew's (2000) */
  maxHistoryEvents: z.number().int().min(10).optional(),
});
export type AnalystSessionInput = z.infer<typeof analystSessionInput>;

/** The argument of an analyst session's `message` update: the next user turn and its seeded lengths. */
export const analystTurnInput = z.object({
  message: text.max(32_000),
  /** Tokens of the analyst's answer (the workload's heavy tail). @default 200 */
  maxTokens: z.number().int().positive().max(8192).optional(),
  /** Tokens of each specialist's report. @default 120 */
  reportTokens: z.number().int().positive().max(4096).optional(),
});
export type AnalystTurnInput = z.infer<typeof analystTurnInput>;

/**
 * Every workflow type of workflows/index.ts with its input schema: what a gateway validates a request body
 * against before it starts that workflow type (a test checks that the two lists match).
 */
export const workflowInputs = {
  helloAgentWorkflow: helloAgentInput,
  textPipelineWorkflow: textPipelineInput,
  textPipelineVanillaWorkflow: textPipelineInput,
  writeArticleWorkflow: writeArticleInput,
  chatSessionWorkflow: chatSessionInput,
  researchWorkflow: researchInput,
  routerWorkflow: routerInput,
  routerBaselineWorkflow: routerInput,
  sweWorkflow: sweInput,
  sweBaselineWorkflow: sweInput,
  analystSessionWorkflow: analystSessionInput,
  analystSessionBaselineWorkflow: analystSessionInput,
} as const satisfies Record<string, z.ZodType>;

/** The name of a workflow type that has an input schema. */
export type WorkflowWithInput = keyof typeof workflowInputs;
