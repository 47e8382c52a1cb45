/**
 * The local controller's event intake (in-process, one per worker). Future lifecycle events arrive here
 * from workflows (through the `nalar` sink) and from activity attempts (the activity interceptor). The
 * control-plane work connects it to the global controller; for now it keeps a bounded window of recent
 * events and notifies subscribers.
 */
import type { FutureEvent } from '../../stubs/workflow/types';

export type FutureEventListener = (event: FutureEvent) => void;

export interface LocalControllerOptions {
  /** Recent events kept for inspection. @default 10000 */
  capacity?: number;
}

export class LocalController {
  private readonly capacity: number;
  private readonly buffer: FutureEvent[] = [];
  private readonly listeners = new Set<FutureEventListener>();

  constructor(options: LocalControllerOptions = {}) {
    this.capacity = options.capacity ?? 10_000;
  }

  /** Takes one event; never throws (a failing listener must not break workflows or activities). */
  record(event: FutureEvent): void {
    this.buffer.push(event);
    // Trim in bulk: trimming at every event once full would shift the whole window per event.
    if (this.buffer.length >= 2 * this.capacity) this.buffer.splice(0, this.buffer.length - this.capacity);
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // Telemetry never changes behaviour.
      }
    }
  }

  /** Calls `listener` for every later event; returns the unsubscribe function. */
  subscribe(listener: FutureEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The recent events, oldest first (optionally of one workflow). */
  recent(workflowId?: string): FutureEvent[] {
    const window = this.buffer.slice(-this.capacity);
    return workflowId === undefined ? window : window.filter((e) => e.workflowId === workflowId);
  }
}
