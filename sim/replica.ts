/**
 * One simulated replica: an OpenAI-compatible HTTP server (fastify) in front of an {@link Engine}.
 *
 * Routes: `POST /v1/chat/completions` (JSON or SSE stream), `GET /v1/models`, `GET /health`, `GET /metrics`.
 * Errors use OpenAI's body shape `{ error: { message, type, param, code } }` and status codes. Injected
 * faults (errors, drops, hangs, outages) are drawn from a seeded generator in arrival order, so a run with
 * the same seed and traffic sees the same faults, while a retried request may succeed.
 */
import http from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { realClock, type Clock, type Timer } from '../common/clock';
import { Engine, type EngineRejection, type EngineResult, type SubmitOutcome } from './engine';
import { ReplicaMetrics } from './metrics';
import { replicaProfileSchema, type ReplicaProfile, type ReplicaSettings } from './profile';
import { chatCompletionRequest, renderPrompt, type ChatCompletionRequest } from './request-schema';
import { generateJson, generateProse, pieces, Prng, seedFrom } from './text';
import { planToolCalls, ToolSchemaError } from './tool-calls';

/**
 * What a replica does with a new request: `serving` answers it; `loading` (a model is being loaded, after
 * `add` or `reassign`) answers 503 `model_loading`; `draining` (being removed or reassigned: the requests it
 * holds finish) answers 503 `replica_draining`, which a client retries on another replica.
 */
export type ReplicaState = 'serving' | 'loading' | 'draining';

export interface ReplicaOptions {
  profile: ReplicaProfile;
  /** Position in the pool; part of the fault seed. */
  index: number;
  /** Real ms per model ms. */
  timeScale: number;
  seed: number;
  /**
   * Time source of the engine and of scheduled outages; tests inject a `ManualClock` and step it, so model
   * times do not depend on how fast the machine is. @default realClock
   */
  clock?: Clock;
}

type FaultKind = '500' | '429' | 'drop' | 'timeout';

interface OpenAiError {
  status: number;
  type: string;
  message: string;
  param?: string | null;
  code?: string | null;
  /** Send the profile's Retry-After (429s always; 503 queue timeouts). */
  retryAfter?: boolean;
}

/**
 * The OpenAI error of a request the engine failed under overload (README "Overload"): the codes are the
 * stable part, which activities/llm/errors.ts reads.
 */
function rejectionError(r: EngineRejection, profile: ReplicaProfile): OpenAiError {
  const waited = `after ${round(r.waitedMs)} model ms`;
  switch (r.reason) {
    case 'kv_oom':
      return {
        status: 503,
        type: 'server_error',
        code: 'kv_cache_exhausted',
        message: `Out of KV cache memory: no KV blocks freed for this request ${waited} (kvWaitTimeoutMs ${profile.kvWaitTimeoutMs}) while the cache was full. The server is overloaded.`,
      };
    case 'queue_timeout':
      return {
        status: 503,
        type: 'server_error',
        code: 'queue_timeout',
        retryAfter: true,
        message: `Request timed out in the waiting queue ${waited} (queueTimeoutMs ${profile.queueTimeoutMs}): the server is overloaded. Retry later.`,
      };
    case 'deadline':
      return {
        status: 408,
        type: 'timeout_error',
        code: 'deadline_exceeded',
        message: `Request deadline exceeded ${waited} (metadata.sim_deadline_ms)${r.running ? ': aborted while running' : ' while waiting for a batch slot'}.`,
      };
  }
}

/** vLLM's context-length message, with OpenAI's code. */
function contextLengthError(limit: number, prompt: number, completion: number): OpenAiError {
  return {
    status: 400,
    type: 'invalid_request_error',
    param: 'messages',
    code: 'context_length_exceeded',
    message:
      `This model's maximum context length is ${limit} tokens. However, you requested ${prompt + completion} ` +
      `tokens (${prompt} in the messages, ${completion} in the completion). Please reduce the length of the ` +
      'messages or completion.',
  };
}

function errorBody(e: OpenAiError): {
  error: { message: string; type: string; param: string | null; code: string | null };
} {
  return { error: { message: e.message, type: e.type, param: e.param ?? null, code: e.code ?? null } };
}

interface PlannedOutput {
  /** Output pieces (pseudo-tokens); their concatenation is the reply text, or the tool calls' arguments. */
  tokens: string[];
  finishReason: 'stop' | 'length' | 'tool_calls';
  /**
   * Set for a tool-call reply: each call with the index of its first token in `tokens` (its arguments are
   * the pieces up to the next call's start), so streaming can announce each call before its arguments.
   */
  toolCalls?: { id: string; name: string; start: number }[];
}

/** The `tool_calls` of a reply whose arguments are `tokens` (possibly cut short by max_tokens). */
function toolCallsOf(
  output: PlannedOutput,
): { id: string; type: 'function'; function: { name: string; arguments: string } }[] {
  const calls = output.toolCalls ?? [];
  return calls.map((c, i) => ({
    id: c.id,
    type: 'function',
    function: {
      name: c.name,
      arguments: output.tokens.slice(c.start, calls[i + 1]?.start ?? output.tokens.length).join(''),
    },
  }));
}

/** Hashes of the prompt's full KV blocks, each chained over everything before it. */
export function blockChain(promptPieces: readonly string[], blockSize: number): number[] {
  const chain: number[] = [];
  let prev = 0;
  for (let end = blockSize; end <= promptPieces.length; end += blockSize) {
    prev = seedFrom(prev, promptPieces.slice(end - blockSize, end).join(''));
    chain.push(prev);
  }
  return chain;
}

export class Replica {
  private currentProfile: ReplicaProfile;
  /** Replaced when a reassignment brings new settings (see {@link load}); read it through {@link engine}. */
  private currentEngine: Engine;
  /** Seed of the engine's slowdown and stall episodes, kept for the engine a reassignment rebuilds. */
  private readonly episodesSeed: number;
  /** Busy model ms of the engines replaced by reassignments, so {@link busyMs} stays cumulative. */
  private retiredBusyMs = 0;
  readonly metrics: ReplicaMetrics;
  readonly app: FastifyInstance;
  private readonly httpServer: http.Server;
  private readonly faults: Prng;
  private readonly seed: number;
  private readonly clock: Clock;
  private readonly timeScale: number;
  private failFirstLeft: number;
  private stateNow: ReplicaState = 'serving';
  /** Chat requests whose response has not closed yet (waiting, running, or being answered). */
  private inFlight = 0;
  private readonly drainWaiters: (() => void)[] = [];
  /** The drain's deadline (profile `drainTimeoutMs`), while a drain waits. */
  private drainTimer: Timer | undefined;
  /**
   * How to answer each chat request still held (in the engine, or hung by a fault) with 503
   * `replica_draining`, by request serial: what the drain deadline calls. Removed when its response closes.
   */
  private readonly held = new Map<number, () => void>();
  private chatSerial = 0;
  /** The model load under way: its timer, and what ends the wait of {@link load} (on close too). */
  private loading: { timer: Timer; done: () => void } | undefined;
  private requestCounter = 0;
  private listenAddress: { host: string; port: number } | undefined;
  /** Outages not yet begun, and the end of the one under way: cancelled on close. */
  private readonly outageTimers: Timer[] = [];
  private closed = false;
  private closing: Promise<void> | undefined;
  /** False while an outage has the replica's port closed. */
  up = true;

  constructor(options: ReplicaOptions) {
    this.currentProfile = options.profile;
    this.seed = options.seed;
    this.clock = options.clock ?? realClock;
    this.timeScale = options.timeScale;
    this.faults = new Prng(seedFrom(options.seed, 'faults', options.index));
    this.failFirstLeft = this.profile.faults.failFirst?.count ?? 0;
    this.episodesSeed = seedFrom(options.seed, 'episodes', options.index);
    this.metrics = new ReplicaMetrics(
      this.profile.model,
      () => this.engine,
      () => this.busyMs,
    );
    this.currentEngine = this.newEngine();
    this.httpServer = http.createServer();
    this.app = Fastify({
      bodyLimit: 64 * 1024 * 1024,
      serverFactory: (handler) => this.httpServer.on('request', handler),
    });
    this.routes();
  }

  /** Starts listening; outages in the profile are scheduled from now. */
  async listen(host: string, port: number): Promise<void> {
    await this.app.ready();
    this.listenAddress = { host, port };
    await this.listenNow();
    for (const o of this.profile.faults.outages) {
      this.outageTimers.push(this.clock.setTimer(() => void this.outage(o.forMs), o.atMs));
    }
  }

  /** Its profile; `model` (and the engine settings, when given) change when the replica is reassigned. */
  get profile(): ReplicaProfile {
    return this.currentProfile;
  }

  /** Its engine: batching, KV cache and waiting queue, built from {@link profile}. */
  get engine(): Engine {
    return this.currentEngine;
  }

  private newEngine(): Engine {
    return new Engine({
      profile: this.profile,
      clock: this.clock,
      timeScale: this.timeScale,
      seed: this.episodesSeed,
      observer: this.metrics,
    });
  }

  /** Whether it serves, loads a model or drains (see {@link ReplicaState}). */
  get state(): ReplicaState {
    return this.stateNow;
  }

  /**
   * Stops admitting requests (new ones get 503 `replica_draining`) and resolves once every request it
   * had accepted has been answered: none is lost. Requests still held after the profile's `drainTimeoutMs`
   * (model ms) are answered 503 `replica_draining` then, so the drain always ends. The replica stays
   * draining until {@link load} or {@link close}.
   */
  drain(): Promise<void> {
    this.stateNow = 'draining';
    this.drainTimer ??= this.clock.setTimer(() => this.drainDeadline(), this.profile.drainTimeoutMs * this.timeScale);
    return new Promise((resolve) => {
      this.drainWaiters.push(resolve);
      this.checkDrained();
    });
  }

  /** The drain's deadline passed: every request still held is answered (its close ends the drain). */
  private drainDeadline(): void {
    this.drainTimer = undefined;
    if (this.stateNow !== 'draining') return;
    for (const answer of [...this.held.values()]) answer();
  }

  /** The 503 of a request refused, or dropped at the drain deadline, because the replica drains. */
  private drainingError(atDeadline: boolean): OpenAiError {
    const name = this.profile.name;
    return {
      status: 503,
      type: 'server_error',
      code: 'replica_draining',
      message: atDeadline
        ? `Replica ${name} was drained past its deadline (drainTimeoutMs ${this.profile.drainTimeoutMs} model ms) before this request finished: send it to another replica.`
        : `Replica ${name} is draining (being removed or reassigned): send the request to another replica.`,
    };
  }

  /**
   * Loads `model` (as a restarted engine would): answers 503 `model_loading` for `modelLoadMs` model ms (×
   * the time scale on its clock), with the KV/prefix cache emptied and the metrics restarted under the new
   * model name; then serves it. With `settings` (a reassignment to another deployment), the profile takes
   * them and the engine is rebuilt from it, as a real engine restarted with that deployment's arguments;
   * the name stays. Resolves when it serves, or when the replica is closed first. Call it on an idle
   * replica (new, or after {@link drain}): requests still in the engine are aborted.
   */
  async load(model: string, modelLoadMs: number, settings?: ReplicaSettings): Promise<void> {
    this.loading?.timer.cancel();
    this.loading?.done();
    this.stateNow = 'loading';
    this.engine.reset('model reload');
    if (settings !== undefined) {
      // Through the profile schema like any profile, so it is whole and valid even when the settings come from
      // code (SimPool.reassign) rather than the admin API's validated body.
      this.currentProfile = replicaProfileSchema.parse({ ...this.currentProfile, ...settings, model });
      this.retiredBusyMs += this.engine.busyMs;
      this.engine.close();
      this.currentEngine = this.newEngine();
      this.metrics.restart(model);
    } else if (model !== this.currentProfile.model) {
      this.currentProfile = { ...this.currentProfile, model };
      this.metrics.restart(model);
    }
    // No delay, no timer: a stepped clock would hold even a 0 ms timer until the test advances it.
    if (modelLoadMs > 0) {
      await new Promise<void>((resolve) => {
        const loading = {
          timer: this.clock.setTimer(() => loading.done(), modelLoadMs * this.timeScale),
          done: resolve,
        };
        this.loading = loading;
      });
      this.loading = undefined;
    }
    if (!this.closed && this.stateNow === 'loading') this.stateNow = 'serving';
  }

  private checkDrained(): void {
    if (this.stateNow !== 'draining' || this.inFlight > 0) return;
    this.drainTimer?.cancel();
    this.drainTimer = undefined;
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  /**
   * Cumulative model ms this replica's engine had a sequence in its batch (see `Engine.busyMs`), over every
   * engine it ran (a reassignment with settings rebuilds it).
   */
  get busyMs(): number {
    return this.retiredBusyMs + this.engine.busyMs;
  }

  /** The port it listens on (after {@link listen}). */
  get port(): number {
    return this.listenAddress?.port ?? 0;
  }

  /**
   * Takes the replica down for `forMs` ms of its clock, counted from now: the port closes, every open
   * connection is dropped, the requests in the engine are lost and the KV cache is emptied; then it
   * listens again.
   */
  async outage(forMs: number): Promise<void> {
    if (!this.up || this.closed) return;
    this.up = false;
    // The end is set before anything is awaited, so a stepped clock can end the outage at once.
    const over = new Promise<void>((resolve) => this.outageTimers.push(this.clock.setTimer(resolve, forMs)));
    await this.closeListener();
    this.engine.reset('replica outage');
    await over;
    if (this.closed) return;
    await this.listenNow();
    this.up = true;
  }

  /** Closes it (idempotent): requests still in it are aborted; a drain or a load under way ends. */
  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  private async closeNow(): Promise<void> {
    this.closed = true;
    for (const t of this.outageTimers) t.cancel();
    this.loading?.timer.cancel();
    this.loading?.done();
    this.drainTimer?.cancel();
    this.engine.reset('replica shutting down');
    this.engine.close();
    // A pool closing while a replica drains ends the drain: its requests were just aborted.
    for (const resolve of this.drainWaiters.splice(0)) resolve();
    if (this.up) await this.closeListener();
    await this.app.close();
  }

  private listenNow(): Promise<void> {
    const { host, port } = this.listenAddress as { host: string; port: number };
    return new Promise((resolve, reject) => {
      this.httpServer.once('error', reject);
      this.httpServer.listen({ host, port }, () => {
        this.httpServer.off('error', reject);
        const address = this.httpServer.address();
        if (address && typeof address === 'object') this.listenAddress = { host, port: address.port };
        resolve();
      });
    });
  }

  private closeListener(): Promise<void> {
    return new Promise((resolve) => {
      this.httpServer.close(() => resolve());
      this.httpServer.closeAllConnections();
    });
  }

  private routes(): void {
    const app = this.app;
    app.setErrorHandler((err: { statusCode?: number; message: string }, _req, reply) => {
      const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
      void reply
        .code(status)
        .send(
          errorBody({ status, type: status < 500 ? 'invalid_request_error' : 'server_error', message: err.message }),
        );
    });
    app.setNotFoundHandler((req, reply) => {
      void reply
        .code(404)
        .send(
          errorBody({ status: 404, type: 'invalid_request_error', message: `Unknown route ${req.method} ${req.url}` }),
        );
    });
    app.get('/health', async (_req, reply) => {
      // Loading or draining, it is not ready for traffic: health checks route elsewhere.
      if (this.stateNow !== 'serving') void reply.code(503);
      const status = this.stateNow === 'serving' ? 'ok' : this.stateNow;
      return { status, replica: this.profile.name, model: this.profile.model };
    });
    app.get('/metrics', async (_req, reply) => {
      void reply.header('content-type', this.metrics.registry.contentType);
      return this.metrics.registry.metrics();
    });
    app.get('/v1/models', async (req, reply) => {
      if (!this.authorized(req, reply)) return reply;
      return {
        object: 'list',
        data: [{ id: this.profile.model, object: 'model', created: 0, owned_by: 'nalar-sim', max_model_len: null }],
      };
    });
    app.post('/v1/chat/completions', (req, reply) => {
      this.inFlight++;
      const serial = ++this.chatSerial;
      reply.raw.once('close', () => {
        this.inFlight--;
        this.held.delete(serial);
        this.checkDrained();
      });
      return this.chatCompletion(req, reply, serial);
    });
  }

  private authorized(req: FastifyRequest, reply: FastifyReply): boolean {
    if (!this.profile.apiKey || req.headers.authorization === `Bearer ${this.profile.apiKey}`) return true;
    void reply.code(401).send(
      errorBody({
        status: 401,
        type: 'invalid_request_error',
        code: 'invalid_api_key',
        message: 'Incorrect API key provided.',
      }),
    );
    return false;
  }

  private sendError(reply: FastifyReply, e: OpenAiError): FastifyReply {
    if (e.status === 429 || e.retryAfter) void reply.header('retry-after', String(this.profile.retryAfterSeconds));
    this.metrics.countError(e.status);
    return reply.code(e.status).send(errorBody(e));
  }

  /**
   * An error on a hijacked (streaming) response: the status and JSON body if nothing was sent yet; once the
   * stream has started, an SSE `data: {"error": …}` event (the openai client throws it as an APIError), then
   * the end of the stream.
   */
  private sendRawError(raw: http.ServerResponse, e: OpenAiError): void {
    this.metrics.countError(e.status);
    if (raw.headersSent) {
      raw.end(`data: ${JSON.stringify(errorBody(e))}\n\n`);
      return;
    }
    raw.writeHead(e.status, {
      'content-type': 'application/json; charset=utf-8',
      ...((e.status === 429 || e.retryAfter) && { 'retry-after': String(this.profile.retryAfterSeconds) }),
    });
    raw.end(JSON.stringify(errorBody(e)));
  }

  private drawFault(): FaultKind | undefined {
    if (this.failFirstLeft > 0 && this.profile.faults.failFirst) {
      this.failFirstLeft--;
      return this.profile.faults.failFirst.kind;
    }
    const f = this.profile.faults;
    if (f.errorRate500 + f.errorRate429 + f.dropRate + f.timeoutRate === 0) return undefined;
    let r = this.faults.next();
    for (const [kind, rate] of [
      ['500', f.errorRate500],
      ['429', f.errorRate429],
      ['drop', f.dropRate],
      ['timeout', f.timeoutRate],
    ] as const) {
      if (r < rate) return kind;
      r -= rate;
    }
    return undefined;
  }

  private planOutput(req: ChatCompletionRequest, prompt: string): PlannedOutput {
    const maxTokens = req.max_completion_tokens ?? req.max_tokens ?? undefined;
    const prng = new Prng(
      seedFrom(this.seed, req.model, prompt, maxTokens ?? '', JSON.stringify(req.response_format ?? null)),
    );
    const cap = (tokens: string[]): PlannedOutput =>
      maxTokens !== undefined && tokens.length > maxTokens
        ? { tokens: tokens.slice(0, maxTokens), finishReason: 'length' }
        : { tokens, finishReason: 'stop' };
    // A generator of its own, so the draws of text replies (and every existing reply) stay as they were.
    const calls = planToolCalls(
      req,
      new Prng(
        seedFrom(
          this.seed,
          'tool_calls',
          req.model,
          prompt,
          JSON.stringify(req.tools ?? null),
          JSON.stringify(req.tool_choice ?? null),
          String(req.parallel_tool_calls ?? true),
        ),
      ),
      this.profile.toolCalls,
    );
    if (calls) {
      const tokens: string[] = [];
      const toolCalls = calls.map((c) => {
        const start = tokens.length;
        tokens.push(...pieces(c.arguments));
        return { id: c.id, name: c.name, start };
      });
      // Cut by max_tokens like text (OpenAI then answers 'length' with the arguments cut short); a call
      // that lost all its tokens is dropped.
      const out = cap(tokens);
      return {
        tokens: out.tokens,
        finishReason: out.finishReason === 'length' ? 'length' : 'tool_calls',
        toolCalls: toolCalls.filter((c) => c.start < out.tokens.length),
      };
    }
    const format = req.response_format;
    if (format?.type === 'json_schema')
      return cap(pieces(JSON.stringify(generateJson(format.json_schema.schema, prng))));
    if (format?.type === 'json_object') {
      return cap(pieces(JSON.stringify({ answer: generateProse(prng, 20).join('').trim() })));
    }
    const fixed = req.metadata?.sim_output_tokens;
    let n: number;
    if (fixed !== undefined && /^\d+$/.test(fixed) && Number(fixed) > 0) n = Number(fixed);
    else if (req.ignore_eos && maxTokens !== undefined) n = maxTokens;
    else {
      const o = this.profile.outputTokens;
      n = Math.max(1, Math.min(o.max, Math.round(prng.lognormal(o.median, o.sigma))));
    }
    return cap(generateProse(prng, n));
  }

  private async chatCompletion(request: FastifyRequest, reply: FastifyReply, serial: number): Promise<FastifyReply> {
    if (!this.authorized(request, reply)) return reply;
    if (this.stateNow === 'draining') return this.sendError(reply, this.drainingError(false));
    if (this.stateNow === 'loading') {
      return this.sendError(reply, {
        status: 503,
        type: 'server_error',
        code: 'model_loading',
        retryAfter: true,
        message: `Replica ${this.profile.name} is loading model ${this.profile.model}. Retry later.`,
      });
    }
    const parsed = chatCompletionRequest.safeParse(request.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const param = issue?.path.join('.') || null;
      return this.sendError(reply, {
        status: 400,
        type: 'invalid_request_error',
        param,
        message: `Invalid request: ${param ? `${param}: ` : ''}${issue?.message ?? 'bad body'}`,
      });
    }
    const req = parsed.data;
    if (req.model !== this.profile.model) {
      return this.sendError(reply, {
        status: 404,
        type: 'invalid_request_error',
        param: 'model',
        code: 'model_not_found',
        message: `The model \`${req.model}\` does not exist.`,
      });
    }
    const fault = this.drawFault();
    if (fault === '500') {
      return this.sendError(reply, { status: 500, type: 'server_error', message: 'Simulated internal server error.' });
    }
    if (fault === '429') {
      return this.sendError(reply, {
        status: 429,
        type: 'rate_limit_error',
        code: 'rate_limit_exceeded',
        message: 'Simulated rate limit.',
      });
    }
    if (fault === 'drop' || fault === 'timeout') {
      this.metrics.countError(fault);
      reply.hijack();
      // A drop closes the connection with no answer; a timeout accepts and never answers (unless a drain's
      // deadline passes: then it is answered like any request still held).
      if (fault === 'drop') request.raw.socket.destroy();
      else this.held.set(serial, () => this.sendRawError(reply.raw, this.drainingError(true)));
      return reply;
    }

    const priority = req.priority ?? 0;
    if (priority !== 0 && this.profile.schedulingPolicy !== 'priority') {
      // vLLM's answer when priority scheduling is not enabled.
      return this.sendError(reply, {
        status: 400,
        type: 'invalid_request_error',
        param: 'priority',
        message: `Got priority ${priority} but Priority scheduling is not enabled.`,
      });
    }
    const deadline = req.metadata?.sim_deadline_ms;
    if (deadline !== undefined && !(/^\d+(\.\d+)?$/.test(deadline) && Number(deadline) > 0)) {
      return this.sendError(reply, {
        status: 400,
        type: 'invalid_request_error',
        param: 'metadata.sim_deadline_ms',
        message: `Invalid request: metadata.sim_deadline_ms must be a positive number of model ms, got "${deadline}"`,
      });
    }

    let prompt: string;
    let output: PlannedOutput;
    try {
      prompt = renderPrompt(req);
      output = this.planOutput(req, prompt);
    } catch (err) {
      return this.sendError(reply, {
        status: 400,
        type: 'invalid_request_error',
        param: err instanceof ToolSchemaError ? err.param : 'response_format',
        message: (err as Error).message,
      });
    }
    const promptPieces = pieces(prompt);
    const maxModelLen = this.profile.maxModelLen;
    if (maxModelLen !== undefined) {
      // As vLLM: prompt + max_tokens must fit the context; without max_tokens the output stops at its end.
      const maxTokens = req.max_completion_tokens ?? req.max_tokens ?? undefined;
      const room = maxModelLen - promptPieces.length;
      if (maxTokens !== undefined ? maxTokens > room : room < 1) {
        this.metrics.onRejected('context_length');
        return this.sendError(reply, contextLengthError(maxModelLen, promptPieces.length, maxTokens ?? 0));
      }
      if (output.tokens.length > room) output = cutOutput(output, room);
    }
    const id = `chatcmpl-${(seedFrom(this.seed, prompt, ++this.requestCounter) >>> 0).toString(16)}${this.requestCounter.toString(16)}`;
    const created = Math.floor(Date.now() / 1000);
    const base = {
      promptTokens: promptPieces.length,
      blockChain: blockChain(promptPieces, this.profile.blockSize),
      outputTokens: Math.max(1, output.tokens.length),
      ...(deadline !== undefined && { deadlineMs: Number(deadline) }),
      priority,
    };
    const usage = (cached: number) => ({
      prompt_tokens: promptPieces.length,
      completion_tokens: output.tokens.length,
      total_tokens: promptPieces.length + output.tokens.length,
      prompt_tokens_details: { cached_tokens: cached },
    });
    const timings = (r: EngineResult) => ({
      replica: this.profile.name,
      queue_ms: round(r.queueMs),
      ttft_ms: round(r.ttftMs),
      total_ms: round(r.totalMs),
    });

    if (!req.stream) {
      return new Promise<FastifyReply>((resolve) => {
        const submitted = this.engine.submit({
          ...base,
          onFinish: (r) => {
            this.metrics.countSuccess(output.finishReason);
            resolve(
              reply.send({
                id,
                object: 'chat.completion',
                created,
                model: req.model,
                choices: [
                  {
                    index: 0,
                    message: output.toolCalls
                      ? { role: 'assistant', content: null, refusal: null, tool_calls: toolCallsOf(output) }
                      : { role: 'assistant', content: output.tokens.join(''), refusal: null },
                    logprobs: null,
                    finish_reason: output.finishReason,
                  },
                ],
                usage: usage(r.cachedTokens),
                nalar_sim: timings(r),
              }),
            );
          },
          onAbort: () => {
            request.raw.socket.destroy();
            resolve(reply);
          },
          onReject: (r) => resolve(this.sendError(reply, rejectionError(r, this.profile))),
        });
        if (!submitted.accepted) {
          resolve(this.refused(reply, submitted, promptPieces.length, base.outputTokens));
          return;
        }
        // The response's 'close' before it finished means the client went away: free the batch slot.
        reply.raw.on('close', () => {
          if (!reply.raw.writableFinished) submitted.cancel();
        });
        this.held.set(serial, () => {
          if (reply.sent) return; // answered already; its close is on the way
          submitted.cancel();
          resolve(this.sendError(reply, this.drainingError(true)));
        });
      });
    }

    const includeUsage = req.stream_options?.include_usage === true;
    const raw = reply.raw;
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): string =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: req.model, choices, ...extra })}\n\n`;
    let sent = 0;
    let started = false;
    const start = (): void => {
      if (started) return;
      started = true;
      raw.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      const first = { role: 'assistant', content: output.toolCalls ? null : '' };
      raw.write(chunk([{ index: 0, delta: first, logprobs: null, finish_reason: null }]));
    };
    // As OpenAI streams tool calls: each call opens with its id and name (arguments ''), then its argument
    // pieces follow as they are decoded, each naming only the call's index.
    const callStarts = new Map((output.toolCalls ?? []).map((c, index) => [c.start, { ...c, index }]));
    let callIndex = -1; // the call whose arguments are being streamed (tokens are sent in order)
    const deltaAt = (i: number): string => {
      const piece = output.tokens[i];
      if (!output.toolCalls)
        return chunk([{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }]);
      let data = '';
      const opens = callStarts.get(i);
      if (opens) {
        callIndex = opens.index;
        const header = {
          index: callIndex,
          id: opens.id,
          type: 'function',
          function: { name: opens.name, arguments: '' },
        };
        data += chunk([{ index: 0, delta: { tool_calls: [header] }, logprobs: null, finish_reason: null }]);
      }
      const args = { index: callIndex, function: { arguments: piece } };
      return data + chunk([{ index: 0, delta: { tool_calls: [args] }, logprobs: null, finish_reason: null }]);
    };
    const submitted = this.engine.submit({
      ...base,
      onTokens: (count) => {
        start();
        let data = '';
        const end = Math.min(sent + count, output.tokens.length);
        for (; sent < end; sent++) data += deltaAt(sent);
        if (data) raw.write(data);
      },
      onFinish: (r) => {
        start();
        this.metrics.countSuccess(output.finishReason);
        let data = chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: output.finishReason }]);
        if (includeUsage) data += chunk([], { usage: usage(r.cachedTokens), nalar_sim: timings(r) });
        raw.end(data + 'data: [DONE]\n\n');
      },
      onAbort: () => raw.destroy(),
      onReject: (r) => this.sendRawError(raw, rejectionError(r, this.profile)),
    });
    if (!submitted.accepted) return this.refused(reply, submitted, promptPieces.length, base.outputTokens);
    reply.hijack();
    raw.on('close', () => {
      if (!raw.writableFinished) submitted.cancel();
    });
    this.held.set(serial, () => {
      if (raw.writableEnded) return;
      submitted.cancel();
      this.sendRawError(raw, this.drainingError(true));
    });
    return reply;
  }

  /** The answer to a request the engine refused at submit. */
  private refused(
    reply: FastifyReply,
    outcome: Exclude<SubmitOutcome, { accepted: true }>,
    promptTokens: number,
    outputTokens: number,
  ): FastifyReply {
    if (outcome.reason === 'context_length') {
      return this.sendError(reply, contextLengthError(outcome.limitTokens, promptTokens, outputTokens));
    }
    return this.sendError(reply, {
      status: 429,
      type: 'rate_limit_error',
      code: 'rate_limit_exceeded',
      message: `Server is overloaded: ${this.profile.maxWaiting} requests already waiting. Retry later.`,
    });
  }
}

/** `output` cut to its first `n` tokens with finish_reason 'length' (tool calls that lost every token dropped). */
function cutOutput(output: PlannedOutput, n: number): PlannedOutput {
  return {
    tokens: output.tokens.slice(0, n),
    finishReason: 'length',
    ...(output.toolCalls && { toolCalls: output.toolCalls.filter((c) => c.start < n) }),
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
