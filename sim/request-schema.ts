/** The subset of the OpenAI chat-completions request the simulator understands, validated with zod. */
import { z } from 'zod';

const textPart = z.object({ type: z.literal('text'), text: z.string() });

const message = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: z.union([z.string(), z.array(textPart), z.null()]).optional(),
  name: z.string().optional(),
  tool_call_id: z.string().optional(),
});

export const chatCompletionRequest = z.object({
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
});

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequest>;

/** Renders the conversation to the text the model sees, the way chat templates do (role headers). */
export function renderPrompt(req: ChatCompletionRequest): string {
  let out = '';
  for (const m of req.messages) {
    const content = typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text).join('');
    out += `<|${m.role}|>\n${content}\n`;
  }
  return out + '<|assistant|>\n';
}
