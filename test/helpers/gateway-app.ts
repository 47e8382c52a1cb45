/**
 * The real gateway (`buildGatewayApp`) with the streams and sessions plugins, the embedded bus's ingest route
 * at its root, and two tenants: `local` and `other`. `gatewayFetch` sends a request as one of them: an
 * `x-tenant` header in the request picks the tenant (default `local`) and becomes its bearer token.
 */
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { buildGatewayApp } from '../../data-plane/gateway/app';
import type { GatewayPlugin } from '../../data-plane/gateway/context';
import { eventIngestRoutes } from '../../data-plane/gateway/streams/ingest';
import type { Streams } from '../../data-plane/gateway/streams/routes';
import type { RunEventBus } from '../../state/streams/bus';

export interface TestGatewayOptions {
  client: Client;
  taskQueue: string;
  bus: RunEventBus;
  ingestToken: string;
  plugins: GatewayPlugin[];
  /** Serves `POST /v1/workflows/:name?mode=stream`. */
  streams?: Streams;
}

/** Bearer token of each test tenant. */
const tokenOf: Record<string, string> = { local: 'test-token-local-0123456789', other: 'test-token-other-0123456789' };

export async function buildTestGateway(o: TestGatewayOptions): Promise<FastifyInstance> {
  const app = buildGatewayApp({
    client: o.client,
    taskQueue: o.taskQueue,
    tokens: Object.fromEntries(Object.entries(tokenOf).map(([tenant, token]) => [token, tenant])),
    plugins: o.plugins,
    ...(o.streams && { streamRun: o.streams.streamRun }),
  });
  eventIngestRoutes(app, { bus: o.bus, token: o.ingestToken });
  await app.ready();
  return app;
}

/** `fetch` as a tenant of {@link buildTestGateway}: the `x-tenant` header (default `local`) becomes its token. */
export function gatewayFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const tenant = headers.get('x-tenant') ?? 'local';
  headers.delete('x-tenant');
  headers.set('authorization', `Bearer ${tokenOf[tenant] ?? 'unknown'}`);
  return fetch(url, { ...init, headers });
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
