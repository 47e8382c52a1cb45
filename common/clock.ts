/** Time source of timers that tests step instead of sleeping: the simulator, the supervisor's stop grace. */

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimer(fn: () => void, delayMs: number): Timer;
}

/** Wall-clock time (performance.now) and real timers. */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimer(fn, delayMs) {
    const t = setTimeout(fn, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(t) };
  },
};

/** A clock that moves only when told to; timers fire in time order during {@link advance}. */
export class ManualClock implements Clock {
  private time = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.time;
  }

  setTimer(fn: () => void, delayMs: number): Timer {
    const id = this.seq++;
    this.timers.set(id, { at: this.time + Math.max(0, delayMs), fn });
    return { cancel: () => this.timers.delete(id) };
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order (including ones they set). */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let nextId: number | undefined;
      let nextAt = Infinity;
      for (const [id, t] of this.timers) {
        if (t.at < nextAt || (t.at === nextAt && nextId !== undefined && id < nextId)) {
          nextAt = t.at;
          nextId = id;
        }
      }
      if (nextId === undefined || nextAt > end) break;
      const timer = this.timers.get(nextId) as { at: number; fn: () => void };
      this.timers.delete(nextId);
      this.time = Math.max(this.time, timer.at);
      timer.fn();
    }
    this.time = end;
  }

  /** Advances until `done()` holds, in steps of `stepMs`; throws after `maxMs`. */
  advanceUntil(done: () => boolean, maxMs: number, stepMs = 1): void {
    const limit = this.time + maxMs;
    while (!done()) {
      if (this.time >= limit) throw new Error(`condition not reached within ${maxMs} ms of simulated time`);
      this.advance(stepMs);
    }
  }
}
