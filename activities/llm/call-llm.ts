/**
 * The agent activity: one chat completion on the agent's OpenAI-compatible endpoint, streamed with
 * activity heartbeats so a hung model is noticed, with errors translated into typed Temporal failures.
 * A call of a Nalar future first passes the worker's call gate (its local controller), which says when the call
 * goes, to which replica and with which priority; plain activities (the baselines) bind statically.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type OpenAI from 'openai';
import { z } from 'zod';
import { loadConfig, type NalarConfig } from '../../common/config';
import { ErrorCode, nalarFailure } from '../../common/errors';
import { routeHash } from '../../common/route-hash';
import { tokenStream } from '../../state/streams/activity-context';
import {
  currentCallGate,
  currentFuture,
  type CallGate,
  type CallLease,
  type GatedCall,
} from '../../stubs/future-context';
import { toLlmFailure } from './errors';
import { llmDuration, llmRequests, llmTokens } from './metrics';
import { agentReplicas, modelBinding, modelBindingFor, type ModelBinding } from './model-binding';

/** A tool call of the model, as the workflow sees it: `arguments` is the model's JSON text, unparsed. */
const toolCall = z.object({ id: z.string().min(1), name: z.string().min(1), arguments: z.string() });

/**
 * A conversation message. An assistant message that asked for tools carries `toolCalls` (its content may be
 * null); each call is answered by a `tool` message right after it naming the call's id.
 */
const chatMessage = z.union([
  z.object({ role: z.enum(['system', 'developer', 'user']), content: z.string() }),
  z.object({ role: z.literal('assistant'), content: z.string().nullable(), toolCalls: z.array(toolCall).optional() }),
  z.object({ role: z.literal('tool'), toolCallId: z.string().min(1), content: z.string() }),
]);

/** A function the model may call: its arguments are described by a JSON Schema (`parameters`). */
const toolDefinition = z.object({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -'),
  description: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
});

/** One message of a callLlm conversation. */
export type ChatMessage = z.infer<typeof chatMessage>;
/** One tool call asked for by the model. */
export type LlmToolCall = z.infer<typeof toolCall>;
/** A function tool offered to the model. */
export type LlmToolDefinition = z.infer<typeof toolDefinition>;

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
  /** Functions the model may call instead of answering with text. @default none */
  tools: z.array(toolDefinition).min(1).optional(),
  /** Whether and which tool the model must call. @default the endpoint's ('auto' when tools are given) */
  toolChoice: z.union([z.enum(['auto', 'none', 'required']), z.object({ name: z.string().min(1) })]).optional(),
  /** Whether one reply may call several tools. @default the endpoint's (true) */
  parallelToolCalls: z.boolean().optional(),
  /**
   * Scheduling priority at the engine (vLLM's `priority` field: lower first). Sent only to endpoints configured
   * to take it (NALAR_AGENT_MODELS `priority: true`); otherwise ignored. @default none (the engine's 0)
   */
  priority: z.number().int().min(-1_048_576).max(1_048_576).optional(),
  /**
   * The session whose replica serves the call (`hash(session) % n` over the agent's `baseUrls`), for callers
   * without a future that still pin a conversation (a vanilla workflow with an explicit session id).
   * @default the running future's session, else the workflow id
   */
  sessionId: z.string().min(1).max(512).optional(),
});

export type CallLlmInput = z.input<typeof callLlmInput>;

export interface CallLlmResult {
  /** The reply's text ('' when the model only called tools). */
  content: string;
  /** The tools the model asked for, in its order; empty for a text reply. */
  toolCalls: LlmToolCall[];
  /** 'stop', 'length', 'tool_calls', … as the endpoint said. */
  finishReason: string;
  model: string;
  usage: { promptTokens: number; completionTokens: number; cachedTokens: number };
  /** Wall-clock milliseconds measured by the worker. */
  timings: { ttftMs?: number; totalMs: number };
  /** Activity attempt that produced this result (1 = first try). */
  attempt: number;
  /** How the worker's local controller sent it (calls of Nalar futures only). */
  local?: LocalDispatch;
  /**
   * What the serving engine reported about this request, when it reports it (the simulator's `nalar_sim`;
   * real servers send nothing): the replica, and its queue and total time in model milliseconds (× the
   * simulator's time scale = real time). Benchmarks subtract it from latency to get the framework's overhead.
   */
  engine?: EngineReport;
}

/** The local controller's lease of a call: where it sent it, with which priority, after how long a wait. */
export interface LocalDispatch {
  replica: string;
  priority: number;
  /** Real ms the call waited in the local controller. */
  queueMs: number;
}

/** The simulator's own account of one request, in model milliseconds. */
export interface EngineReport {
  replica: string;
  queueMs: number;
  totalMs: number;
}

/** The `nalar_sim` object the simulator adds to replies and to the streamed usage chunk. */
const engineReport = z.object({ replica: z.string(), queue_ms: z.number(), total_ms: z.number() });

/** The engine report of a reply or usage chunk, or undefined when the server sent none (or a malformed one). */
function engineReportOf(body: unknown): EngineReport | undefined {
  if (typeof body !== 'object' || body === null || !('nalar_sim' in body)) return undefined;
  const parsed = engineReport.safeParse(body.nalar_sim);
  return parsed.success
    ? { replica: parsed.data.replica, queueMs: parsed.data.queue_ms, totalMs: parsed.data.total_ms }
    : undefined;
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
  const future = currentFuture();
  const gate = currentCallGate();
  // The session picks the replica (a plain activity of a vanilla workflow: its workflow is the session).
  const routeKey = input.sessionId ?? future?.sessionId ?? ctx.info.workflowExecution?.workflowId;
  let binding: ModelBinding;
  let lease: CallLease | undefined;
  if (gate && future) {
    lease = await acquireLease(gate, gatedCall(input, config, routeKey ?? future.id, future), ctx);
    binding = modelBindingFor(input.agent, config, lease.replica);
  } else {
    binding = modelBinding(input.agent, config, process.env, routeKey);
  }
  try {
    return await send(input, binding, ctx, lease);
  } finally {
    // A release after the one send() made is ignored; this one covers a throw before it.
    lease?.release({ ok: false, errorCode: 'unknown' });
  }
}

/** What the gate needs to know of a call. */
function gatedCall(
  input: z.output<typeof callLlmInput>,
  config: LlmConfig,
  sessionId: string,
  future: NonNullable<ReturnType<typeof currentFuture>>,
): GatedCall {
  const own = config.agentModels[input.agent];
  let chars = 0;
  for (const m of input.messages) chars += m.content?.length ?? 0;
  const first = input.messages[0]?.content;
  return {
    agent: input.agent,
    replicas: agentReplicas(input.agent, config),
    ...(own?.maxInFlight !== undefined && { maxInFlight: own.maxInFlight }),
    sessionId,
    workflowId: future.creator,
    futureId: future.id,
    ...(future.priority !== undefined && { priority: future.priority }),
    // About four characters per token: an estimate is enough to weigh a session's move.
    promptTokens: Math.ceil(chars / 4),
    ...(first && { prefixHash: routeHash(first).toString(16) }),
  };
}

/** Waits for the gate's lease, heartbeating so the activity's heartbeat timeout does not fire while it waits. */
async function acquireLease(gate: CallGate, call: GatedCall, ctx: Context): Promise<CallLease> {
  const beat = setInterval(() => ctx.heartbeat({ waiting: true }), heartbeatEveryMs);
  try {
    return await gate.acquire(call, ctx.cancellationSignal);
  } finally {
    clearInterval(beat);
  }
}

/** Failures that say the replica is not serving (counted against its health by the local controller). */
const replicaDown = new Set<string>([ErrorCode.LLM_SERVER_ERROR, ErrorCode.LLM_UNAVAILABLE]);

async function send(
  input: z.output<typeof callLlmInput>,
  binding: ModelBinding,
  ctx: Context,
  lease: CallLease | undefined,
): Promise<CallLlmResult> {
  const priority = input.priority ?? lease?.priority;
  const request = {
    model: binding.model,
    messages: input.messages.map(toOpenAiMessage),
    ...(input.tools && {
      tools: input.tools.map((t) => ({
        type: 'function' as const,
        function: {
          name: t.name,
          ...(t.description !== undefined && { description: t.description }),
          ...(t.parameters !== undefined && { parameters: t.parameters }),
        },
      })),
    }),
    ...(input.toolChoice !== undefined && {
      tool_choice:
        typeof input.toolChoice === 'string'
          ? input.toolChoice
          : { type: 'function' as const, function: { name: input.toolChoice.name } },
    }),
    ...(input.parallelToolCalls !== undefined && { parallel_tool_calls: input.parallelToolCalls }),
    // A vLLM extension of the OpenAI body; the openai client passes unknown fields through.
    ...(priority !== undefined && binding.acceptsPriority && { priority }),
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
    lease?.release({
      ok: true,
      promptTokens: result.usage.promptTokens,
      cachedTokens: result.usage.cachedTokens,
      ...(result.timings.ttftMs !== undefined && { ttftMs: result.timings.ttftMs }),
    });
    return {
      ...result,
      model: binding.model,
      timings: { ...result.timings, totalMs },
      attempt: ctx.info.attempt,
      ...(lease && { local: { replica: lease.replica, priority: lease.priority, queueMs: lease.queueMs } }),
    };
  } catch (err) {
    const failure =
      err instanceof ApplicationFailure ? err : toLlmFailure(err, { agent: input.agent, model: binding.model });
    llmRequests.inc({ agent: input.agent, outcome: failure.type ?? 'unknown' });
    lease?.release({
      ok: false,
      errorCode: failure.type ?? 'unknown',
      // The caller's cancellation says nothing about the replica.
      replicaUnavailable: !ctx.cancellationSignal.aborted && replicaDown.has(failure.type ?? ''),
    });
    throw failure;
  }
}

type Request = OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;

function toOpenAiMessage(message: ChatMessage): OpenAI.Chat.ChatCompletionMessageParam {
  switch (message.role) {
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
    case 'assistant':
      return message.toolCalls?.length
        ? {
            role: 'assistant',
            content: message.content,
            tool_calls: message.toolCalls.map((c) => ({
              id: c.id,
              type: 'function' as const,
              function: { name: c.name, arguments: c.arguments },
            })),
          }
        : { role: 'assistant', content: message.content ?? '' };
    default:
      return { role: message.role, content: message.content };
  }
}
type Partial = Omit<CallLlmResult, 'model' | 'attempt' | 'timings'> & { timings: { ttftMs?: number } };

async function complete(client: OpenAI, request: Omit<Request, 'stream'>, ctx: Context): Promise<Partial> {
  const res = await client.chat.completions.create({ ...request, stream: false }, { signal: ctx.cancellationSignal });
  const choice = res.choices[0];
  return {
    content: choice?.message.content ?? '',
    toolCalls: (choice?.message.tool_calls ?? []).flatMap((c) =>
      c.type === 'function' ? [{ id: c.id, name: c.function.name, arguments: c.function.arguments }] : [],
    ),
    finishReason: choice?.finish_reason ?? 'stop',
    usage: {
      promptTokens: res.usage?.prompt_tokens ?? 0,
      completionTokens: res.usage?.completion_tokens ?? 0,
      cachedTokens: res.usage?.prompt_tokens_details?.cached_tokens ?? 0,
    },
    timings: {},
    ...withEngine(engineReportOf(res)),
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
  // OpenAI streams a call's id and name once, then its arguments in pieces, keyed by the call's index.
  const calls = new Map<number, LlmToolCall>();
  let finishReason = 'stop';
  let ttftMs: number | undefined;
  let usage = { promptTokens: 0, completionTokens: 0, cachedTokens: 0 };
  let engine: EngineReport | undefined;
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
    for (const part of choice?.delta?.tool_calls ?? []) {
      ttftMs ??= performance.now() - started;
      chunks++;
      const call = calls.get(part.index) ?? { id: '', name: '', arguments: '' };
      if (part.id) call.id = part.id;
      if (part.function?.name) call.name += part.function.name;
      if (part.function?.arguments) call.arguments += part.function.arguments;
      calls.set(part.index, call);
    }
    if (choice?.finish_reason) finishReason = choice.finish_reason;
    if (chunk.usage) {
      usage = {
        promptTokens: chunk.usage.prompt_tokens,
        completionTokens: chunk.usage.completion_tokens,
        cachedTokens: chunk.usage.prompt_tokens_details?.cached_tokens ?? 0,
      };
      engine = engineReportOf(chunk) ?? engine;
    }
    const now = performance.now();
    if (now - lastBeat >= heartbeatEveryMs) {
      lastBeat = now;
      ctx.heartbeat({ chunks });
    }
  }
  // The tokens leave the worker before the result does, so clients see them before the future completes.
  await tokens?.flush();
  const toolCalls = [...calls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call);
  return { content, toolCalls, finishReason, usage, timings: { ttftMs }, ...withEngine(engine) };
}

/** `{ engine }` when there is a report: an absent key, not `engine: undefined`, in the result's payload. */
function withEngine(engine: EngineReport | undefined): { engine?: EngineReport } {
  return engine ? { engine } : {};
}
