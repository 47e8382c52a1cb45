/**
 * The global controller's HTTP API as a Fastify app (not listening: tests use `app.inject`, server.ts
 * listens).
 *
 * - `POST /v1/reports`, `GET /v1/decisions` — the local controllers' link, exactly as protocol.ts documents.
 * - `GET /v1/graph` (`?workflow=`, `?session=`, `?limit=`), `GET /v1/policy` — read-only JSON for people.
 * - `PUT /v1/policy` — swaps the policy list while running (a JSON list like NALAR_POLICIES, or its comma
 *   form as a JSON string or text/plain body).
 * - `GET /healthz`, `GET /metrics`.
 *
 * Authorization: with a token, the link and `PUT /v1/policy` require `Authorization: Bearer <token>`. Without
 * one the controller only listens on loopback (listen.ts refuses anything else), and `PUT /v1/policy` is
 * still refused from any other peer address, so only this machine's users can change what the stack does.
 * Reads (graph, policy, metrics) need no token, like the workers' /metrics.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { register } from 'prom-client';
import { z } from 'zod';
import { ErrorCode, errorCodes, isNalarError, type ErrorCode as ErrorCodeType } from '../../common/errors';
import { createLogger, type Logger } from '../../common/log';
import { decisionsPath, maxDecisionsWaitMs, report, reportsPath } from '../protocol';
import type { GlobalController } from './controller';
import { defaultGraphLimit, graphJson, maxGraphLimit } from './graph';
import { reportsReceived } from './metrics';
import { checkPolicyList, parsePolicyList, resolvePolicies, type PolicyRegistry } from './policy-config';
import { isLoopback } from './listen';

/** Options of {@link buildControllerApp}. */
export interface ControllerAppOptions {
  controller: GlobalController;
  /** Bearer token required on the link and on `PUT /v1/policy`. @default undefined: none (loopback only) */
  token?: string;
  /** Where `PUT /v1/policy` resolves names. @default builtInPolicies */
  registry?: PolicyRegistry;
  /** Largest request body. @default 8 MiB (a busy node's report of one period) */
  bodyLimitBytes?: number;
  /** @default a logger named `controller` at info */
  log?: Logger;
  /** What `GET /v1/capacity` shows (the capacity manager); absent: capacity is not managed. */
  capacity?: { status(): unknown };
}

/** Default of {@link ControllerAppOptions.bodyLimitBytes}. */
export const defaultControllerBodyLimitBytes = 8 * 1024 * 1024;

/** What the server answers on failure. */
export interface ControllerErrorBody {
  error: { code: ErrorCodeType; message: string };
}

const decisionsQuery = z.object({
  after: z.coerce.number().int().nonnegative().default(0),
  waitMs: z.coerce.number().int().nonnegative().max(maxDecisionsWaitMs).default(maxDecisionsWaitMs),
});

const graphQuery = z.object({
  workflow: z.string().min(1).optional(),
  session: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(maxGraphLimit).default(defaultGraphLimit),
});

function problems(error: z.ZodError, max = 5): string {
  const list = error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
  return list.slice(0, max).join('; ') + (list.length > max ? `; and ${list.length - max} more` : '');
}

/** Compares a presented token with the expected one in constant time (hashes make the lengths equal). */
function tokenMatches(presented: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

function sendError(reply: FastifyReply, code: ErrorCodeType, message: string, status?: number): FastifyReply {
  const body: ControllerErrorBody = { error: { code, message } };
  return reply.status(status ?? errorCodes[code].httpStatus ?? 500).send(body);
}

/** The global controller's HTTP API. */
export function buildControllerApp(options: ControllerAppOptions): FastifyInstance {
  const { controller } = options;
  const log = options.log ?? createLogger('controller');
  const app = Fastify({
    bodyLimit: options.bodyLimitBytes ?? defaultControllerBodyLimitBytes,
    logger: false,
    // A stopping controller must not wait on local controllers' kept-alive connections (their long polls):
    // close() destroys them, the links reconnect to whatever serves next.
    forceCloseConnections: true,
  });

  /** Undefined when the request may go on; otherwise the refusal was sent. */
  const refused = (request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined => {
    if (options.token === undefined) return undefined;
    const header = request.headers.authorization ?? '';
    const presented = /^Bearer (.+)$/i.exec(header)?.[1];
    if (presented !== undefined && tokenMatches(presented, options.token)) return undefined;
    return sendError(
      reply,
      ErrorCode.UNAUTHORIZED,
      header
        ? 'the bearer token is not the one this controller expects (NALAR_CONTROL_TOKEN)'
        : 'this controller requires Authorization: Bearer <NALAR_CONTROL_TOKEN>',
      401,
    );
  };

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', register.contentType);
    return register.metrics();
  });

  app.post(reportsPath, async (request, reply) => {
    if (refused(request, reply)) {
      reportsReceived.inc({ outcome: 'rejected' });
      return reply;
    }
    const parsed = report.safeParse(request.body);
    if (!parsed.success) {
      reportsReceived.inc({ outcome: 'rejected' });
      return sendError(reply, ErrorCode.INVALID_INPUT, `not a report (protocol.ts): ${problems(parsed.error)}`);
    }
    return reply.status(202).send({ decisionsVersion: controller.submit(parsed.data) });
  });

  app.get(decisionsPath, async (request, reply) => {
    if (refused(request, reply)) return reply;
    const parsed = decisionsQuery.safeParse(request.query);
    if (!parsed.success) {
      return sendError(
        reply,
        ErrorCode.INVALID_INPUT,
        `expected ?after=<version>&waitMs=<0..${maxDecisionsWaitMs}>: ${problems(parsed.error)}`,
      );
    }
    const abort = new AbortController();
    request.raw.once('close', () => abort.abort());
    const decisions = await controller.waitForDecisions(parsed.data.after, parsed.data.waitMs, abort.signal);
    if (!decisions) return reply.status(204).send();
    return reply.header('content-type', 'application/json').send(controller.decisionsJson());
  });

  app.get('/v1/graph', async (request, reply) => {
    const parsed = graphQuery.safeParse(request.query);
    if (!parsed.success) {
      return sendError(
        reply,
        ErrorCode.INVALID_INPUT,
        `expected ?workflow=<id>&session=<id>&limit=<1..${maxGraphLimit}>: ${problems(parsed.error)}`,
      );
    }
    const { workflow, session, limit } = parsed.data;
    return graphJson(controller.view, {
      limit,
      ...(workflow !== undefined && { workflow }),
      ...(session !== undefined && { session }),
    });
  });

  app.get('/v1/policy', async () => controller.status());

  // Managed replicas per agent with their states, worker pools, and the latest capacity events.
  app.get('/v1/capacity', async () =>
    options.capacity
      ? options.capacity.status()
      : { managed: false, why: 'no provisioner, or no agent with a model of its own (docs/control-plane/capacity.md)' },
  );

  app.put('/v1/policy', async (request, reply) => {
    if (options.token === undefined && !isLoopback(request.socket.remoteAddress ?? '')) {
      return sendError(
        reply,
        ErrorCode.UNAUTHORIZED,
        'PUT /v1/policy without NALAR_CONTROL_TOKEN is allowed from this machine only',
        403,
      );
    }
    if (refused(request, reply)) return reply;
    try {
      const body = request.body;
      const entries =
        typeof body === 'string' ? parsePolicyList(body, 'PUT /v1/policy') : checkPolicyList(body, 'PUT /v1/policy');
      controller.setPolicies(resolvePolicies(entries, options.registry, 'PUT /v1/policy'));
    } catch (err) {
      if (isNalarError(err)) return sendError(reply, ErrorCode.INVALID_INPUT, err.message);
      throw err;
    }
    return controller.status();
  });

  // Fastify's own rejections (malformed JSON, a body over the limit, another content type) in our shape.
  app.setErrorHandler((err: { statusCode?: number; message: string }, request, reply) => {
    const status = err.statusCode ?? 500;
    if (request.url.startsWith(reportsPath)) reportsReceived.inc({ outcome: 'rejected' });
    if (status >= 500) log.error(`request failed: ${err.message}`);
    const code =
      status === 413 ? ErrorCode.PAYLOAD_TOO_LARGE : status < 500 ? ErrorCode.INVALID_INPUT : ErrorCode.INTERNAL;
    return sendError(reply, code, err.message, status);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, ErrorCode.NOT_FOUND, `no such endpoint ${request.method} ${request.url}`, 404),
  );
  return app;
}
