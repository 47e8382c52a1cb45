/**
 * The serving engine of one simulated replica: a vLLM-like scheduler in model time, driven by a clock.
 *
 * Each iteration admits waiting requests while batch slots and KV blocks allow (FIFO, head-of-line),
 * spends a chunked-prefill token budget on admitted prompts (uncached tokens only), and decodes one token
 * for every running sequence. Its model time is `decodeBaseMs + decodePerSeqMs × batch +
 * prefillPerTokenMs × prefill tokens`, times the replica's speed and any slowdown, times the time scale.
 *
 * Under overload it refuses or fails requests as real engines do (README "Overload"): a full waiting queue,
 * a request larger than the whole KV cache, and, when configured, a head of line starved of KV blocks, a
 * queue timeout, or a request's own deadline (waiting or running).
 *
 * Per-iteration work is O(1) plus the requests that start or finish in it: decode progress is a shared
 * step counter, and finishing sequences come off a heap ordered by their last step. That keeps the
 * simulator's own CPU small next to the model time it simulates.
 */
import type { Clock, Timer } from '../common/clock';
import { KvCache, type Reservation } from './kv-cache';
import { MinHeap } from './min-heap';
import { waitingQueue, type WaitingQueue } from './waiting-queue';
import type { ReplicaProfile } from './profile';
import { Prng } from './text';

/** What the engine needs to know about a request. */
export interface EngineRequest {
  promptTokens: number;
  /** Hashes of the prompt's full KV blocks, chained (see kv-cache.ts). */
  blockChain: readonly number[];
  /** Tokens to generate (at least 1). */
  outputTokens: number;
  /** Called with the number of new tokens as they are generated (batched per flush). */
  onTokens?: (count: number) => void;
  /** Called once, when the last token is generated. */
  onFinish: (result: EngineResult) => void;
  /** Called once if the request is dropped by the engine (replica reset). */
  onAbort?: (reason: string) => void;
  /**
   * Deadline in model ms after arrival: still waiting then, the request is dropped; running, it is aborted
   * (its KV blocks freed). Either way `onReject` gets reason 'deadline'. @default none
   */
  deadlineMs?: number;
  /** Scheduling priority under the `priority` policy: lower values are admitted first. @default 0 */
  priority?: number;
  /**
   * Called once when the engine fails an accepted request for overload (queue timeout, deadline, KV cache
   * exhausted); without it, `onAbort` is called with the reason.
   */
  onReject?: (rejection: EngineRejection) => void;
}

/**
 * Why the engine refuses or fails a request under overload (README "Overload"):
 * - `queue_full`: the waiting queue holds `maxWaiting` requests (refused at submit; HTTP 429);
 * - `context_length`: prompt + output cannot fit in the whole KV cache (refused at submit; HTTP 400);
 * - `kv_oom`: the head of the queue waited longer than `kvWaitTimeoutMs` for KV blocks (HTTP 503);
 * - `queue_timeout`: waited longer than `queueTimeoutMs` for a batch slot (HTTP 503);
 * - `deadline`: the request's own `deadlineMs` passed, waiting or running (HTTP 408).
 */
export type RejectReason = 'queue_full' | 'context_length' | 'kv_oom' | 'queue_timeout' | 'deadline';

/** An accepted request the engine failed under overload. */
export interface EngineRejection {
  reason: Extract<RejectReason, 'kv_oom' | 'queue_timeout' | 'deadline'>;
  /** Model ms from arrival to the rejection. */
  waitedMs: number;
  /** True when the request was in the batch (only a deadline aborts a running request). */
  running: boolean;
}

/** Timings in model milliseconds (what a real GPU server would have taken). */
export interface EngineResult {
  cachedTokens: number;
  queueMs: number;
  ttftMs: number;
  totalMs: number;
  /** Model ms per output token after the first. */
  tpotMs: number;
}

export type SubmitOutcome =
  | { accepted: true; cancel: () => void }
  | { accepted: false; reason: 'queue_full' }
  /** `limitTokens`: the most tokens (prompt + output) one request can hold: the KV cache, in whole blocks. */
  | { accepted: false; reason: 'context_length'; limitTokens: number };

/** Observer of engine events, for metrics. Model-time values. */
export interface EngineObserver {
  /** `priority`: the request's scheduling priority (0 when it set none). */
  onAdmitted?(queueMs: number, promptTokens: number, cachedTokens: number, priority: number): void;
  onFirstToken?(ttftMs: number): void;
  onFinished?(result: EngineResult, outputTokens: number): void;
  /** A request refused at submit or failed under overload. */
  onRejected?(reason: RejectReason): void;
}

interface Sequence {
  readonly req: EngineRequest;
  readonly arrivedAt: number;
  reservation?: Reservation;
  cachedTokens: number;
  admittedAt: number;
  prefillLeft: number;
  firstTokenAt: number;
  /** Value of the engine's step counter when this sequence produced its first token. */
  firstStep: number;
  /** Step at which its last token is produced. */
  lastStep: number;
  emitted: number;
  done: boolean;
  /** Queue-timeout or deadline timer, cancelled when the request ends. */
  timer?: Timer;
  /** When it first found the KV cache too full to admit it, at the head of the queue. */
  kvBlockedSince?: number;
}

interface Iteration {
  /** Clock time (real ms) the iteration started. */
  startedAt: number;
  endsAt: number;
  /** Whether a sequence was in the batch (prefilling or decoding) during it: only then is the replica busy. */
  busy: boolean;
  /** Sequences whose prefill completes at the end of this iteration. */
  prefillDone: Sequence[];
}

export interface EngineOptions {
  profile: ReplicaProfile;
  clock: Clock;
  /** Real ms per model ms. */
  timeScale: number;
  /** Seed for slowdown and stall episodes. */
  seed: number;
  observer?: EngineObserver;
  /** Real ms between batched token deliveries to streaming requests. @default 5 */
  streamFlushMs?: number;
}

export class Engine {
  private readonly profile: ReplicaProfile;
  private readonly clock: Clock;
  private readonly timeScale: number;
  private readonly observer: EngineObserver;
  private readonly streamFlushMs: number;
  private readonly kv: KvCache;
  private readonly episodes: Prng;
  private readonly waiting: WaitingQueue<Sequence>;
  /** Ended requests (cancelled, timed out) still in `waiting` behind the head, skipped when reached. */
  private waitingEnded = 0;
  /** Requests waiting (not ended), by scheduling priority. */
  private readonly waitingPriorities = new Map<number, number>();
  private readonly prefilling: Sequence[] = [];
  private readonly decoding: MinHeap<Sequence>;
  private readonly streaming = new Set<Sequence>();
  private decodingCount = 0;
  private step = 0;
  private current: Iteration | undefined;
  private timer: Timer | undefined;
  private lastFlush = 0;
  private slowUntil = 0;
  /** Real ms of completed iterations that had a sequence in the batch. */
  private busyRealMs = 0;
  /** Counters since start, in tokens (vLLM's prefix_cache_queries / prefix_cache_hits). */
  prefixQueries = 0;
  prefixHits = 0;

  constructor(options: EngineOptions) {
    this.profile = options.profile;
    this.clock = options.clock;
    this.timeScale = options.timeScale;
    this.observer = options.observer ?? {};
    this.streamFlushMs = options.streamFlushMs ?? 5;
    this.kv = new KvCache(Math.floor(this.profile.kvCacheTokens / this.profile.blockSize));
    this.episodes = new Prng(options.seed);
    this.decoding = new MinHeap((s) => s.lastStep);
    this.waiting = waitingQueue(this.profile.schedulingPolicy);
  }

  /** Requests waiting for a batch slot. */
  get numWaiting(): number {
    return this.waiting.size - this.waitingEnded;
  }

  /** Requests waiting for a batch slot, by scheduling priority (0 for requests that set none). */
  get numWaitingByPriority(): ReadonlyMap<number, number> {
    return this.waitingPriorities;
  }

  /** Requests in the batch (prefilling or decoding). */
  get numRunning(): number {
    return this.prefilling.length + this.decodingCount;
  }

  /**
   * Cumulative model ms the engine had at least one sequence in the batch (prefilling or decoding), over
   * completed iterations; idle time and time waiting for work do not count. Deltas of it give a replica's
   * busy time over an interval, the basis of load imbalance (max/mean busy time across replicas).
   */
  get busyMs(): number {
    return this.toModel(this.busyRealMs);
  }

  get kvUsage(): number {
    return this.kv.usage;
  }

  /**
   * Queues a request; refuses it when it could never fit in the KV cache, or when the waiting queue is full.
   */
  submit(req: EngineRequest): SubmitOutcome {
    const p = this.profile;
    const capacityBlocks = Math.floor(p.kvCacheTokens / p.blockSize);
    if (Math.ceil((req.promptTokens + req.outputTokens) / p.blockSize) > capacityBlocks) {
      this.observer.onRejected?.('context_length');
      return { accepted: false, reason: 'context_length', limitTokens: capacityBlocks * p.blockSize };
    }
    if (this.numWaiting >= p.maxWaiting) {
      this.observer.onRejected?.('queue_full');
      return { accepted: false, reason: 'queue_full' };
    }
    // One reading of the clock for arrival and the iteration it may start: a real clock read twice would
    // show a queue time for a request admitted at once.
    const now = this.clock.now();
    const seq: Sequence = {
      req,
      arrivedAt: now,
      cachedTokens: 0,
      admittedAt: 0,
      prefillLeft: 0,
      firstTokenAt: 0,
      firstStep: 0,
      lastStep: 0,
      emitted: 0,
      done: false,
    };
    this.waiting.push(seq, req.priority ?? 0);
    this.countWaiting(seq, 1);
    // The earlier of the queue timeout and the deadline first; a request admitted by then gets its deadline.
    const q = p.queueTimeoutMs;
    const d = req.deadlineMs;
    if (d !== undefined && (q === undefined || d <= q)) this.expireAt(seq, d, 'deadline');
    else if (q !== undefined) this.expireAt(seq, q, 'queue_timeout');
    if (!this.current) this.wake(now);
    return { accepted: true, cancel: () => this.cancel(seq) };
  }

  private expireAt(seq: Sequence, modelMs: number, reason: 'deadline' | 'queue_timeout'): void {
    const delay = Math.max(0, seq.arrivedAt + modelMs * this.timeScale - this.clock.now());
    seq.timer = this.clock.setTimer(() => this.expire(seq, reason), delay);
  }

  /** A queue timeout or deadline came: drop the request if it still waits; abort it at its deadline. */
  private expire(seq: Sequence, reason: 'deadline' | 'queue_timeout'): void {
    seq.timer = undefined;
    if (seq.done) return;
    const running = seq.reservation !== undefined;
    if (running && reason === 'queue_timeout') {
      // Admitted in time: only its own deadline can still end it.
      if (seq.req.deadlineMs !== undefined) this.expireAt(seq, seq.req.deadlineMs, 'deadline');
      return;
    }
    this.cancel(seq);
    this.reject(seq, reason, running);
  }

  private reject(seq: Sequence, reason: EngineRejection['reason'], running: boolean): void {
    this.observer.onRejected?.(reason);
    const rejection = { reason, waitedMs: this.toModel(this.clock.now() - seq.arrivedAt), running };
    if (seq.req.onReject) seq.req.onReject(rejection);
    else seq.req.onAbort?.(reason);
  }

  /** Drops every request (calling `onAbort`) and empties the KV cache: the replica died. */
  reset(reason: string): void {
    const all = [...this.waiting.drain(), ...this.prefilling, ...this.decoding.drain()];
    this.prefilling.length = 0;
    this.streaming.clear();
    this.decodingCount = 0;
    this.current = undefined;
    this.timer?.cancel();
    this.timer = undefined;
    this.kv.clear();
    this.waitingEnded = 0;
    this.waitingPriorities.clear();
    for (const seq of all) {
      seq.timer?.cancel();
      if (seq.done) continue;
      seq.done = true;
      seq.req.onAbort?.(reason);
    }
  }

  /** Stops the timer; pending requests stay queued (used on shutdown after `reset`). */
  close(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private cancel(seq: Sequence): void {
    if (seq.done) return;
    seq.done = true;
    seq.timer?.cancel();
    seq.timer = undefined;
    if (!seq.reservation) {
      this.waitingEnded++;
      this.countWaiting(seq, -1);
    }
    this.streaming.delete(seq);
    if (seq.reservation) {
      this.kv.release(seq.reservation, []);
      if (seq.prefillLeft > 0 || seq.firstTokenAt === 0) {
        const i = this.prefilling.indexOf(seq);
        if (i >= 0) this.prefilling.splice(i, 1);
      } else {
        // Lazily removed from the decoding heap when it surfaces.
        this.decodingCount--;
      }
    }
  }

  private countWaiting(seq: Sequence, delta: 1 | -1): void {
    const priority = seq.req.priority ?? 0;
    const n = (this.waitingPriorities.get(priority) ?? 0) + delta;
    if (n === 0) this.waitingPriorities.delete(priority);
    else this.waitingPriorities.set(priority, n);
  }

  private wake(now: number): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.tick(now);
  }

  /** Completes every iteration that has ended by now, starts the next, and sets the timer for it. */
  private tick(now = this.clock.now()): void {
    while (this.current && this.current.endsAt <= now) {
      const ended = this.current;
      this.finishIteration(ended);
      this.current = this.startIteration(ended.endsAt);
    }
    if (!this.current) this.current = this.startIteration(now);
    if (this.streaming.size && now - this.lastFlush >= this.streamFlushMs) this.flushStreams(now);
    if (this.current) {
      this.timer = this.clock.setTimer(() => this.tick(), this.current.endsAt - now);
    }
  }

  private hasWork(): boolean {
    return this.numWaiting > 0 || this.prefilling.length > 0 || this.decodingCount > 0;
  }

  private startIteration(at: number): Iteration | undefined {
    if (!this.hasWork()) return undefined;
    const p = this.profile;
    this.admit(at);

    // Stall episodes: the replica makes no progress for a while.
    const realPerModelMs = this.timeScale * p.speed;
    if (p.faults.stall.ratePerSecond > 0 && this.draw(p.faults.stall.ratePerSecond, p.decodeBaseMs)) {
      return {
        startedAt: at,
        endsAt: at + p.faults.stall.durationMs * this.timeScale,
        busy: this.numRunning > 0,
        prefillDone: [],
      };
    }
    if (
      p.faults.slowdown.ratePerSecond > 0 &&
      at >= this.slowUntil &&
      this.draw(p.faults.slowdown.ratePerSecond, p.decodeBaseMs)
    ) {
      this.slowUntil = at + p.faults.slowdown.durationMs * this.timeScale;
    }
    const slow = at < this.slowUntil ? p.faults.slowdown.factor : 1;

    let budget = Math.max(0, p.maxBatchedTokens - this.decodingCount);
    let prefillTokens = 0;
    let prefillSeqs = 0;
    const prefillDone: Sequence[] = [];
    for (const seq of this.prefilling) {
      if (budget <= 0) break;
      if (seq.prefillLeft === 0) continue;
      const take = Math.min(seq.prefillLeft, budget);
      seq.prefillLeft -= take;
      budget -= take;
      prefillTokens += take;
      prefillSeqs++;
      if (seq.prefillLeft === 0) prefillDone.push(seq);
    }
    const modelMs =
      p.decodeBaseMs + p.decodePerSeqMs * (this.decodingCount + prefillSeqs) + p.prefillPerTokenMs * prefillTokens;
    return { startedAt: at, endsAt: at + modelMs * realPerModelMs * slow, busy: this.numRunning > 0, prefillDone };
  }

  /** True with the probability that a Poisson event of `ratePerSecond` occurs within `modelMs`. */
  private draw(ratePerSecond: number, modelMs: number): boolean {
    return this.episodes.next() < 1 - Math.exp((-ratePerSecond * modelMs) / 1000);
  }

  private admit(at: number): void {
    const p = this.profile;
    while (this.numWaiting > 0 && this.numRunning < p.maxNumSeqs) {
      const seq = this.waiting.peek() as Sequence;
      if (seq.done) {
        this.waiting.shift();
        this.waitingEnded--;
        continue;
      }
      const totalBlocks = Math.ceil((seq.req.promptTokens + seq.req.outputTokens) / p.blockSize);
      const reservation = this.kv.reserve(seq.req.blockChain, totalBlocks);
      if (!reservation) {
        // Head of line waits for KV space, as in vLLM; with a bound, as engines without preemption, it fails.
        seq.kvBlockedSince ??= at;
        if (p.kvWaitTimeoutMs === undefined || at - seq.kvBlockedSince <= p.kvWaitTimeoutMs * this.timeScale) break;
        this.waiting.shift();
        this.countWaiting(seq, -1);
        seq.done = true;
        seq.timer?.cancel();
        seq.timer = undefined;
        this.reject(seq, 'kv_oom', false);
        continue;
      }
      this.waiting.shift();
      this.countWaiting(seq, -1);
      seq.reservation = reservation;
      // The last prompt token is always computed, even on a full hit (it yields the first logits).
      seq.cachedTokens = Math.min(reservation.cachedBlocks.length * p.blockSize, seq.req.promptTokens - 1);
      seq.cachedTokens = Math.max(0, seq.cachedTokens);
      seq.prefillLeft = seq.req.promptTokens - seq.cachedTokens;
      seq.admittedAt = at;
      this.prefixQueries += seq.req.promptTokens;
      this.prefixHits += seq.cachedTokens;
      this.prefilling.push(seq);
      const queueMs = this.toModel(at - seq.arrivedAt);
      this.observer.onAdmitted?.(queueMs, seq.req.promptTokens, seq.cachedTokens, seq.req.priority ?? 0);
    }
  }

  private finishIteration(it: Iteration): void {
    this.step++;
    if (it.busy) this.busyRealMs += it.endsAt - it.startedAt;
    if (it.prefillDone.length) {
      // They stayed in the prefill queue during the iteration (so they count as running); now they decode.
      const doneSet = new Set(it.prefillDone);
      const rest = this.prefilling.filter((s) => !doneSet.has(s));
      this.prefilling.splice(0, this.prefilling.length, ...rest);
    }
    for (const seq of it.prefillDone) {
      if (seq.done) continue;
      seq.firstTokenAt = it.endsAt;
      seq.firstStep = this.step;
      seq.lastStep = this.step + seq.req.outputTokens - 1;
      this.decoding.push(seq);
      this.decodingCount++;
      this.observer.onFirstToken?.(this.toModel(it.endsAt - seq.arrivedAt));
      if (seq.req.onTokens) {
        // The first token goes out at once: time to first token is what streaming clients measure.
        this.streaming.add(seq);
        this.emit(seq, 1);
      }
    }
    for (let top = this.decoding.peek(); top && top.lastStep <= this.step; top = this.decoding.peek()) {
      this.decoding.pop();
      if (top.done) continue;
      this.finish(top, it.endsAt);
    }
  }

  private generated(seq: Sequence): number {
    return Math.min(this.step - seq.firstStep + 1, seq.req.outputTokens);
  }

  private emit(seq: Sequence, upTo: number): void {
    const n = upTo - seq.emitted;
    if (n > 0) {
      seq.emitted = upTo;
      seq.req.onTokens?.(n);
    }
  }

  private flushStreams(now: number): void {
    this.lastFlush = now;
    for (const seq of this.streaming) this.emit(seq, this.generated(seq));
  }

  private finish(seq: Sequence, at: number): void {
    seq.done = true;
    seq.timer?.cancel();
    this.decodingCount--;
    if (this.streaming.delete(seq)) this.emit(seq, seq.req.outputTokens);
    if (seq.reservation) this.kv.release(seq.reservation, seq.req.blockChain);
    const out = seq.req.outputTokens;
    const result: EngineResult = {
      cachedTokens: seq.cachedTokens,
      queueMs: this.toModel(seq.admittedAt - seq.arrivedAt),
      ttftMs: this.toModel(seq.firstTokenAt - seq.arrivedAt),
      totalMs: this.toModel(at - seq.arrivedAt),
      tpotMs: out > 1 ? this.toModel(at - seq.firstTokenAt) / (out - 1) : 0,
    };
    this.observer.onFinished?.(result, out);
    seq.req.onFinish(result);
  }

  private toModel(realMs: number): number {
    return realMs / this.timeScale;
  }
}
