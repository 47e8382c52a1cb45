/**
 * The agent activity: one chat completion on the agent's OpenAI-compatible endpoint, streamed with
 * activity heartbeats so a hung model is noticed, with errors translated into typed Temporal failures.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type OpenAI from 'openai';
import { z } from 'zod';
import { loadConfig, type NalarConfig } from '../../common/config';
import { ErrorCode, nalarFailure } from '../../common/errors';
import { tokenStream } from '../../state/streams/activity-context';
import { toLlmFailure } from './errors';
import { llmDuration, llmRequests, llmTokens } from './metrics';
import { modelBinding } from './model-binding';

const chatMessage = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant']),
  content: z.string(),
});

export const callLlmInput = z.object({
  /** Agent name: picks the model binding (NALAR_AGENT_MODELS) and labels metrics. */
  agent: z.string().min(1).max(128),
  messages: z.array(chatMessage).min(1),
  maxTokens: z.number().int().positive().optional(),
  /** Structured output: the reply is JSON valid against this schema. */
  jsonSchema: z.object({ name: z.string().min(1), schema: z.record(z.string(), z.unknown()) }).optional(),
  /** Stream tokens (heartbeating as they arrive). @default true */
  stream: z.boolean().optional(),
  /** Forwarded as OpenAI request metadata (strings). */
  metadata: z.record(z.string(), z.string()).optional(),
});

export type CallLlmInput = z.input<typeof callLlmInput>;

export interface CallLlmResult {
  content: string;
  finishReason: string;
  model: string;
  usage: { promptTokens: number; completionTokens: number; cachedTokens: number };
  /** Wall-clock milliseconds measured by the worker. */
  timings: { ttftMs?: number; totalMs: number };
  /** Activity attempt that produced this result (1 = first try). */
  attempt: number;
}

/** Minimum interval between heartbeats while tokens stream in. */
const heartbeatEveryMs = 1000;

/** The settings model calls depend on. */
export type LlmConfig = Pick<NalarConfig, 'llmBaseUrl' | 'llmApiKey' | 'llmModel' | 'llmTimeout' | 'agentModels'>;

/**
 * Model-call activities bound to a configuration (by default the process configuration, read on first
 * use). Workers register the default instance; tests and embedders bind their own.
 */
export function createLlmActivities(config: LlmConfig | (() => LlmConfig) = lazyProcessConfig()) {
  const resolve = typeof config === 'function' ? config : () => config;
  return {
    /** Calls the agent's model once. Retries are Temporal's (see toLlmFailure for what is retryable). */
    callLlm: (input: CallLlmInput) => callLlmWith(resolve(), input),
  };
}

function lazyProcessConfig(): () => LlmConfig {
  let config: LlmConfig | undefined;
  return () => (config ??= loadConfig());
}

/** The agent model call, with the process configuration. */
export const { callLlm } = createLlmActivities();

async function callLlmWith(config: LlmConfig, rawInput: CallLlmInput): Promise<CallLlmResult> {
  const parsed = callLlmInput.safeParse(rawInput);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw nalarFailure(
      ErrorCode.INVALID_INPUT,
      `callLlm: ${issue?.path.join('.') || 'input'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const input = parsed.data;
  const ctx = Context.current();
  const binding = modelBinding(input.agent, config);
  const request = {
    model: binding.model,
    messages: input.messages,
    ...(input.maxTokens !== undefined && { max_tokens: input.maxTokens }),
    ...(input.metadata && { metadata: input.metadata }),
    ...(input.jsonSchema && {
      response_format: {
        type: 'json_schema' as const,
        json_schema: { name: input.jsonSchema.name, schema: input.jsonSchema.schema, strict: true },
      },
    }),
  };
  const started = performance.now();
  try {
    const result =
      input.stream === false
        ? await complete(binding.client, request, ctx)
        : await completeStreaming(binding.client, request, ctx, started);
    const totalMs = performance.now() - started;
    llmRequests.inc({ agent: input.agent, outcome: 'ok' });
    llmDuration.observe({ agent: input.agent }, totalMs / 1000);
    llmTokens.inc({ agent: input.agent, kind: 'prompt' }, result.usage.promptTokens);
    llmTokens.inc({ agent: input.agent, kind: 'cached' }, result.usage.cachedTokens);
    llmTokens.inc({ agent: input.agent, kind: 'completion' }, result.usage.completionTokens);
    return { ...result, model: binding.model, timings: { ...result.timings, totalMs }, attempt: ctx.info.attempt };
  } catch (err) {
    const failure =
      err instanceof ApplicationFailure ? err : toLlmFailure(err, { agent: input.agent, model: binding.model });
    llmRequests.inc({ agent: input.agent, outcome: failure.type ?? 'unknown' });
    throw failure;
  }
}

type Request = OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;
type Partial = Omit<CallLlmResult, 'model' | 'attempt' | 'timings'> & { timings: { ttftMs?: number } };

async function complete(client: OpenAI, request: Omit<Request, 'stream'>, ctx: Context): Promise<Partial> {
  const res = await client.chat.completions.create({ ...request, stream: false }, { signal: ctx.cancellationSignal });
  const choice = res.choices[0];
  return {
    content: choice?.message.content ?? '',
    finishReason: choice?.finish_reason ?? 'stop',
    usage: {
      promptTokens: res.usage?.prompt_tokens ?? 0,
      completionTokens: res.usage?.completion_tokens ?? 0,
      cachedTokens: res.usage?.prompt_tokens_details?.cached_tokens ?? 0,
    },
    timings: {},
  };
}

async function completeStreaming(
  client: OpenAI,
  request: Omit<Request, 'stream'>,
  ctx: Context,
  started: number,
): Promise<Partial> {
  const stream = await client.chat.completions.create(
    { ...request, stream: true, stream_options: { include_usage: true } },
    { signal: ctx.cancellationSignal },
  );
  // Each attempt builds its reply from scratch: output streamed by a failed attempt is never reused. Its
  // tokens also go to the run's SSE clients (a side channel, never history); a retry first says `reset`.
  const tokens = tokenStream();
  let content = '';
  let finishReason = 'stop';
  let ttftMs: number | undefined;
  let usage = { promptTokens: 0, completionTokens: 0, cachedTokens: 0 };
  let lastBeat = 0;
  let chunks = 0;
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    const delta = choice?.delta?.content;
    if (delta) {
      ttftMs ??= performance.now() - started;
      content += delta;
      chunks++;
      tokens?.token(delta);
    }
    if (choice?.finish_reason) finishReason = choice.finish_reason;
    if (chunk.usage) {
      usage = {
        promptTokens: chunk.usage.prompt_tokens,
        completionTokens: chunk.usage.completion_tokens,
        cachedTokens: chunk.usage.prompt_tokens_details?.cached_tokens ?? 0,
      };
    }
    const now = performance.now();
    if (now - lastBeat >= heartbeatEveryMs) {
      lastBeat = now;
      ctx.heartbeat({ chunks });
    }
  }
  // The tokens leave the worker before the result does, so clients see them before the future completes.
  await tokens?.flush();
  return { content, finishReason, usage, timings: { ttftMs } };
}
