/**
 * The gateway's streaming routes (a {@link GatewayPlugin}): `GET /v1/runs/:id/events`, the SSE stream of a
 * tenant's run (the futures so far from history, then live future lifecycle events and LLM tokens from the
 * run event bus, then one final `run` event with the result or the error code), and {@link Streams.streamRun},
 * which `POST /v1/workflows/:name?mode=stream` hands a freshly started run to.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { RunEventBus } from '../../../state/streams/bus';
import { eventData, type RunEvent } from '../../../state/streams/events';
import { readFutures } from '../../../stubs/inspect/read-futures';
import { ErrorCode, NalarError, routeDoc, type GatewayPlugin, type GatewayRouteDeps } from '../context';
import { runOutcome } from './outcome';
import { lastEventId, openSse, type SseWriter } from './sse';

/** Options of {@link createStreams}. */
export interface StreamsOptions {
  /** Where the workers' run events arrive (`runEventBusFromConfig`). */
  bus: RunEventBus;
  /** Comment lines keep idle connections open through proxies this often. @default 15000 */
  heartbeatMs?: number;
  /**
   * Once Temporal says the run ended, how long to wait for the worker's own end-of-run event (which follows
   * the run's last events on the bus) before closing anyway (a worker that publishes nothing). @default 3000
   */
  endGraceMs?: number;
}

/** A started run as the gateway's start route hands it over (data-plane/gateway/start-run.ts `StartedRun`). */
export interface StreamedRun {
  workflowId: string;
  publicId: string;
  /** True when the id named an existing run: its past comes from history, not from the bus. */
  existing?: boolean;
}

/** The streaming plugin and the function behind `?mode=stream`. */
export interface Streams {
  streamRoutes: GatewayPlugin;
  /** Answers a start request with the run's event stream (call after starting it). */
  streamRun(request: FastifyRequest, reply: FastifyReply, started: StreamedRun): Promise<void>;
}

const runParams = z.object({ id: z.string().min(1).max(512) });

const eventsDoc = routeDoc({
  summary:
    "A run's progress as Server-Sent Events: its futures so far, then live future, token and reset events, " +
    'ending with one run event (result or error code); Last-Event-ID resumes',
  responses: {
    '200': { description: 'The event stream', contentType: 'text/event-stream', schema: z.string() },
    '404': { description: 'No such run of this tenant' },
  },
});

/** Every future of the run so far, from its history: what a client that connects late missed. */
async function sendHistory(w: SseWriter, client: Client, workflowId: string): Promise<void> {
  const report = await readFutures(client, { workflowId }).catch(() => undefined);
  for (const f of report?.futures ?? []) {
    const at = Date.parse(f.closedAt ?? f.startedAt ?? f.scheduledAt);
    w.send('future', {
      kind: 'future',
      futureId: f.id,
      activityType: f.activityType,
      state: f.state,
      at,
      history: true,
    });
  }
}

interface PipeOptions {
  fromSeq?: number;
  /** Send the futures of history first. */
  history: boolean;
  /** The run is already closed: do not wait for more events. */
  closed: boolean;
}

/** Events of one run to one SSE client until the run ends or the client leaves. */
async function pipeRun(
  w: SseWriter,
  client: Client,
  bus: RunEventBus,
  workflowId: string,
  o: PipeOptions,
  endGraceMs: number,
): Promise<void> {
  const sub = bus.subscribe(workflowId, o.fromSeq);
  const abort = new AbortController();
  void w.gone.then(() => {
    sub.close();
    abort.abort();
  });
  const gap = await sub.replayGap;
  if (o.history || gap) await sendHistory(w, client, workflowId);
  const outcome = runOutcome(client, workflowId, abort.signal);
  let grace: NodeJS.Timeout | undefined;
  void outcome.then(() => {
    grace = setTimeout(() => sub.close(), o.closed ? 0 : endGraceMs);
  });
  let end: RunEvent | undefined;
  try {
    for await (const event of sub) {
      // The worker's end-of-run event comes after all of the run's events; the gateway sends its own final
      // event (with the result) in its place.
      if (event.kind === 'run' && event.status !== 'continued_as_new') {
        end = event;
        break;
      }
      w.send(event.kind, eventData(event), event.seq);
    }
  } finally {
    clearTimeout(grace);
    sub.close();
  }
  if (w.closed) return;
  w.send('run', { kind: 'run', ...(await outcome) }, end?.seq);
  w.end();
}

/** Creates the streaming routes on `options.bus`. */
export function createStreams(options: StreamsOptions): Streams {
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const endGraceMs = options.endGraceMs ?? 3_000;
  let registered: GatewayRouteDeps | undefined;

  const streamRoutes: GatewayPlugin = (app, deps) => {
    registered = deps;
    app.get('/runs/:id/events', eventsDoc, async (request, reply) => {
      const params = runParams.safeParse(request.params);
      const id = params.success ? params.data.id : '';
      const workflowId = deps.workflowIdOf(request.tenant, id);
      let closed: boolean;
      try {
        const described = await deps.client.workflow.getHandle(workflowId).describe();
        closed = described.status.name !== 'RUNNING';
      } catch (err) {
        if (err instanceof WorkflowNotFoundError || !params.success) {
          throw new NalarError(ErrorCode.WORKFLOW_NOT_FOUND, `no run ${JSON.stringify(id)}`);
        }
        throw err;
      }
      const fromSeq = lastEventId(request);
      const w = openSse(request, reply, heartbeatMs);
      await pipeRun(
        w,
        deps.client,
        options.bus,
        workflowId,
        { fromSeq, history: fromSeq === undefined, closed },
        endGraceMs,
      );
    });
  };

  return {
    streamRoutes,
    async streamRun(request, reply, started) {
      if (!registered) throw new Error('streamRun: register streamRoutes with the gateway first');
      const w = openSse(request, reply, heartbeatMs);
      w.send('started', { id: started.publicId });
      // A new run's events are all still on the bus (from seq 0); an existing one's past is in its history.
      const o = started.existing ? { history: true, closed: false } : { fromSeq: 0, history: false, closed: false };
      await pipeRun(w, registered.client, options.bus, started.workflowId, o, endGraceMs);
    },
  };
}
