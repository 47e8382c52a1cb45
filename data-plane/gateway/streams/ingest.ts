/**
 * `POST /internal/v1/events`: where workers deliver batches of run events to the embedded bus the gateway
 * hosts. Stack-internal: it takes only the token the supervisor generated for this start (NALAR_STREAM_TOKEN,
 * compared in constant time), never a tenant's token, and is registered outside the tenants' `/v1` scope.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ErrorCode, errorCodes } from '../../../common/errors';
import type { RunEventBus } from '../../../state/streams/bus';
import { eventBatchSchema } from '../../../state/streams/events';

/** Options of {@link eventIngestRoutes}. */
export interface EventIngestOptions {
  bus: RunEventBus;
  /** The stack-internal token; without one the route refuses every request. */
  token: string | undefined;
}

/** Largest batch body accepted. */
export const ingestBodyLimitBytes = 16 * 1024 * 1024;

function tokenMatches(presented: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

/** Registers the ingest route on `app` (at its root, not under the tenants' auth). */
export function eventIngestRoutes(app: FastifyInstance, options: EventIngestOptions): void {
  // Its own body limit: a worker's batch (up to 500 events) may be larger than what tenants may send.
  app.post('/internal/v1/events', { bodyLimit: ingestBodyLimitBytes }, async (request, reply) => {
    const presented = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (!options.token || !presented || !tokenMatches(presented, options.token)) {
      return reply.status(errorCodes[ErrorCode.UNAUTHORIZED].httpStatus ?? 401).send({
        error: {
          code: ErrorCode.UNAUTHORIZED,
          message: 'run events need the stack-internal token (NALAR_STREAM_TOKEN)',
        },
      });
    }
    const parsed = eventBatchSchema.safeParse(request.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return reply.status(400).send({
        error: {
          code: ErrorCode.INVALID_INPUT,
          message: `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`,
        },
      });
    }
    await options.bus.publish(parsed.data.events);
    return reply.status(204).send();
  });
}
