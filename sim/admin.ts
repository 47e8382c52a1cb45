/**
 * The simulator pool's admin API (sim/README.md "Admin API"), a Fastify app of its own on
 * NALAR_SIM_ADMIN_PORT: the capacity a provisioner changes at runtime.
 *
 * - `GET /admin/replicas`, `GET /admin/replicas/:id` — the replicas with id, model, state and base URL.
 * - `POST /admin/replicas` — a replica profile (sim/profile.ts, every field optional): a new replica on a free
 *   port, `loading` for its `modelLoadMs`; 201 with it.
 * - `DELETE /admin/replicas/:id` — drains then closes it; 202 with it `draining`.
 * - `POST /admin/replicas/:id/reassign` — `{ model, modelLoadMs?, settings? }`: drains it, loads the model (cold
 *   cache) and, with `settings` (profile fields but `name`, `model`, `faults`), restarts its engine with them;
 *   202 with it `draining`.
 * - `?wait=true` on the three: answer once the change is done (200).
 * - `GET /healthz`, `GET /metrics` (replicas by state, reassignments).
 *
 * Authorization, as the global controller's `PUT /v1/policy`: with NALAR_SIM_ADMIN_TOKEN set, the changing
 * routes require `Authorization: Bearer <token>`; without it they are refused from any peer that is not this
 * machine. Reads need no token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Counter, Gauge, Registry } from 'prom-client';
import { z } from 'zod';
import { ErrorCode, type ErrorCode as ErrorCodeType } from '../common/errors';
import { isLoopback } from '../common/loopback';
import { SimPoolError, type SimPool } from './pool';
import { replicaProfileSchema, replicaSettingsSchema } from './profile';
import type { ReplicaState } from './replica';

/** Options of {@link buildSimAdminApp}. */
export interface SimAdminOptions {
  pool: SimPool;
  /** Bearer token the changing routes require. @default undefined: none (changes from loopback peers only) */
  token?: string;
}

/** What the admin API answers on failure. */
export interface SimAdminErrorBody {
  error: { code: ErrorCodeType; message: string };
}

const replicaStates: readonly ReplicaState[] = ['serving', 'loading', 'draining'];

const idParams = z.object({ id: z.string().min(1) });
const waitQuery = z.object({ wait: z.enum(['true', 'false']).default('false') });
const reassignBody = z
  .object({
    model: z.string().min(1),
    modelLoadMs: z.number().min(0).optional(),
    settings: replicaSettingsSchema.optional(),
  })
  .strict();

function problems(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
}

/** Compares a presented token with the expected one in constant time (hashes make the lengths equal). */
function tokenMatches(presented: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

function sendError(reply: FastifyReply, status: number, code: ErrorCodeType, message: string): FastifyReply {
  const body: SimAdminErrorBody = { error: { code, message } };
  return reply.status(status).send(body);
}

/** A pool refusal as HTTP: 404 for an unknown replica, 409 NALAR_ERR_CONFLICT for one already changing. */
function sendPoolError(reply: FastifyReply, err: unknown): FastifyReply {
  if (!(err instanceof SimPoolError)) throw err;
  return err.reason === 'not_found'
    ? sendError(reply, 404, ErrorCode.NOT_FOUND, err.message)
    : sendError(reply, 409, ErrorCode.CONFLICT, err.message);
}

/** The admin API over `pool` (not listening: tests use `app.inject` or listen on port 0). */
export function buildSimAdminApp(options: SimAdminOptions): FastifyInstance {
  const { pool } = options;
  const app = Fastify({ logger: false, forceCloseConnections: true });

  const registry = new Registry();
  new Gauge({
    name: 'nalar_sim_replicas',
    help: 'Replicas of the simulator pool, by state (serving, loading a model, draining).',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const counts = new Map(replicaStates.map((s) => [s, 0]));
      for (const r of pool.replicas) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
      for (const [state, n] of counts) this.set({ state }, n);
    },
  });
  const reassignments = new Counter({
    name: 'nalar_sim_replica_reassignments_total',
    help: 'Replicas reassigned from one model to another through the admin API.',
    labelNames: ['from_model', 'to_model'],
    registers: [registry],
  });
  pool.observer = { onReassigned: (from, to) => reassignments.inc({ from_model: from, to_model: to }) };

  /** Undefined when the request may change the pool; otherwise the refusal was sent. */
  const refused = (request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined => {
    if (options.token === undefined) {
      if (isLoopback(request.socket.remoteAddress ?? '')) return undefined;
      return sendError(
        reply,
        403,
        ErrorCode.UNAUTHORIZED,
        'changing the simulator pool without NALAR_SIM_ADMIN_TOKEN is allowed from this machine only',
      );
    }
    const header = request.headers.authorization ?? '';
    const presented = /^Bearer (.+)$/i.exec(header)?.[1];
    if (presented !== undefined && tokenMatches(presented, options.token)) return undefined;
    return sendError(
      reply,
      401,
      ErrorCode.UNAUTHORIZED,
      header
        ? 'the bearer token is not the one this simulator expects (NALAR_SIM_ADMIN_TOKEN)'
        : 'this simulator requires Authorization: Bearer <NALAR_SIM_ADMIN_TOKEN>',
    );
  };

  /** Parses `:id` and `?wait`, or sends the 400. */
  const target = (request: FastifyRequest, reply: FastifyReply): { id: string; wait: boolean } | undefined => {
    const params = idParams.safeParse(request.params);
    const query = waitQuery.safeParse(request.query);
    if (params.success && query.success) return { id: params.data.id, wait: query.data.wait === 'true' };
    sendError(
      reply,
      400,
      ErrorCode.INVALID_INPUT,
      `expected /admin/replicas/<id>[?wait=true|false]: ${problems((params.error ?? query.error) as z.ZodError)}`,
    );
    return undefined;
  };

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/metrics', async (_request, reply) => {
    void reply.header('content-type', registry.contentType);
    return registry.metrics();
  });

  app.get('/admin/replicas', async () => ({ replicas: pool.list() }));

  app.get('/admin/replicas/:id', async (request, reply) => {
    const t = target(request, reply);
    if (!t) return reply;
    try {
      return pool.info(t.id);
    } catch (err) {
      return sendPoolError(reply, err);
    }
  });

  app.post('/admin/replicas', async (request, reply) => {
    if (refused(request, reply)) return reply;
    const query = waitQuery.safeParse(request.query);
    const profile = replicaProfileSchema.safeParse(request.body ?? {});
    if (!query.success || !profile.success) {
      const why = problems((query.error ?? profile.error) as z.ZodError);
      return sendError(reply, 400, ErrorCode.INVALID_INPUT, `expected a replica profile (sim/README.md): ${why}`);
    }
    const added = await pool.add(profile.data);
    if (query.data.wait === 'true') {
      await pool.whenServing(added.id);
      return reply.status(200).send(pool.info(added.id));
    }
    return reply.status(201).send(added);
  });

  app.delete('/admin/replicas/:id', async (request, reply) => {
    if (refused(request, reply)) return reply;
    const t = target(request, reply);
    if (!t) return reply;
    let removed: Promise<void>;
    try {
      removed = pool.remove(t.id);
    } catch (err) {
      return sendPoolError(reply, err);
    }
    if (t.wait) {
      await removed;
      return reply.status(200).send({ id: t.id, removed: true });
    }
    const info = pool.info(t.id);
    // The drain goes on after the answer; its end is seen as the replica leaving the list.
    removed.catch(() => undefined);
    return reply.status(202).send(info);
  });

  app.post('/admin/replicas/:id/reassign', async (request, reply) => {
    if (refused(request, reply)) return reply;
    const t = target(request, reply);
    if (!t) return reply;
    const body = reassignBody.safeParse(request.body);
    if (!body.success) {
      return sendError(
        reply,
        400,
        ErrorCode.INVALID_INPUT,
        `expected { "model": "<id>", "modelLoadMs"?: <model ms>, "settings"?: { <replica profile fields> } }: ${problems(body.error)}`,
      );
    }
    let done: Promise<void>;
    try {
      const { model, modelLoadMs, settings } = body.data;
      done = pool.reassign(t.id, model, { modelLoadMs, settings });
    } catch (err) {
      return sendPoolError(reply, err);
    }
    if (t.wait) {
      await done;
      return reply.status(200).send(pool.info(t.id));
    }
    const info = pool.info(t.id);
    done.catch(() => undefined);
    return reply.status(202).send(info);
  });

  // Fastify's own rejections (malformed JSON, another content type) in our shape.
  app.setErrorHandler((err: { statusCode?: number; message: string }, _request, reply) => {
    const status = err.statusCode ?? 500;
    return sendError(reply, status, status < 500 ? ErrorCode.INVALID_INPUT : ErrorCode.INTERNAL, err.message);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, ErrorCode.NOT_FOUND, `no such endpoint ${request.method} ${request.url}`),
  );
  return app;
}
