/**
 * A stand-in for the gateway core (data-plane/gateway/app.ts `buildGatewayApp`) while the streams and
 * sessions plugins are built beside it: real Fastify, the embedded bus's ingest route at the root, and a `/v1`
 * scope that sets `request.tenant` from the `x-tenant` header, answers NalarErrors in the gateway's error
 * shape and registers the plugins. Tiny on purpose: switch the tests to `buildGatewayApp` once it is merged.
 */
import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance } from 'fastify';
import { isNalarError, errorCodes } from '../../common/errors';
import type { GatewayPlugin, GatewayRouteDeps } from '../../data-plane/gateway/context';
import { eventIngestRoutes } from '../../data-plane/gateway/streams/ingest';
import type { Streams } from '../../data-plane/gateway/streams/routes';
import type { RunEventBus } from '../../state/streams/bus';

export interface TestGatewayOptions {
  client: Client;
  taskQueue: string;
  bus: RunEventBus;
  ingestToken: string;
  plugins: GatewayPlugin[];
  /** Serves `POST /v1/workflows/:name?mode=stream` as the gateway core would. */
  streams?: Streams;
}

export async function buildTestGateway(o: TestGatewayOptions): Promise<FastifyInstance> {
  const app = Fastify();
  eventIngestRoutes(app, { bus: o.bus, token: o.ingestToken });
  const deps: GatewayRouteDeps = {
    client: o.client,
    taskQueue: o.taskQueue,
    workflowIdOf: (tenant, id) => `${tenant}:${id}`,
    publicIdOf: (tenant, wf) => (wf.startsWith(`${tenant}:`) ? wf.slice(tenant.length + 1) : undefined),
    startHeaders: (tenant) => ({ nalarTenant: tenant }),
  };
  await app.register(
    async (v1) => {
      v1.decorateRequest('tenant', '');
      v1.addHook('onRequest', async (request) => {
        const header = request.headers['x-tenant'];
        request.tenant = typeof header === 'string' ? header : 'local';
      });
      v1.setErrorHandler((err, _request, reply) => {
        if (isNalarError(err)) {
          return reply
            .status(errorCodes[err.code].httpStatus ?? 500)
            .send({ error: { code: err.code, message: err.message } });
        }
        return reply.status(500).send({ error: { code: 'NALAR_ERR_INTERNAL', message: String(err) } });
      });
      for (const plugin of o.plugins) await plugin(v1, deps);
      const streams = o.streams;
      if (streams) {
        v1.post('/workflows/:name', async (request, reply) => {
          const { name } = request.params as { name: string };
          const { workflowId: id, ...input } = request.body as { workflowId: string };
          const workflowId = deps.workflowIdOf(request.tenant, id);
          await o.client.workflow.start(name, { taskQueue: o.taskQueue, workflowId, args: [input] });
          await streams.streamRun(request, reply, { workflowId, publicId: id });
        });
      }
    },
    { prefix: '/v1' },
  );
  return app;
}

/** One Server-Sent Event as a client parses it. */
export interface SseEvent {
  id?: string;
  event: string;
  data: unknown;
}

/** Reads an SSE response to its end (the server closes it after the final `run` event). */
export async function readSse(res: Response): Promise<SseEvent[]> {
  const text = await res.text();
  const events: SseEvent[] = [];
  for (const block of text.split('\n\n')) {
    const lines = block.split('\n').filter((l) => l && !l.startsWith(':'));
    if (lines.length === 0) continue;
    const field = (name: string) => lines.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
    const data = field('data');
    events.push({
      ...(field('id') !== undefined && { id: field('id') }),
      event: field('event') ?? 'message',
      data: data === undefined ? undefined : JSON.parse(data),
    });
  }
  return events;
}
