/**
 * The run event bus: where workers' run events meet the gateway's SSE streams. Two implementations behind
 * one interface (one conformance suite): the embedded in-memory bus the gateway process hosts (workers push
 * to it over HTTP, `ingest.ts`), and Redis (`redis-bus.ts`) so any gateway replica sees any worker's events.
 */
import type { PublishedEvent, RunEvent } from './events';

/** A live view of one workflow's events; iterate it, and `close()` it when the client goes away. */
export interface RunEventSubscription extends AsyncIterable<RunEvent> {
  /**
   * Lowest seq the bus still had for the requested replay, known once iteration started; when a replay was
   * asked `fromSeq` and this is greater than `fromSeq + 1`, events in between are gone (the bus bounds what
   * it keeps).
   */
  readonly replayGap: Promise<boolean>;
  /** Stops delivery and releases the subscription; iteration ends. Idempotent. */
  close(): void;
}

/** The bus. Best-effort: events are a preview, a full buffer drops events rather than slowing anyone. */
export interface RunEventBus {
  /** Appends events (per workflow id in the given order) and delivers them to subscribers. */
  publish(events: readonly PublishedEvent[]): Promise<void>;
  /**
   * Events of `workflowId` from now on; with `fromSeq`, first those after `fromSeq` the bus still keeps
   * (resume after a dropped connection: SSE's Last-Event-ID).
   */
  subscribe(workflowId: string, fromSeq?: number): RunEventSubscription;
  close(): Promise<void>;
}

/**
 * A subscription's queue: pushes from the bus, pulls from the iterator. Bounded: a subscriber that falls
 * `limit` events behind is ended (its client reconnects with Last-Event-ID) instead of growing memory.
 */
export class EventQueue implements AsyncIterable<RunEvent> {
  private readonly items: RunEvent[] = [];
  private waiting: ((r: IteratorResult<RunEvent>) => void) | undefined;
  private ended = false;
  private lastSeq: number;

  constructor(
    fromSeq: number,
    private readonly limit: number,
    private readonly onEnd: () => void,
  ) {
    this.lastSeq = fromSeq;
  }

  /** Queues an event; one at or below the last queued seq is a duplicate (replay overlapping live) and skipped. */
  push(event: RunEvent): void {
    if (this.ended || event.seq <= this.lastSeq) return;
    this.lastSeq = event.seq;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: event, done: false });
      return;
    }
    if (this.items.length >= this.limit) {
      this.end();
      return;
    }
    this.items.push(event);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd();
    const resolve = this.waiting;
    this.waiting = undefined;
    resolve?.({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<RunEvent> {
    return {
      next: () => {
        const item = this.items.shift();
        if (item) return Promise.resolve({ value: item, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.waiting = resolve));
      },
      return: () => {
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
