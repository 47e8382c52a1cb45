/**
 * The HTTP gateway as a Fastify app (not listening: route tests use `app.inject`, server.ts listens).
 *
 * - `POST /v1/workflows/<name>` starts a registered workflow type with a validated input; `?mode=wait`
 *   (default) answers the closed run, or 202 with the running run after the timeout; `async` answers 202 at
 *   once; `stream` hands the started run to the streaming plugin (501 without one).
 * - `GET /v1/runs/<id>`, `POST /v1/runs/<id>/cancel` (and `DELETE /v1/runs/<id>`), `GET /v1/runs?status=&limit=`
 *   (the tenant's recent runs).
 * - `/v1/codec/decode|encode`: the codec-server protocol under the gateway's auth.
 * - `/healthz`, `/readyz` (Temporal reachable), `/metrics`, `/openapi.json`: no auth, they reveal no run.
 *
 * Every refusal is `{ "error": { "code": "NALAR_ERR_…", "message": "…", "details"?: … } }` with the code's HTTP
 * status; nothing a client sends is a 5xx (a Temporal outage is a 503 with a code).
 */
import {
  isGrpcDeadlineError,
  isGrpcServiceError,
  ServiceError,
  WorkflowFailedError,
  type Client,
} from '@temporalio/client';
import { CancelledFailure, TerminatedFailure, TimeoutFailure, type PayloadCodec } from '@temporalio/common';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { register } from 'prom-client';
import type { z } from 'zod';
import { realClock, type Clock } from '../../common/clock';
import { configDefaults, durationMs } from '../../common/config';
import { ErrorCode, errorCodes, errorMessage, isNalarError, NalarError } from '../../common/errors';
import { createLogger, type Logger } from '../../common/log';
import { describeIssues } from '../../common/workflow/input-issues';
import { workflowInputs } from '../../workflows/inputs';
import { applyCodec } from '../codec-server/app';
import { TENANT_MEMO_KEY, type GatewayPlugin, type GatewayRouteDeps, type RouteDoc } from './context';
import { TenantLimits, type LimitRefusal } from './limits';
import {
  gatewayRateLimited,
  gatewayRequests,
  gatewayRequestSeconds,
  gatewayRunsInFlight,
  gatewayRunsStarted,
} from './metrics';
import { openApiDocument, pluginOperation } from './openapi';
import {
  asNotFound,
  describeRun,
  linksOf,
  listRuns,
  listRunsQuery,
  runErrorOf,
  type RunStatus,
  type RunView,
} from './runs';
import { startRun, type StartedRun } from './start-run';
import { publicIdOf, publicRunId, TenantTokens, workflowIdOf } from './tenants';

/** Longest `?timeout=` of wait mode: a client that wants longer polls `GET /v1/runs/<id>`. */
export const maxWaitTimeoutMs = 5 * 60_000;

/** Hands a started run to the streaming side (task of the streams plugin); it writes the response. */
export type StreamRun = (request: FastifyRequest, reply: FastifyReply, started: StartedRun) => Promise<unknown>;

/** Options of {@link buildGatewayApp}. */
export interface GatewayAppOptions {
  /** A Temporal client with the Nalar data converter (`connectNalarClient`). */
  client: Client;
  /** Task queue runs are started on. @default NALAR_TASK_QUEUE's default (nalar) */
  taskQueue?: string;
  /** Workflow types the gateway starts, with their input schemas. @default `workflowInputs` (workflows/inputs.ts) */
  workflows?: Readonly<Record<string, z.ZodType>>;
  /** Bearer token → tenant. @default none: every request is tenant `local` (bind to loopback only) */
  tokens?: Readonly<Record<string, string>>;
  /** Requests per second per tenant. @default NALAR_GATEWAY_RATE's default (50) */
  ratePerSecond?: number;
  /** Token bucket size per tenant. @default NALAR_GATEWAY_BURST's default (100) */
  burst?: number;
  /** Runs in flight per tenant through this gateway. @default NALAR_GATEWAY_MAX_RUNS's default (100) */
  maxRunsInFlight?: number;
  /** How long wait mode waits without `?timeout=`. @default NALAR_GATEWAY_WAIT_TIMEOUT's default (30 seconds) */
  waitTimeoutMs?: number;
  /** Largest request body. @default NALAR_GATEWAY_BODY_LIMIT's default (1048576) */
  bodyLimitBytes?: number;
  /** Deadline of each Temporal call the gateway makes (never of waiting for a result). @default 10 s */
  temporalTimeoutMs?: number;
  /** The claim-check codec: serves `/v1/codec/decode|encode` when set. @default undefined (not served) */
  codec?: PayloadCodec;
  /** Route plugins registered inside the authenticated `/v1` scope (streams, sessions). @default none */
  plugins?: readonly GatewayPlugin[];
  /** Serves `?mode=stream`. @default undefined: that mode answers 501 */
  streamRun?: StreamRun;
  /** Time source of limits and wait timeouts (tests step a ManualClock). @default the real clock */
  clock?: Clock;
  /** @default a logger named `gateway` at info */
  log?: Logger;
}

/** The one error body. */
export interface GatewayErrorBody {
  error: { code: string; message: string; details?: unknown };
}

const modes = ['wait', 'async', 'stream'] as const;
type Mode = (typeof modes)[number];

/** A closed run's status from the error its result threw. */
function closedStatusOf(err: unknown): RunStatus {
  const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
  if (cause instanceof CancelledFailure) return 'cancelled';
  if (cause instanceof TerminatedFailure) return 'terminated';
  if (cause instanceof TimeoutFailure) return 'timed_out';
  return 'failed';
}

/** True for failures of a call to Temporal (unreachable, deadline, a gRPC error) anywhere along the cause chain. */
function isTemporalError(err: unknown): boolean {
  for (let e = err, depth = 0; typeof e === 'object' && e !== null && depth < 8; depth++) {
    if (e instanceof ServiceError || isGrpcServiceError(e) || isGrpcDeadlineError(e)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** The code, status and message an error is answered with. */
function classify(err: unknown): { code: string; status: number; message: string; details?: unknown } {
  if (isNalarError(err)) {
    return {
      code: err.code,
      status: errorCodes[err.code].httpStatus ?? 500,
      message: err.message,
      ...(err.details !== undefined && { details: err.details }),
    };
  }
  const fastifyStatus = (err as { statusCode?: unknown }).statusCode;
  if (typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500) {
    const code =
      fastifyStatus === 413
        ? ErrorCode.PAYLOAD_TOO_LARGE
        : fastifyStatus === 415
          ? ErrorCode.MEDIA_TYPE
          : ErrorCode.INVALID_INPUT;
    return { code, status: fastifyStatus, message: errorMessage(err) };
  }
  if (isTemporalError(err)) {
    const cause = (err as { cause?: unknown }).cause;
    const why = cause === undefined ? errorMessage(err) : `${errorMessage(err)}: ${errorMessage(cause)}`;
    return { code: ErrorCode.TEMPORAL_DOWN, status: 503, message: `Temporal did not answer: ${why}` };
  }
  return { code: ErrorCode.INTERNAL, status: 500, message: 'the gateway failed unexpectedly; its log has the details' };
}

function sendError(reply: FastifyReply, code: string, status: number, message: string, details?: unknown) {
  const body: GatewayErrorBody = { error: { code, message, ...(details !== undefined && { details }) } };
  return reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
}

function refuse(refusal: LimitRefusal): NalarError {
  return new NalarError(ErrorCode.RATE_LIMITED, refusal.reason, {
    details: { retryAfterSeconds: refusal.retryAfterSeconds },
  });
}

/** The gateway as a Fastify app; `app.close()` stops waiting on runs (the runs go on). */
export function buildGatewayApp(options: GatewayAppOptions): FastifyInstance {
  const log = options.log ?? createLogger('gateway');
  const clock = options.clock ?? realClock;
  const client = options.client;
  const workflows: Readonly<Record<string, z.ZodType>> = options.workflows ?? workflowInputs;
  const tokens = new TenantTokens(options.tokens ?? {});
  const limits = new TenantLimits({
    ratePerSecond: options.ratePerSecond ?? configDefaults.gatewayRate,
    burst: options.burst ?? configDefaults.gatewayBurst,
    maxRunsInFlight: options.maxRunsInFlight ?? configDefaults.gatewayMaxRuns,
    clock,
  });
  const defaultWaitMs = options.waitTimeoutMs ?? (durationMs(configDefaults.gatewayWaitTimeout) as number);
  const temporalTimeoutMs = options.temporalTimeoutMs ?? 10_000;
  const deps: GatewayRouteDeps = {
    client,
    workflowIdOf,
    publicIdOf,
    taskQueue: options.taskQueue ?? configDefaults.taskQueue,
    startHeaders: (tenant) => ({ [TENANT_MEMO_KEY]: tenant }),
  };
  // Stops the long polls of run watchers when the app closes.
  // (One controller per watcher: the SDK adds a listener per call to the signal it is given.)
  const watchers = new Set<AbortController>();
  let closing = false;
  /** Outcome of each run started through this gateway, until it closes: wait mode and the run limit share it. */
  const watched = new Map<string, Promise<Pick<RunView, 'status' | 'result' | 'error'>>>();

  const app = Fastify({
    bodyLimit: options.bodyLimitBytes ?? configDefaults.gatewayBodyLimit,
    logger: false,
    // Ids in paths are ours to validate; a long URL is refused by Node's own header limit.
    routerOptions: { maxParamLength: 500 },
    // Errors Fastify raises before routing (a URL it cannot decode) in the one error shape too.
    frameworkErrors: (err, _request, reply) => {
      void sendError(reply, ErrorCode.INVALID_INPUT, 400, err.message);
    },
  });

  // JSON only: a text body (Fastify parses text/plain by default) is a 415, not a string input.
  app.removeContentTypeParser('text/plain');
  // An empty body with a JSON content type (a DELETE or cancel from a client that always sends the header)
  // is no body, not malformed JSON; anything else goes to Fastify's own parser (prototype-poisoning safe).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') done(null, undefined);
    else void parseJson(request, body.toString(), done);
  });

  const withDeadline = <T>(fn: () => Promise<T>): Promise<T> => client.withDeadline(Date.now() + temporalTimeoutMs, fn);

  function watch(tenant: string, started: StartedRun) {
    const known = watched.get(started.workflowId);
    if (known) return known;
    limits.runStarted(tenant, started.workflowId);
    gatewayRunsInFlight.inc();
    const abort = new AbortController();
    watchers.add(abort);
    const outcome = client
      .withAbortSignal(abort.signal, () => client.workflow.getHandle(started.workflowId).result())
      .then(
        (result: unknown) => ({ status: 'completed' as RunStatus, result }),
        (err: unknown) => {
          if (err instanceof WorkflowFailedError) return { status: closedStatusOf(err), error: runErrorOf(err) };
          // Temporal unreachable or the gateway closing: stop counting the run rather than hold its slot forever.
          if (!closing) log.warn(`stopped watching run ${started.publicId}: ${errorMessage(err)}`);
          return undefined;
        },
      )
      .finally(() => {
        watchers.delete(abort);
        watched.delete(started.workflowId);
        limits.runClosed(tenant, started.workflowId);
        gatewayRunsInFlight.dec();
      });
    const settled = outcome.then((o) => o ?? { status: 'unknown' as RunStatus });
    watched.set(started.workflowId, settled);
    return settled;
  }

  /** Resolves with the outcome, or undefined once `timeoutMs` passes first. */
  function within<T>(promise: Promise<T>, timeoutMs: number): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      const timer = clock.setTimer(() => resolve(undefined), timeoutMs);
      promise.then(
        (v) => {
          timer.cancel();
          resolve(v);
        },
        (e: unknown) => {
          timer.cancel();
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  app.setErrorHandler((err, request, reply) => {
    const { code, status, message, details } = classify(err);
    const route = request.routeOptions.url ?? 'unmatched';
    if (code === ErrorCode.INTERNAL) log.error(`${request.method} ${route} failed: ${errorMessage(err)}`);
    else if (code === ErrorCode.TEMPORAL_DOWN && route !== '/readyz')
      log.warn(`${request.method} ${route}: ${message}`);
    if (code === ErrorCode.RATE_LIMITED) {
      reply.header('retry-after', String((details as { retryAfterSeconds?: number }).retryAfterSeconds ?? 1));
    }
    return sendError(reply, code, status, message, details);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, ErrorCode.NOT_FOUND, 404, `no route ${request.method} ${request.url.split('?')[0]}`),
  );

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    gatewayRequests.inc({ route, method: request.method, status: String(reply.statusCode) });
    gatewayRequestSeconds.observe({ route }, reply.elapsedTime / 1000);
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async () => {
    try {
      await client.connection.withDeadline(Date.now() + 2000, () => client.workflowService.getSystemInfo({}));
    } catch (err) {
      throw new NalarError(ErrorCode.TEMPORAL_DOWN, `Temporal is not reachable: ${errorMessage(err)}`);
    }
    return { status: 'ready' };
  });

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', register.contentType);
    return register.metrics();
  });

  // Routes the document does not describe itself (plugins') still get an entry, so it lists every route.
  const extraPaths: Record<string, Record<string, unknown>> = {};
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/v1/') || /^\/v1\/(workflows|runs|codec)\/:(name|id|op)(\/cancel)?$/.test(route.url))
      return;
    const openApiPath = route.url.replace(/:(\w+)/g, '{$1}');
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      const params = [...route.url.matchAll(/:(\w+)/g)].map((m) => ({
        name: m[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      }));
      const doc = (route.config as { openapi?: RouteDoc } | undefined)?.openapi;
      (extraPaths[openApiPath] ??= {})[method.toLowerCase()] = doc
        ? pluginOperation(doc, params)
        : {
            summary: `${method} ${route.url} (added by a gateway plugin)`,
            ...(params.length && { parameters: params }),
            responses: { default: { description: 'See the plugin' } },
          };
    }
  });
  app.get('/openapi.json', async () =>
    openApiDocument({ workflows, codec: options.codec !== undefined, auth: tokens.required, extraPaths }),
  );

  void app.register(
    async (v1) => {
      v1.decorateRequest('tenant', '');
      v1.addHook('onRequest', async (request) => {
        request.tenant = tokens.tenantOf(request.headers.authorization);
        const refusal = limits.takeRequest(request.tenant);
        if (refusal) {
          gatewayRateLimited.inc({ limit: 'rate' });
          throw refuse(refusal);
        }
      });

      v1.post<{ Params: { name: string }; Querystring: Record<string, string | string[] | undefined> }>(
        '/workflows/:name',
        async (request, reply) => {
          const { name } = request.params;
          const schema = Object.hasOwn(workflows, name) ? workflows[name] : undefined;
          if (!schema) {
            throw new NalarError(
              ErrorCode.NOT_FOUND,
              `no workflow type ${name}; known: ${Object.keys(workflows).join(', ')}`,
            );
          }
          const query = request.query;
          const mode = single(query.mode, 'mode') ?? 'wait';
          if (!(modes as readonly string[]).includes(mode)) {
            throw new NalarError(ErrorCode.INVALID_INPUT, `mode: expected one of ${modes.join(', ')}, got '${mode}'`, {
              details: { issues: [{ field: 'mode', code: 'invalid_value', message: `expected ${modes.join(' | ')}` }] },
            });
          }
          const timeoutMs = parseTimeout(single(query.timeout, 'timeout'), defaultWaitMs);
          const id = runIdOf(single(query.workflowId, 'workflowId') ?? headerValue(request.headers['idempotency-key']));
          const parsed = schema.safeParse(request.body);
          if (!parsed.success) {
            const { lines, issues } = describeIssues(parsed.error.issues);
            throw new NalarError(
              ErrorCode.INVALID_INPUT,
              `invalid input of workflow ${name}: ${lines.slice(0, 10).join('; ')}`,
              { details: { workflowType: name, issues: issues.slice(0, 50) } },
            );
          }
          if ((mode as Mode) === 'stream' && !options.streamRun) {
            throw new NalarError(
              ErrorCode.NOT_IMPLEMENTED,
              'mode=stream needs the streaming plugin, which this gateway runs without',
            );
          }
          const tenant = request.tenant;
          const slot = limits.checkRunSlot(tenant);
          if (slot) {
            gatewayRateLimited.inc({ limit: 'runs' });
            throw refuse(slot);
          }
          const started = await withDeadline(() =>
            startRun(deps, tenant, name, parsed.data, id === undefined ? {} : { id }),
          );
          if (!started.existing) gatewayRunsStarted.inc({ workflow: name });
          if (mode === 'stream' && options.streamRun) {
            void watch(tenant, started); // counts against the tenant's runs in flight until it closes
            return options.streamRun(request, reply, started);
          }
          const running: RunView = {
            id: started.publicId,
            runId: started.runId,
            workflow: name,
            status: 'running',
            links: linksOf(started.publicId),
          };
          if (started.existing) {
            // The id was used before: answer that run as it is now, never a second start.
            const view = await withDeadline(() => describeRun(client, started.workflowId, started.publicId));
            if (view.status !== 'running' || mode === 'async')
              return reply.status(view.status === 'running' ? 202 : 200).send(view);
          }
          const outcome = watch(tenant, started);
          if (mode === 'async') return reply.status(202).send(running);
          const closed = await within(outcome, timeoutMs);
          if (!closed || closed.status === 'unknown') return reply.status(202).send(running);
          return reply.status(200).send({ ...running, ...closed });
        },
      );

      v1.get('/runs', async (request) => {
        const query = listRunsQuery.safeParse(request.query);
        if (!query.success) {
          const { lines, issues } = describeIssues(query.error.issues);
          throw new NalarError(ErrorCode.INVALID_INPUT, `invalid query: ${lines.join('; ')}`, { details: { issues } });
        }
        return withDeadline(() => listRuns(client, request.tenant, query.data));
      });

      v1.get<{ Params: { id: string } }>('/runs/:id', async (request) => {
        const workflowId = ownWorkflowId(request.tenant, request.params.id);
        return withDeadline(() => describeRun(client, workflowId, request.params.id));
      });

      const cancel = async (request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
        const { id } = request.params;
        const workflowId = ownWorkflowId(request.tenant, id);
        const view = await withDeadline(() => describeRun(client, workflowId, id));
        if (view.status !== 'running') {
          throw new NalarError(
            ErrorCode.RUN_CLOSED,
            `run ${id} is ${view.status}; only a running run can be cancelled`,
          );
        }
        await withDeadline(() => client.workflow.getHandle(workflowId).cancel()).catch((err: unknown) => {
          throw asNotFound(err, id);
        });
        return reply.status(202).send({ ...view, status: 'running' });
      };
      v1.post('/runs/:id/cancel', cancel);
      v1.delete('/runs/:id', cancel);

      if (options.codec) {
        const codec = options.codec;
        v1.post<{ Params: { op: string } }>('/codec/:op', async (request) => {
          const op = request.params.op;
          if (op !== 'decode' && op !== 'encode') {
            throw new NalarError(
              ErrorCode.NOT_FOUND,
              `no codec operation ${op}: POST /v1/codec/decode or /v1/codec/encode`,
            );
          }
          const { payloads } = await applyCodec(codec, op, request.body);
          return { payloads };
        });
      }

      for (const plugin of options.plugins ?? []) await plugin(v1, deps);
    },
    { prefix: '/v1' },
  );

  app.addHook('onClose', async () => {
    closing = true;
    for (const abort of watchers) abort.abort();
  });

  /** The workflow id of the tenant's run `id`; a malformed id cannot be anyone's run (404). */
  function ownWorkflowId(tenant: string, id: string): string {
    if (!publicRunId.safeParse(id).success) throw new NalarError(ErrorCode.WORKFLOW_NOT_FOUND, `no run ${id}`);
    return deps.workflowIdOf(tenant, id);
  }

  return app;
}

/** One value of a query parameter; a repeated one is a 400. */
function single(value: string | string[] | undefined, name: string): string | undefined {
  if (Array.isArray(value)) throw new NalarError(ErrorCode.INVALID_INPUT, `${name}: give it once`);
  return value;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Wait mode's timeout from `?timeout=` (a duration or milliseconds), capped at {@link maxWaitTimeoutMs}. */
function parseTimeout(raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const ms = durationMs(/^\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw);
  if (ms === undefined) {
    throw new NalarError(
      ErrorCode.INVALID_INPUT,
      `timeout: expected a duration such as '10s' or milliseconds, got '${raw.slice(0, 50)}'`,
    );
  }
  return Math.min(ms, maxWaitTimeoutMs);
}

function runIdOf(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const id = publicRunId.safeParse(raw);
  if (!id.success) {
    throw new NalarError(ErrorCode.INVALID_INPUT, `workflowId: ${id.error.issues[0]?.message ?? 'invalid'}`, {
      details: { issues: [{ field: 'workflowId', code: 'invalid_format', message: id.error.issues[0]?.message }] },
    });
  }
  return id.data;
}
