import { ManualClock } from '../common/clock';
import { Engine, type EngineRejection, type EngineRequest, type EngineResult, type RejectReason } from './engine';
import { replicaProfile, type ReplicaProfileInput } from './profile';

function setup(profile: ReplicaProfileInput = {}) {
  const clock = new ManualClock();
  const rejected: RejectReason[] = [];
  const engine = new Engine({
    profile: replicaProfile(profile),
    clock,
    timeScale: 1,
    seed: 1,
    observer: { onRejected: (reason) => rejected.push(reason) },
  });
  return { clock, engine, rejected };
}

interface Tracked {
  result?: EngineResult;
  aborted?: string;
  rejection?: EngineRejection;
  tokens: number;
}

function request(
  engine: Engine,
  promptTokens: number,
  outputTokens: number,
  chain: number[] = [],
  stream = false,
  deadlineMs?: number,
) {
  const t: Tracked = { tokens: 0 };
  const req: EngineRequest = {
    promptTokens,
    blockChain: chain,
    outputTokens,
    onFinish: (r) => (t.result = r),
    onAbort: (reason) => (t.aborted = reason),
    onReject: (r) => {
      if (t.rejection) throw new Error(`rejected twice: ${t.rejection.reason}, then ${r.reason}`);
      t.rejection = r;
    },
    ...(stream && { onTokens: (n: number) => (t.tokens += n) }),
    ...(deadlineMs !== undefined && { deadlineMs }),
  };
  const outcome = engine.submit(req);
  return { t, outcome };
}

const chainOf = (blocks: number, salt = 0) => Array.from({ length: blocks }, (_, i) => 1000 * salt + i + 1);

test('one request: prefill of its prompt, then one decode iteration per output token', () => {
  const { clock, engine } = setup({ decodeBaseMs: 10, decodePerSeqMs: 0, prefillPerTokenMs: 0.1 });
  const { t } = request(engine, 1000, 50);
  clock.advanceUntil(() => t.result !== undefined, 10_000);
  const r = t.result as EngineResult;
  // First iteration: decode base + 1000 prompt tokens (2048 budget covers them) = 10 + 100 ms.
  expect(r.ttftMs).toBeCloseTo(110, 5);
  expect(r.tpotMs).toBeCloseTo(10, 5);
  expect(r.totalMs).toBeCloseTo(110 + 49 * 10, 5);
  expect(r.cachedTokens).toBe(0);
});

test('time per output token grows with the batch size (continuous batching)', () => {
  const { clock, engine } = setup({ decodeBaseMs: 12, decodePerSeqMs: 0.08, prefillPerTokenMs: 0 });
  const alone = request(engine, 10, 100).t;
  clock.advanceUntil(() => alone.result !== undefined, 60_000);
  const batch = Array.from({ length: 200 }, () => request(engine, 10, 100).t);
  clock.advanceUntil(() => batch.every((b) => b.result), 60_000);
  expect(alone.result?.tpotMs).toBeCloseTo(12.08, 2);
  const tpots = batch.map((b) => b.result?.tpotMs as number);
  // 200 sequences decode together: ~12 + 0.08 × 200 = 28 ms per token.
  expect(Math.min(...tpots)).toBeGreaterThan(27);
  expect(Math.max(...tpots)).toBeLessThan(29);
});

test('no more than maxNumSeqs run at once; the rest wait in FIFO order', () => {
  const { clock, engine } = setup({ maxNumSeqs: 4, prefillPerTokenMs: 0 });
  const reqs = Array.from({ length: 10 }, () => request(engine, 10, 20).t);
  // The first is admitted at once; the others join at the next iteration boundary (12.08 ms).
  clock.advance(13);
  expect(engine.numRunning).toBe(4);
  expect(engine.numWaiting).toBe(6);
  clock.advanceUntil(() => reqs.every((r) => r.result), 60_000);
  const queue = reqs.map((r) => r.result?.queueMs as number);
  expect(queue[0]).toBe(0);
  expect(queue.slice(1, 4).every((q) => q > 12 && q < 13)).toBe(true);
  expect(queue[9]).toBeGreaterThan(queue[4] as number);
});

test('a full waiting queue refuses new requests', () => {
  const { engine } = setup({ maxNumSeqs: 1, maxWaiting: 2 });
  const outcomes = Array.from({ length: 5 }, () => request(engine, 10, 10).outcome.accepted);
  // One is admitted at once (the engine runs its first iteration on submit), two wait, two are refused.
  expect(outcomes).toEqual([true, true, true, false, false]);
});

test('a cached prefix skips its prefill; a replica that never saw it pays again', () => {
  const profile = { decodeBaseMs: 10, decodePerSeqMs: 0, prefillPerTokenMs: 0.1, blockSize: 16 };
  const { clock, engine } = setup(profile);
  const chain = chainOf(100); // 1600 prompt tokens in full blocks
  const first = request(engine, 1610, 5, chain).t;
  clock.advanceUntil(() => first.result !== undefined, 10_000);
  const second = request(engine, 1610, 5, chain).t;
  clock.advanceUntil(() => second.result !== undefined, 10_000);
  expect(first.result?.cachedTokens).toBe(0);
  expect(second.result?.cachedTokens).toBe(1600);
  expect(second.result?.ttftMs).toBeCloseTo(10 + 10 * 0.1, 5);
  expect(engine.prefixHits).toBe(1600);
  expect(engine.prefixQueries).toBe(3220);

  const other = setup(profile);
  const moved = request(other.engine, 1610, 5, chain).t;
  other.clock.advanceUntil(() => moved.result !== undefined, 10_000);
  expect(moved.result?.cachedTokens).toBe(0);
  expect(moved.result?.ttftMs).toBeGreaterThan((second.result?.ttftMs as number) * 10);
});

test('a partly shared prefix hits exactly the shared blocks', () => {
  const { clock, engine } = setup();
  const a = request(engine, 800, 1, chainOf(50)).t;
  clock.advanceUntil(() => a.result !== undefined, 10_000);
  const sharedThenDifferent = [...chainOf(30), ...chainOf(20, 7)];
  const b = request(engine, 800, 1, sharedThenDifferent).t;
  clock.advanceUntil(() => b.result !== undefined, 10_000);
  expect(b.result?.cachedTokens).toBe(30 * 16);
});

test('LRU eviction drops the least recently used prefix when the cache is full', () => {
  // 100 blocks of 16 tokens; each request holds 40 prompt blocks + 1 output block while it runs.
  const { clock, engine } = setup({ kvCacheTokens: 1600, blockSize: 16 });
  const run = (chain: number[]) => {
    const r = request(engine, chain.length * 16, 1, chain).t;
    clock.advanceUntil(() => r.result !== undefined, 10_000);
    return r.result as EngineResult;
  };
  run(chainOf(40, 1));
  run(chainOf(40, 2));
  expect(run(chainOf(40, 1)).cachedTokens).toBeGreaterThan(0); // 1 is now most recently used
  run(chainOf(40, 3)); // needs room: evicts 2, the least recently used
  expect(run(chainOf(40, 1)).cachedTokens).toBeGreaterThan(0);
  expect(run(chainOf(40, 2)).cachedTokens).toBe(0);
});

test('a request that does not fit in the KV cache waits until running ones finish', () => {
  const { clock, engine } = setup({ kvCacheTokens: 320, blockSize: 16, prefillPerTokenMs: 0 });
  const a = request(engine, 160, 100).t; // 17 blocks of 20
  const b = request(engine, 160, 100).t;
  clock.advance(13);
  expect(engine.numRunning).toBe(1);
  expect(engine.numWaiting).toBe(1);
  clock.advanceUntil(() => a.result !== undefined && b.result !== undefined, 60_000);
  expect(b.result?.queueMs).toBeGreaterThanOrEqual((a.result?.totalMs as number) - 1);
});

test('streaming requests get their tokens as they are generated, first token at once', () => {
  const { clock, engine } = setup({ decodeBaseMs: 10, decodePerSeqMs: 0, prefillPerTokenMs: 0 });
  const { t } = request(engine, 10, 30, [], true);
  clock.advance(10);
  expect(t.tokens).toBe(1);
  clock.advance(100);
  expect(t.tokens).toBeGreaterThanOrEqual(10);
  expect(t.tokens).toBeLessThan(30);
  clock.advanceUntil(() => t.result !== undefined, 10_000);
  expect(t.tokens).toBe(30);
});

test('cancelling a running request frees its slot for the next one', () => {
  const { clock, engine } = setup({ maxNumSeqs: 1, prefillPerTokenMs: 0 });
  const first = request(engine, 10, 1000);
  const second = request(engine, 10, 5).t;
  clock.advance(50);
  expect(second.result).toBeUndefined();
  if (first.outcome.accepted) first.outcome.cancel();
  clock.advanceUntil(() => second.result !== undefined, 10_000);
  expect(first.t.result).toBeUndefined();
  expect(engine.numRunning).toBe(0);
});

test('reset aborts every request and empties the cache', () => {
  const { clock, engine } = setup({ maxNumSeqs: 1 });
  const running = request(engine, 10, 100, chainOf(1)).t;
  const waiting = request(engine, 10, 100).t;
  clock.advance(5);
  engine.reset('replica outage');
  expect(running.aborted).toBe('replica outage');
  expect(waiting.aborted).toBe('replica outage');
  expect(engine.numRunning + engine.numWaiting).toBe(0);
  expect(engine.kvUsage).toBe(0);
});

test('slowdowns and stalls make the same work take longer, reproducibly', () => {
  const total = (faults: ReplicaProfileInput['faults']) => {
    const { clock, engine } = setup({ prefillPerTokenMs: 0, faults });
    const r = request(engine, 10, 500).t;
    clock.advanceUntil(() => r.result !== undefined, 600_000);
    return r.result?.totalMs as number;
  };
  const normal = total({});
  const slowed = total({ slowdown: { ratePerSecond: 2, factor: 4, durationMs: 1000 } });
  const stalled = total({ stall: { ratePerSecond: 2, durationMs: 500 } });
  expect(slowed).toBeGreaterThan(normal * 1.5);
  expect(stalled).toBeGreaterThan(normal + 500);
  expect(total({ stall: { ratePerSecond: 2, durationMs: 500 } })).toBe(stalled);
});

test('the time scale compresses model time into real time', () => {
  const clock = new ManualClock();
  const engine = new Engine({ profile: replicaProfile({ prefillPerTokenMs: 0 }), clock, timeScale: 0.02, seed: 1 });
  const { t } = request(engine, 10, 100);
  clock.advanceUntil(() => t.result !== undefined, 100_000, 0.1);
  // 100 iterations × 12.08 model ms = 1208 model ms = 24.2 real ms.
  expect(clock.now()).toBeGreaterThan(24);
  expect(clock.now()).toBeLessThan(25);
  expect(t.result?.totalMs).toBeCloseTo(1208, 0);
});

describe('overload', () => {
  // 10 model ms per iteration whatever the batch, no prefill cost: timings below are exact.
  const flat = { decodeBaseMs: 10, decodePerSeqMs: 0, prefillPerTokenMs: 0 };

  test('a request that cannot fit in the whole KV cache is refused at once (context length)', () => {
    // 1000 tokens = 62 whole blocks of 16 = 992 tokens.
    const { engine, rejected } = setup({ kvCacheTokens: 1000, blockSize: 16 });
    expect(request(engine, 900, 93).outcome).toEqual({ accepted: false, reason: 'context_length', limitTokens: 992 });
    expect(request(engine, 900, 92).outcome.accepted).toBe(true);
    expect(rejected).toEqual(['context_length']);
    expect(engine.numWaiting + engine.numRunning).toBe(1);
  });

  test('a full waiting queue is counted as a queue_full rejection', () => {
    const { engine, rejected } = setup({ maxNumSeqs: 1, maxWaiting: 1 });
    const outcomes = [0, 1, 2].map(() => request(engine, 10, 10).outcome);
    expect(outcomes[2]).toEqual({ accepted: false, reason: 'queue_full' });
    expect(rejected).toEqual(['queue_full']);
  });

  test('without kvWaitTimeoutMs the head waits for KV blocks; with it, it fails past the bound (kv_oom)', () => {
    // 20 blocks: A holds 17 for 100 iterations (1000 ms); B needs 7.
    const profile = { ...flat, kvCacheTokens: 320, blockSize: 16 };
    const waits = setup(profile);
    const a1 = request(waits.engine, 160, 100).t;
    const b1 = request(waits.engine, 100, 10).t;
    waits.clock.advanceUntil(() => b1.result !== undefined, 60_000);
    expect(b1.result?.queueMs).toBe(1000);
    expect(a1.result?.totalMs).toBe(1000);
    expect(waits.rejected).toEqual([]);

    const { clock, engine, rejected } = setup({ ...profile, kvWaitTimeoutMs: 50 });
    const a = request(engine, 160, 100).t;
    const b = request(engine, 100, 10).t;
    const c = request(engine, 16, 1).t; // fits beside A once B is gone
    // B first finds the cache full at the iteration starting at 10; waited 50 at 60 (not past the bound), 60
    // at 70: rejected there, and C, behind it, admitted at once.
    clock.advance(65);
    expect(b.rejection).toBeUndefined();
    expect(engine.numWaiting).toBe(2);
    clock.advance(10);
    expect(b.rejection).toEqual({ reason: 'kv_oom', waitedMs: 70, running: false });
    expect(engine.numWaiting).toBe(0);
    clock.advanceUntil(() => a.result !== undefined && c.result !== undefined, 60_000);
    expect(c.result?.queueMs).toBe(70);
    expect(a.result?.totalMs).toBe(1000);
    expect(b.result).toBeUndefined();
    expect(rejected).toEqual(['kv_oom']);
    expect(engine.kvUsage).toBe(0);
  });

  test('queueTimeoutMs drops a request still waiting for a batch slot; one admitted in time runs', () => {
    const { clock, engine, rejected } = setup({ ...flat, maxNumSeqs: 1, queueTimeoutMs: 100 });
    const a = request(engine, 10, 8).t; // runs 0-80
    const b = request(engine, 10, 50).t; // admitted at 80 < 100: runs to the end
    const c = request(engine, 10, 5).t; // still waiting at 100: dropped
    clock.advance(99);
    expect(engine.numWaiting).toBe(1);
    expect(c.rejection).toBeUndefined();
    clock.advance(1);
    expect(c.rejection).toEqual({ reason: 'queue_timeout', waitedMs: 100, running: false });
    expect(engine.numWaiting).toBe(0);
    clock.advanceUntil(() => b.result !== undefined, 60_000);
    expect(a.result?.totalMs).toBe(80);
    expect(b.result?.queueMs).toBe(80);
    expect(b.result?.totalMs).toBe(580);
    expect(c.result).toBeUndefined();
    expect(rejected).toEqual(['queue_timeout']);
  });

  test("a request's deadline drops it while it waits and aborts it while it runs, freeing its KV blocks", () => {
    const { clock, engine, rejected } = setup({ ...flat, maxNumSeqs: 1, queueTimeoutMs: 100 });
    const running = request(engine, 160, 100, chainOf(10), false, 55).t;
    const waiting = request(engine, 10, 5, [], false, 30).t; // the deadline is sooner than the queue timeout
    const next = request(engine, 10, 5).t;
    clock.advance(30);
    expect(waiting.rejection).toEqual({ reason: 'deadline', waitedMs: 30, running: false });
    expect(running.rejection).toBeUndefined();
    clock.advance(25);
    expect(running.rejection).toEqual({ reason: 'deadline', waitedMs: 55, running: true });
    expect(engine.kvUsage).toBe(0);
    // The slot is free: the next request joins at the next iteration boundary (60) and runs 5 iterations.
    clock.advanceUntil(() => next.result !== undefined, 60_000);
    expect(next.result?.queueMs).toBe(60);
    expect(next.result?.totalMs).toBe(110);
    expect(running.result).toBeUndefined();
    expect(rejected).toEqual(['deadline', 'deadline']);
    expect(engine.numRunning + engine.numWaiting).toBe(0);
  });

  test('a request admitted before its queue timeout keeps its later deadline', () => {
    const { clock, engine } = setup({ ...flat, maxNumSeqs: 1, queueTimeoutMs: 100 });
    const a = request(engine, 10, 5).t; // 0-50
    const b = request(engine, 10, 100, [], false, 200).t; // admitted at 50, deadline 200
    clock.advance(199);
    expect(b.rejection).toBeUndefined();
    clock.advance(1);
    expect(a.result?.totalMs).toBe(50);
    expect(b.rejection).toEqual({ reason: 'deadline', waitedMs: 200, running: true });
  });

  test('a finished request leaves no timer behind, and reset cancels pending ones', () => {
    /** Counts timers set and neither fired nor cancelled. */
    class CountingClock extends ManualClock {
      live = 0;
      override setTimer(fn: () => void, delayMs: number) {
        this.live++;
        let open = true;
        const close = () => {
          if (open) this.live--;
          open = false;
        };
        const timer = super.setTimer(() => {
          close();
          fn();
        }, delayMs);
        return {
          cancel: () => {
            close();
            timer.cancel();
          },
        };
      }
    }
    const clock = new CountingClock();
    const engine = new Engine({
      profile: replicaProfile({ ...flat, queueTimeoutMs: 100 }),
      clock,
      timeScale: 1,
      seed: 1,
    });
    const done = request(engine, 10, 2, [], false, 1000).t;
    clock.advanceUntil(() => done.result !== undefined, 1000);
    expect(clock.live).toBe(0);
    const pending = request(engine, 10, 500, [], false, 1000).t;
    expect(clock.live).toBeGreaterThan(0);
    engine.reset('replica outage');
    expect(clock.live).toBe(0);
    clock.advance(2000);
    expect(done.rejection).toBeUndefined();
    expect(pending.rejection).toBeUndefined();
    expect(pending.aborted).toBe('replica outage');
  });
});

test('busy time counts model time with a sequence in the batch, not idle time between requests', () => {
  const { clock, engine } = setup({ decodeBaseMs: 10, decodePerSeqMs: 0, prefillPerTokenMs: 0 });
  expect(engine.busyMs).toBe(0);
  const first = request(engine, 10, 5).t;
  clock.advanceUntil(() => first.result !== undefined, 10_000);
  // Five iterations of 10 ms: one that prefills and yields the first token, four that decode.
  expect(engine.busyMs).toBeCloseTo(50, 5);
  // Idle time does not count.
  clock.advance(1000);
  expect(engine.busyMs).toBeCloseTo(50, 5);
  // Two overlapping requests: busy while either runs, not the sum of both.
  const a = request(engine, 10, 3).t;
  const b = request(engine, 10, 3).t;
  clock.advanceUntil(() => a.result !== undefined && b.result !== undefined, 10_000);
  expect(engine.busyMs).toBeGreaterThanOrEqual(50 + 30 - 1e-9);
  expect(engine.busyMs).toBeLessThanOrEqual(50 + 40 + 1e-9);
});

test('busy time is in model ms whatever the time scale', () => {
  const clock = new ManualClock();
  const profile = replicaProfile({ decodeBaseMs: 10, decodePerSeqMs: 0, prefillPerTokenMs: 0 });
  const engine = new Engine({ profile, clock, timeScale: 0.02, seed: 1 });
  const { t } = request(engine, 10, 4);
  clock.advanceUntil(() => t.result !== undefined, 10_000);
  expect(engine.busyMs).toBeCloseTo(40, 5);
});

describe('scheduling policy', () => {
  // One sequence at a time, 10 model ms per iteration: the order of admission is the order of finishing.
  const oneAtATime = { maxNumSeqs: 1, decodeBaseMs: 10, decodePerSeqMs: 0, prefillPerTokenMs: 0 };

  function finishOrder(schedulingPolicy: 'fcfs' | 'priority', priorities: number[]): number[] {
    const { clock, engine } = setup({ ...oneAtATime, schedulingPolicy });
    const order: number[] = [];
    // The first request starts at once; the rest wait and are admitted one by one.
    priorities.forEach((priority, i) => {
      const req: EngineRequest = {
        promptTokens: 10,
        blockChain: [],
        outputTokens: 2,
        priority,
        onFinish: () => order.push(i),
      };
      expect(engine.submit(req).accepted).toBe(true);
    });
    clock.advanceUntil(() => order.length === priorities.length, 100_000);
    return order;
  }

  test("'priority' admits the lowest value first, arrival order among equals (vLLM's semantics)", () => {
    expect(finishOrder('priority', [5, 3, 9, 3, -1, 5])).toEqual([0, 4, 1, 3, 5, 2]);
  });

  test("'fcfs' (the default) keeps arrival order whatever the priorities", () => {
    expect(finishOrder('fcfs', [5, 3, 9, 3, -1, 5])).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test('a cancelled waiting request is skipped under both policies', () => {
    for (const schedulingPolicy of ['fcfs', 'priority'] as const) {
      const { clock, engine } = setup({ ...oneAtATime, schedulingPolicy });
      const running = request(engine, 10, 2).t;
      const waiting = engine.submit({
        promptTokens: 10,
        blockChain: [],
        outputTokens: 2,
        priority: 0,
        onFinish: () => {},
      });
      const after = request(engine, 10, 2).t;
      if (waiting.accepted) waiting.cancel();
      expect(engine.numWaiting).toBe(1);
      clock.advanceUntil(() => after.result !== undefined, 10_000);
      expect(running.result).toBeDefined();
      expect(engine.numWaiting + engine.numRunning).toBe(0);
    }
  });
  test('waiting requests are counted by priority until admitted, cancelled or timed out', () => {
    const { clock, engine } = setup({ ...oneAtATime, schedulingPolicy: 'priority', queueTimeoutMs: 25 });
    const submit = (priority: number) =>
      engine.submit({ promptTokens: 10, blockChain: [], outputTokens: 2, priority, onFinish: () => {} });
    const byPriority = () => Object.fromEntries(engine.numWaitingByPriority);
    submit(5); // runs at once: not waiting
    const cancelled = submit(1);
    submit(1);
    submit(5);
    expect(byPriority()).toEqual({ 1: 2, 5: 1 });
    if (cancelled.accepted) cancelled.cancel();
    expect(byPriority()).toEqual({ 1: 1, 5: 1 });
    // 10 ms per request: the priority-1 one is admitted at 10 ms; the priority-5 one times out at 25 ms.
    clock.advanceUntil(() => engine.numWaiting === 0, 10_000);
    expect(byPriority()).toEqual({});
  });
});
