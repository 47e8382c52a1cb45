/**
 * The gateway's session routes (a {@link GatewayPlugin}): multi-turn chat sessions, each a long-running
 * `chatSessionWorkflow` of the tenant (workflow id `<tenant>:session-<id>`; also a run with public id
 * `session-<id>`, so `/v1/runs/session-<id>/events` streams the whole session).
 *
 * - `POST /v1/sessions/:id/messages` `{ "message": "…" }`: the next user turn, sent as the `message` Update
 *   with update-with-start (the first message starts the session). Answers `{ id, turn, reply }`, or with
 *   `Accept: text/event-stream` the turn's events (`token`, `reset`, `future`) and then a `reply` event.
 *   `?workflow=analyst` (or `analyst-baseline`) drives a financial-analyst session instead of a chat session
 *   (workflows/analyst.ts; its body also takes `reportTokens`, its reply adds `criticalPath`).
 * - `GET /v1/sessions/:id`: the turns so far (the `turns` query).
 * - `DELETE /v1/sessions/:id`: ends the session after the turn in progress (the `end` signal).
 */
import {
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ErrorCode as ErrorCodeType } from '../../../common/errors';
import type { RunEventBus } from '../../../state/streams/bus';
import { eventData } from '../../../state/streams/events';
import {
  analystTurnInput,
  chatMessageInput,
  chatTurn,
  type AnalystSessionInput,
  type ChatMessageInput,
  type ChatSessionInput,
  type ChatTurnRecord,
} from '../../../workflows/inputs';
import type { CriticalPath } from '../../../workflows/analyst-session';
import { ErrorCode, NalarError, routeDoc, type GatewayPlugin, type GatewayRouteDeps } from '../context';
import { errorOf } from '../streams/outcome';
import { openSse } from '../streams/sse';

/** Options of {@link createSessionRoutes}. */
export interface SessionRoutesOptions {
  /** A session ends after this long without a message (NALAR_SESSION_IDLE_TIMEOUT), in milliseconds. */
  idleTimeoutMs: number;
  /** The run event bus, for streamed turns; without it `Accept: text/event-stream` gets the JSON reply. */
  bus?: RunEventBus;
  /** @default 15000 */
  heartbeatMs?: number;
  /** After the reply, how long to wait for the turn's last tokens to arrive on the bus. @default 3000 */
  endGraceMs?: number;
}

/** Public session ids: what fits in a path segment and a workflow id. */
const sessionParams = z.object({
  id: z.string().regex(/^[A-Za-z0-9._~-]{1,200}$/, 'expected 1-200 letters, digits, ".", "_", "~" or "-"'),
});

/**
 * The session workflows these routes drive, by `?workflow=` (default `chat`): the workflow type, its message
 * schema, and its start input. The first message of a session fixes its type.
 */
const sessionKinds = {
  chat: { workflowType: 'chatSessionWorkflow', body: chatMessageInput },
  analyst: { workflowType: 'analystSessionWorkflow', body: analystTurnInput },
  'analyst-baseline': { workflowType: 'analystSessionBaselineWorkflow', body: analystTurnInput },
} as const;
type SessionKind = keyof typeof sessionKinds;

const sessionQuery = z.object({
  workflow: z.enum(Object.keys(sessionKinds) as [SessionKind, ...SessionKind[]]).optional(),
});

/** A turn's reply as every session workflow returns it (the analyst's adds its critical path). */
interface SessionTurnReply {
  turn: number;
  reply: string;
  futureId?: string;
  criticalPath?: CriticalPath;
}

function sessionKindOf(request: FastifyRequest): SessionKind {
  const parsed = sessionQuery.safeParse(request.query);
  if (!parsed.success) {
    throw new NalarError(ErrorCode.INVALID_INPUT, `workflow: expected one of ${Object.keys(sessionKinds).join(', ')}`);
  }
  return parsed.data.workflow ?? 'chat';
}

function sessionWorkflowId(deps: GatewayRouteDeps, request: FastifyRequest): { id: string; workflowId: string } {
  const parsed = sessionParams.safeParse(request.params);
  if (!parsed.success) throw new NalarError(ErrorCode.WORKFLOW_NOT_FOUND, 'no such session');
  return { id: parsed.data.id, workflowId: deps.workflowIdOf(request.tenant, `session-${parsed.data.id}`) };
}

function notFound(id: string): NalarError {
  return new NalarError(ErrorCode.WORKFLOW_NOT_FOUND, `no session ${JSON.stringify(id)}`);
}

/** A failed turn as a NalarError: the agent's code and its HTTP status (502 for model errors), else 500-free 400. */
function turnFailure(err: unknown): NalarError | undefined {
  if (!(err instanceof WorkflowUpdateFailedError)) return undefined;
  const { code, message } = errorOf(err);
  const known = (Object.values(ErrorCode) as string[]).includes(code) ? (code as ErrorCodeType) : undefined;
  // A refused message (the validator, or a session that is ending) is the client's to fix.
  return new NalarError(known ?? ErrorCode.INVALID_INPUT, message);
}

async function sendTurn(
  client: Client,
  deps: GatewayRouteDeps,
  tenant: string,
  workflowId: string,
  kind: SessionKind,
  message: ChatMessageInput,
  idleTimeoutMs: number,
): Promise<SessionTurnReply> {
  const input: ChatSessionInput | AnalystSessionInput = { idleTimeoutMs };
  const start = new WithStartWorkflowOperation(sessionKinds[kind].workflowType, {
    workflowId,
    taskQueue: deps.taskQueue,
    args: [input],
    // A running session takes the message; a new or ended one starts (fresh) with it.
    workflowIdConflictPolicy: 'USE_EXISTING',
    memo: deps.startHeaders(tenant),
  });
  try {
    return await client.workflow.executeUpdateWithStart<Workflow, SessionTurnReply, [ChatMessageInput]>('message', {
      args: [message],
      startWorkflowOperation: start,
    });
  } catch (err) {
    throw turnFailure(err) ?? err;
  }
}

const turnReply = z.object({ id: z.string(), turn: z.number().int(), reply: z.string() });
const messageDoc = routeDoc({
  summary:
    'Send the next user turn to a session (started if it does not exist: update-with-start) and answer the reply; ' +
    'with Accept: text/event-stream, stream the turn (future and token events, then a reply event). ' +
    '?workflow=analyst|analyst-baseline: a financial-analyst session (body adds reportTokens; reply adds criticalPath)',
  body: chatMessageInput,
  responses: {
    '200': { description: 'The reply (JSON), or the turn as Server-Sent Events', schema: turnReply },
    '400': { description: 'Invalid message (names the field)' },
    '401': { description: 'No valid bearer token' },
    '429': { description: 'Rate limited (Retry-After)' },
  },
});
const sessionDoc = routeDoc({
  summary: "A session's turns so far and its status",
  responses: {
    '200': {
      description: 'The session',
      schema: z.object({ id: z.string(), status: z.string(), turns: z.array(chatTurn) }),
    },
    '404': { description: 'No such session of this tenant' },
  },
});
const endDoc = routeDoc({
  summary: 'End a session (it finishes its current turn first)',
  responses: {
    '202': { description: 'Ending', schema: z.object({ id: z.string(), status: z.literal('ending') }) },
    '404': { description: 'No such session of this tenant' },
  },
});
/** Creates the session routes. */
export function createSessionRoutes(options: SessionRoutesOptions): GatewayPlugin {
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const endGraceMs = options.endGraceMs ?? 3_000;

  return (app, deps) => {
    app.post('/sessions/:id/messages', messageDoc, async (request: FastifyRequest, reply: FastifyReply) => {
      const { id, workflowId } = sessionWorkflowId(deps, request);
      const kind = sessionKindOf(request);
      const body = sessionKinds[kind].body.safeParse(request.body);
      if (!body.success) {
        const issue = body.error.issues[0];
        throw new NalarError(
          ErrorCode.INVALID_INPUT,
          `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`,
          {
            details: { issues: body.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
          },
        );
      }
      const send = () =>
        sendTurn(deps.client, deps, request.tenant, workflowId, kind, body.data, options.idleTimeoutMs);
      const wantsStream = /\btext\/event-stream\b/.test(request.headers.accept ?? '');
      if (!wantsStream || !options.bus) {
        const turn = await send();
        return {
          id,
          turn: turn.turn,
          reply: turn.reply,
          ...(turn.criticalPath && { criticalPath: turn.criticalPath }),
        };
      }
      // Subscribe before sending, so no token of this turn is missed.
      const sub = options.bus.subscribe(workflowId);
      await sub.replayGap;
      const w = openSse(request, reply, heartbeatMs);
      void w.gone.then(() => sub.close());
      const completed = new Set<string>();
      let replyFuture: string | undefined;
      let grace: NodeJS.Timeout | undefined;
      const forward = (async () => {
        for await (const event of sub) {
          if (event.kind === 'run') continue;
          w.send(event.kind, eventData(event), event.seq);
          if (event.kind === 'future' && event.state === 'completed') {
            completed.add(event.futureId);
            if (event.futureId === replyFuture) break;
          }
        }
      })();
      try {
        const turn = await send();
        // The turn's tokens precede its future's `completed` event: wait for that (bounded), then answer.
        replyFuture = turn.futureId;
        if (turn.futureId !== undefined && completed.has(turn.futureId)) sub.close();
        else grace = setTimeout(() => sub.close(), endGraceMs);
        await forward;
        w.send('reply', { id, turn: turn.turn, reply: turn.reply });
      } catch (err) {
        const failure = err instanceof NalarError ? { code: err.code, message: err.message } : errorOf(err);
        w.send('error', { error: failure });
      } finally {
        clearTimeout(grace);
        sub.close();
        w.end();
      }
    });

    app.get('/sessions/:id', sessionDoc, async (request) => {
      const { id, workflowId } = sessionWorkflowId(deps, request);
      const handle = deps.client.workflow.getHandle(workflowId);
      try {
        const [turns, described] = await Promise.all([handle.query<ChatTurnRecord[]>('turns'), handle.describe()]);
        return { id, status: described.status.name.toLowerCase(), turns };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw notFound(id);
        throw err;
      }
    });

    app.delete('/sessions/:id', endDoc, async (request, reply) => {
      const { id, workflowId } = sessionWorkflowId(deps, request);
      try {
        await deps.client.workflow.getHandle(workflowId).signal('end');
      } catch (err) {
        // A closed session cannot take the signal: there is nothing to end.
        if (err instanceof WorkflowNotFoundError) throw notFound(id);
        throw err;
      }
      return reply.status(202).send({ id, status: 'ending' });
    });
  };
}
