/** The subset of the OpenAI chat-completions request the simulator understands, validated with zod. */
import { z } from 'zod';
import { maxAbsPriority } from './waiting-queue';

const textPart = z.object({ type: z.literal('text'), text: z.string() });

/** A tool call the assistant made earlier in the conversation (sent back with its results). */
const assistantToolCall = z.object({
  id: z.string().min(1),
  type: z.literal('function'),
  function: z.object({ name: z.string().min(1), arguments: z.string() }),
});

const message = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
    content: z.union([z.string(), z.array(textPart), z.null()]).optional(),
    name: z.string().optional(),
    tool_call_id: z.string().optional(),
    tool_calls: z.array(assistantToolCall).nullish(),
  })
  .superRefine((m, ctx) => {
    // OpenAI's own checks: a tool result names the call it answers; only assistants carry tool calls.
    if (m.role === 'tool' && !m.tool_call_id) {
      ctx.addIssue({ code: 'custom', path: ['tool_call_id'], message: "a 'tool' message needs tool_call_id" });
    }
    if (m.tool_calls && m.role !== 'assistant') {
      ctx.addIssue({ code: 'custom', path: ['tool_calls'], message: "only 'assistant' messages carry tool_calls" });
    }
  });

/** A function the model may call: its name and the JSON Schema of its arguments. */
const functionTool = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'a function name is 1-64 letters, digits, underscores or dashes'),
    description: z.string().optional(),
    /** JSON Schema of the arguments; absent means no arguments (`{}`). */
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullish(),
  }),
});

/** The function tools of a request (OpenAI's `tools`). */
export type FunctionTool = z.infer<typeof functionTool>;

const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string().min(1) }) }),
]);

/** OpenAI's `tool_choice`: 'none' | 'auto' | 'required' | one named function. */
export type ToolChoice = z.infer<typeof toolChoice>;

export const chatCompletionRequest = z
  .object({
    model: z.string().min(1),
    messages: z.array(message).min(1),
    max_tokens: z.number().int().positive().nullish(),
    max_completion_tokens: z.number().int().positive().nullish(),
    stream: z.boolean().nullish(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
    n: z.literal(1).nullish(),
    response_format: z
      .discriminatedUnion('type', [
        z.object({ type: z.literal('text') }),
        z.object({ type: z.literal('json_object') }),
        z.object({
          type: z.literal('json_schema'),
          json_schema: z.object({
            name: z.string().min(1),
            schema: z.record(z.string(), z.unknown()),
            strict: z.boolean().nullish(),
            description: z.string().optional(),
          }),
        }),
      ])
      .nullish(),
    /** OpenAI's metadata map (strings only). `sim_output_tokens` fixes the output length. */
    metadata: z.record(z.string(), z.string()).nullish(),
    /** vLLM extension: generate exactly max_tokens tokens. */
    ignore_eos: z.boolean().nullish(),
    user: z.string().nullish(),
    temperature: z.number().nullish(),
    top_p: z.number().nullish(),
    seed: z.number().int().nullish(),
    tools: z.array(functionTool).nullish(),
    /** @default 'auto' with tools, 'none' without (OpenAI's defaults) */
    tool_choice: toolChoice.nullish(),
    /** @default true */
    parallel_tool_calls: z.boolean().nullish(),
    /**
     * vLLM's scheduling priority (lower first) under `--scheduling-policy priority` (the profile's
     * `schedulingPolicy`); under 'fcfs' only 0 is accepted. @default 0
     */
    priority: z.number().int().min(-maxAbsPriority).max(maxAbsPriority).nullish(),
  })
  .superRefine((r, ctx) => {
    checkToolResults(r.messages, ctx);
    // The 400s OpenAI answers for tool settings that cannot be honoured.
    const names = (r.tools ?? []).map((t) => t.function.name);
    const seen = new Set<string>();
    names.forEach((n, i) => {
      if (seen.has(n))
        ctx.addIssue({
          code: 'custom',
          path: ['tools', i, 'function', 'name'],
          message: `duplicate function name '${n}'`,
        });
      seen.add(n);
    });
    if (r.tool_choice != null && r.tool_choice !== 'none' && names.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['tool_choice'],
        message: 'tool_choice is only allowed when tools are specified',
      });
    }
    if (typeof r.tool_choice === 'object' && r.tool_choice !== null && !seen.has(r.tool_choice.function.name)) {
      ctx.addIssue({
        code: 'custom',
        path: ['tool_choice'],
        message: `tool_choice names the function '${r.tool_choice.function.name}', which is not in tools`,
      });
    }
  });

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequest>;

/**
 * OpenAI's conversation rule, checked so an agent loop that breaks it fails here as it would there: every tool
 * call of an assistant message is answered by a `tool` message right after it, and a `tool` message answers a
 * call of the assistant message before it.
 */
function checkToolResults(messages: readonly z.infer<typeof message>[], ctx: z.RefinementCtx): void {
  let open = new Set<string>();
  let openedAt = -1;
  const unanswered = (at: number): void => {
    if (open.size === 0) return;
    ctx.addIssue({
      code: 'custom',
      path: ['messages', at, 'role'],
      message:
        "an assistant message with 'tool_calls' must be followed by tool messages responding to each " +
        `'tool_call_id'; unanswered: ${[...open].join(', ')}`,
    });
  };
  messages.forEach((m, i) => {
    if (m.role === 'tool') {
      if (m.tool_call_id !== undefined && !open.delete(m.tool_call_id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['messages', i, 'tool_call_id'],
          message: `'${m.tool_call_id}' answers no tool call of the preceding assistant message`,
        });
      }
      return;
    }
    unanswered(openedAt);
    open = new Set((m.role === 'assistant' ? (m.tool_calls ?? []) : []).map((c) => c.id));
    openedAt = i;
  });
  unanswered(openedAt);
}

/** Renders the conversation to the text the model sees, the way chat templates do (role headers). */
export function renderPrompt(req: ChatCompletionRequest): string {
  let out = '';
  // Tool definitions go first, as chat templates put them in the system prompt: they cost prompt tokens.
  if (req.tools?.length && req.tool_choice !== 'none') out += `<|tools|>\n${JSON.stringify(req.tools)}\n`;
  for (const m of req.messages) {
    const content = typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text).join('');
    const calls = m.tool_calls?.length ? JSON.stringify(m.tool_calls.map((c) => c.function)) : '';
    const role = m.role === 'tool' ? `tool:${m.tool_call_id ?? ''}` : m.role;
    out += `<|${role}|>\n${content}${calls}\n`;
  }
  return out + '<|assistant|>\n';
}
