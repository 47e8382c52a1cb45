/**
 * Server-Sent Events over a raw Node response: `id:` (the bus seq, for Last-Event-ID), `event:` (the kind),
 * `data:` (JSON), heartbeat comments, and release of the subscription when the client goes away.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

/** An open SSE response. */
export interface SseWriter {
  /** Writes one event; `id` omitted for events that are not on the bus (history, the reply). */
  send(event: string, data: unknown, id?: number): void;
  /** True once the client disconnected (or {@link end} was called). */
  readonly closed: boolean;
  /** Resolves when the client disconnects. */
  readonly gone: Promise<void>;
  end(): void;
}

/** Takes over `reply` (Fastify no longer sends it) and opens an event stream with heartbeats every `heartbeatMs`. */
export function openSse(request: FastifyRequest, reply: FastifyReply, heartbeatMs: number): SseWriter {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // Reverse proxies (nginx) must not buffer the stream.
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();
  let closed = false;
  let onGone: () => void = () => undefined;
  const gone = new Promise<void>((resolve) => (onGone = resolve));
  const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), heartbeatMs);
  heartbeat.unref();
  const close = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    onGone();
  };
  request.raw.on('close', close);
  res.on('close', close);
  return {
    send(event, data, id) {
      if (closed) return;
      const json = JSON.stringify(data);
      res.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${json}\n\n`);
    },
    get closed() {
      return closed;
    },
    gone,
    end() {
      if (closed) return;
      close();
      res.end();
    },
  };
}

/** The `Last-Event-ID` header as a seq, or undefined when absent or not a non-negative integer. */
export function lastEventId(request: FastifyRequest): number | undefined {
  const raw = request.headers['last-event-id'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || !/^\d{1,15}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}
