/**
 * The embedded run event bus: in the gateway process's memory, no server. Keeps the last `replayEvents`
 * events of each of the last `maxRuns` workflow ids (for Last-Event-ID resume); oldest runs are forgotten
 * first. Workers reach it over HTTP (`ingest.ts`, `http-publisher.ts`).
 */
import { configDefaults } from '../../common/config';
import { EventQueue, type RunEventBus, type RunEventSubscription } from './bus';
import type { PublishedEvent, RunEvent } from './events';

/** Options of {@link MemoryRunEventBus}. */
export interface MemoryBusOptions {
  /** Events kept per workflow id for resume. @default NALAR_STREAM_REPLAY_EVENTS */
  replayEvents?: number;
  /** Workflow ids remembered (least recently published forgotten first). @default 10000 */
  maxRuns?: number;
  /** Events a subscriber may fall behind before it is ended. @default 10000 */
  subscriberLimit?: number;
}

interface RunLog {
  seq: number;
  events: RunEvent[];
  subscribers: Set<EventQueue>;
}

export class MemoryRunEventBus implements RunEventBus {
  private readonly runs = new Map<string, RunLog>();
  private readonly replayEvents: number;
  private readonly maxRuns: number;
  private readonly subscriberLimit: number;

  constructor(options: MemoryBusOptions = {}) {
    this.replayEvents = options.replayEvents ?? configDefaults.streamReplayEvents;
    this.maxRuns = options.maxRuns ?? 10_000;
    this.subscriberLimit = options.subscriberLimit ?? 10_000;
  }

  private log(workflowId: string): RunLog {
    let log = this.runs.get(workflowId);
    if (log) {
      // Map order is the eviction order: move to the back.
      this.runs.delete(workflowId);
    } else {
      log = { seq: 0, events: [], subscribers: new Set() };
    }
    this.runs.set(workflowId, log);
    if (this.runs.size > this.maxRuns) {
      for (const [id, old] of this.runs) {
        if (old.subscribers.size === 0) {
          this.runs.delete(id);
          break;
        }
      }
    }
    return log;
  }

  publish(events: readonly PublishedEvent[]): Promise<void> {
    for (const { workflowId, event } of events) {
      const log = this.log(workflowId);
      const numbered: RunEvent = { ...event, seq: ++log.seq };
      log.events.push(numbered);
      if (log.events.length >= 2 * this.replayEvents) log.events.splice(0, log.events.length - this.replayEvents);
      for (const sub of log.subscribers) sub.push(numbered);
    }
    return Promise.resolve();
  }

  subscribe(workflowId: string, fromSeq?: number): RunEventSubscription {
    const log = this.runs.get(workflowId) ?? this.log(workflowId);
    const start = fromSeq ?? log.seq;
    const queue: EventQueue = new EventQueue(start, this.subscriberLimit, () => log.subscribers.delete(queue));
    let gap = false;
    if (fromSeq !== undefined) {
      const kept = log.events.slice(-this.replayEvents).filter((e) => e.seq > fromSeq);
      gap = (kept[0]?.seq ?? log.seq + 1) > fromSeq + 1;
      for (const e of kept) queue.push(e);
    }
    log.subscribers.add(queue);
    return {
      replayGap: Promise.resolve(gap),
      close: () => queue.end(),
      [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator](),
    };
  }

  /** Open subscriptions of `workflowId` (for metrics and tests). */
  subscriberCount(workflowId: string): number {
    return this.runs.get(workflowId)?.subscribers.size ?? 0;
  }

  close(): Promise<void> {
    for (const log of this.runs.values()) for (const sub of log.subscribers) sub.end();
    this.runs.clear();
    return Promise.resolve();
  }
}
