/**
 * The agent loop of the programming model (workflow side): model → tool calls → model → … → text.
 *
 * Every tool call the model asks for becomes a stub call, so a future: the calls of one reply are all started
 * before any is awaited, so they run in parallel. The loop decides only from recorded data (the model's reply
 * and the tools' results are activity results), so it replays.
 */
import { ApplicationFailure, isCancellation } from '@temporalio/workflow';
import type { z } from 'zod';
import type { ErrorCode } from '../../common/errors';
import type { NalarFuture } from './future';

// Workflow code does not value-import common/: the annotation fails the type check if the code is not registered.
const AGENT_MAX_STEPS: typeof ErrorCode.AGENT_MAX_STEPS = 'NALAR_ERR_AGENT_MAX_STEPS';

/** One tool call asked for by the model; `arguments` is the model's JSON text, unparsed. */
export interface AgentToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** One message of an agent conversation (the shape `callLlm` takes). */
export type AgentMessage =
  | { role: 'system' | 'developer' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; toolCalls?: AgentToolCall[] }
  | { role: 'tool'; toolCallId: string; content: string };

/** What the model answered (a `callLlm` result has these fields): text, or tool calls. */
export interface LlmTurn {
  content: string;
  /** Empty for a text answer. */
  toolCalls: AgentToolCall[];
  finishReason: string;
}

/**
 * A tool the loop may call: a function that starts it (usually a stub method, returning a future), or that
 * function with the zod schema of its arguments, which the loop checks before calling.
 */
export type AgentLoopTool =
  ((args: never) => PromiseLike<unknown>) | { run: (args: never) => PromiseLike<unknown>; input: z.ZodType };

export interface AgentLoopOptions {
  /** One model call on the conversation so far (usually an agent stub method calling `callLlm`). */
  model: (messages: AgentMessage[]) => NalarFuture<LlmTurn> | PromiseLike<LlmTurn>;
  /** The tools by the name the model knows them by. */
  tools: Record<string, AgentLoopTool>;
  /** The conversation to start from (at least one message). */
  messages: AgentMessage[];
  /**
   * The most model calls. If the reply of the last one still asks for tools, the loop fails with a
   * non-retryable `NALAR_ERR_AGENT_MAX_STEPS`. @default 8
   */
  maxSteps?: number;
}

export interface AgentLoopResult {
  /** The model's final text answer. */
  content: string;
  /** The whole conversation: the input messages, every assistant reply and tool result, the final answer. */
  messages: AgentMessage[];
  /** How many model calls were made (1 = answered without tools). */
  steps: number;
}

/** Default of {@link AgentLoopOptions.maxSteps}. */
export const defaultAgentMaxSteps = 8;

/**
 * Runs the agent loop: calls the model; for each tool call of its reply starts the tool at once (all before
 * awaiting any), awaits them, appends each result as a `tool` message (JSON text) and calls the model again,
 * until a reply without tool calls (the answer) or `maxSteps` model calls.
 *
 * What the model got wrong goes back to it as the tool result, as in real agent loops, and does not fail the
 * workflow: an unknown tool name, arguments that are not JSON or do not match the tool's schema, and a tool
 * that failed (`{"error": "…"}`). Cancellation is not swallowed.
 */
export async function agentLoop(options: AgentLoopOptions): Promise<AgentLoopResult> {
  const maxSteps = options.maxSteps ?? defaultAgentMaxSteps;
  const messages = [...options.messages];
  for (let step = 1; ; step++) {
    const turn = await options.model([...messages]);
    if (turn.toolCalls.length === 0) {
      messages.push({ role: 'assistant', content: turn.content });
      return { content: turn.content, messages, steps: step };
    }
    messages.push({ role: 'assistant', content: turn.content === '' ? null : turn.content, toolCalls: turn.toolCalls });
    if (step >= maxSteps) {
      throw ApplicationFailure.create({
        type: AGENT_MAX_STEPS,
        message: `agent loop: the model still asked for tools after ${maxSteps} model calls (maxSteps)`,
        nonRetryable: true,
        details: [{ maxSteps, pendingToolCalls: turn.toolCalls.map((c) => c.name) }],
      });
    }
    // Start every call before awaiting any: parallel calls of one reply run in parallel.
    const started = turn.toolCalls.map((call) => startToolCall(options.tools, call));
    const results = await Promise.all(started.map(settle));
    turn.toolCalls.forEach((call, i) =>
      messages.push({ role: 'tool', toolCallId: call.id, content: results[i] ?? '' }),
    );
  }
}

type Started = { error: string } | { pending: PromiseLike<unknown> };

/** Parses and checks the call's arguments and starts the tool, or says what was wrong with the call. */
export function startToolCall(tools: Record<string, AgentLoopTool>, call: AgentToolCall): Started {
  const tool = Object.prototype.hasOwnProperty.call(tools, call.name) ? tools[call.name] : undefined;
  if (tool === undefined) {
    return { error: `unknown tool '${call.name}'; the tools are: ${Object.keys(tools).join(', ') || 'none'}` };
  }
  let args: unknown;
  try {
    args = JSON.parse(call.arguments === '' ? '{}' : call.arguments);
  } catch (err) {
    return { error: `arguments of ${call.name} are not valid JSON: ${(err as Error).message}` };
  }
  const run = typeof tool === 'function' ? tool : tool.run;
  if (typeof tool !== 'function') {
    // jitless, as withInput parses: no code generated with `new Function` inside the sandbox.
    const checked = tool.input.safeParse(args, { jitless: true });
    if (!checked.success) {
      const issues = checked.error.issues.map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`);
      return { error: `invalid arguments of ${call.name}: ${issues.join('; ')}` };
    }
    args = checked.data;
  }
  try {
    return { pending: run(args as never) };
  } catch (err) {
    return { error: `${call.name} could not be called: ${(err as Error).message}` };
  }
}

/** The tool message content: the result as JSON, or `{"error": …}`. */
async function settle(started: Started): Promise<string> {
  if ('error' in started) return JSON.stringify({ error: started.error });
  try {
    return JSON.stringify((await started.pending) ?? null);
  } catch (err) {
    if (isCancellation(err)) throw err;
    return JSON.stringify({ error: failureMessage(err) });
  }
}

/** The innermost message of a failure chain (an ActivityFailure's cause says what the tool threw). */
function failureMessage(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}
