/**
 * Worker side of the side channel: a batching, bounded, best-effort publisher. Events are queued in memory
 * and sent every `flushMs` (one batch in flight at a time, so a worker's events keep their order); a full
 * buffer or a failed send drops events and counts them in `nalar_stream_events_dropped_total`. Publishing
 * never throws and never blocks an activity or a workflow: tokens are a preview, the result comes through
 * Temporal.
 */
import { Counter } from 'prom-client';
import { configDefaults, durationMs } from '../../common/config';
import { getOrCreateMetric } from '../../common/metrics';
import type { PublishedEvent, RunEventBody } from './events';

/** Counts what the side channel could not deliver, by reason (`buffer_full`, `send_failed`). */
export const streamEventsDropped = getOrCreateMetric(
  'nalar_stream_events_dropped_total',
  () =>
    new Counter({
      name: 'nalar_stream_events_dropped_total',
      help: 'Run events (tokens, lifecycle) the worker dropped: buffer full or the bus unreachable. The runs are unaffected.',
      labelNames: ['reason'],
    }),
);

/** Counts run events a worker sent to the bus. */
export const streamEventsSent = getOrCreateMetric(
  'nalar_stream_events_sent_total',
  () => new Counter({ name: 'nalar_stream_events_sent_total', help: 'Run events a worker delivered to the bus.' }),
);

/** Most events in one request: a batch of tokens stays well under a megabyte. */
const maxBatchEvents = 500;

/** Where a worker's run events go. */
export interface RunEventPublisher {
  /** Queues one event; never throws. */
  publish(workflowId: string, event: RunEventBody): void;
  /** Resolves once everything queued before the call was sent (or dropped); never rejects. */
  flush(): Promise<void>;
  /** Flushes, then stops. */
  close(): Promise<void>;
}

/** Options of {@link BatchingPublisher}. */
export interface BatchingPublisherOptions {
  /** Delivers one batch (HTTP POST to the gateway, or the Redis bus); a rejection drops the batch. */
  send(events: PublishedEvent[]): Promise<void>;
  /** How long events wait to be sent together. @default NALAR_STREAM_FLUSH_INTERVAL */
  flushMs?: number;
  /** Events queued at most; more are dropped. @default NALAR_STREAM_BUFFER_EVENTS */
  maxBuffer?: number;
}

export class BatchingPublisher implements RunEventPublisher {
  private buffer: PublishedEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> = Promise.resolve();
  private readonly send: BatchingPublisherOptions['send'];
  private readonly flushMs: number;
  private readonly maxBuffer: number;
  private closed = false;

  constructor(options: BatchingPublisherOptions) {
    this.send = options.send;
    this.flushMs = options.flushMs ?? durationMs(configDefaults.streamFlushInterval) ?? 25;
    this.maxBuffer = options.maxBuffer ?? configDefaults.streamBufferEvents;
  }

  publish(workflowId: string, event: RunEventBody): void {
    if (this.closed) return;
    if (this.buffer.length >= this.maxBuffer) {
      streamEventsDropped.inc({ reason: 'buffer_full' });
      return;
    }
    this.buffer.push({ workflowId, event });
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.flushMs);
      // A pending batch never keeps a process alive.
      this.timer.unref();
    }
  }

  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const queued = this.buffer;
    this.buffer = [];
    // Chained: batches leave in order, one at a time, each small enough for any request body limit.
    for (let i = 0; i < queued.length; i += maxBatchEvents) {
      const batch = queued.slice(i, i + maxBatchEvents);
      this.inFlight = this.inFlight.then(() =>
        this.send(batch).then(
          () => void streamEventsSent.inc(batch.length),
          () => void streamEventsDropped.inc({ reason: 'send_failed' }, batch.length),
        ),
      );
    }
    return this.inFlight;
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }
}

/** Options of {@link httpEventSender}. */
export interface HttpSenderOptions {
  /** Base URL of the process hosting the bus (the gateway), e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** The stack-internal token (NALAR_STREAM_TOKEN). */
  token: string;
  /** Per request. @default 5000 */
  timeoutMs?: number;
}

/** Sends batches to the gateway's `POST /internal/v1/events` (the embedded bus). */
export function httpEventSender(options: HttpSenderOptions): (events: PublishedEvent[]) => Promise<void> {
  const endpoint = new URL('/internal/v1/events', options.url).toString();
  return async (events) => {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
      body: JSON.stringify({ events }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
    });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`POST ${endpoint}: HTTP ${res.status}`);
  };
}
