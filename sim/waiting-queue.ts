/**
 * The engine's queue of requests waiting for a batch slot. `fcfs` serves them in arrival order (vLLM's
 * default); `priority` serves the lowest `priority` value first and arrival order among equals, as vLLM's
 * `--scheduling-policy priority` does with the request's `priority` field.
 */
import { MinHeap } from './min-heap';

export type SchedulingPolicy = 'fcfs' | 'priority';

/** Waiting requests, head first. Ended requests may stay inside until they reach the head (the engine skips them). */
export interface WaitingQueue<T> {
  readonly size: number;
  push(item: T, priority: number): void;
  peek(): T | undefined;
  shift(): T | undefined;
  /** Removes everything and returns it (any order). */
  drain(): T[];
}

/** Priorities the `priority` policy orders exactly (beyond them the sort key would lose precision). */
export const maxAbsPriority = 2 ** 20;

export function waitingQueue<T>(policy: SchedulingPolicy): WaitingQueue<T> {
  return policy === 'priority' ? new PriorityQueue<T>() : new FifoQueue<T>();
}

class FifoQueue<T> implements WaitingQueue<T> {
  private items: T[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }
  push(item: T): void {
    this.items.push(item);
  }
  peek(): T | undefined {
    return this.items[this.head];
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    // Compact now and then: O(1) amortised, and the array does not keep every request ever queued.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
  drain(): T[] {
    const all = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return all;
  }
}

class PriorityQueue<T> implements WaitingQueue<T> {
  private readonly heap = new MinHeap<{ item: T; key: number }>((e) => e.key);
  private arrivals = 0;

  get size(): number {
    return this.heap.size;
  }
  push(item: T, priority: number): void {
    // Priority first, then arrival: unique keys, so equal priorities keep their arrival order.
    this.heap.push({ item, key: priority * 2 ** 32 + (this.arrivals++ % 2 ** 32) });
  }
  peek(): T | undefined {
    return this.heap.peek()?.item;
  }
  shift(): T | undefined {
    return this.heap.pop()?.item;
  }
  drain(): T[] {
    return this.heap.drain().map((e) => e.item);
  }
}
