/**
 * The local controller's dispatcher: where a worker's model calls wait for their replica, and which replica
 * they go to. Pure logic over an injected clock (no I/O); the local controller puts it on the request path.
 *
 * Per (agent, replica): calls in flight, a limit on them, and a heap of waiting calls ordered by priority (1
 * first … 5) then arrival. Late binding: a waiting call's target is recomputed whenever what decides it
 * changes (installed decisions, replica health), so a call leaves for wherever policy says at that moment;
 * that is how `migrate` moves pending work. Each acquire and release costs O(log waiting) plus O(replicas of
 * the agent); only `install` and health changes look at every waiting call.
 */
import type { Clock } from '../../common/clock';
import { realClock } from '../../common/clock';
import { routeHash } from '../../common/route-hash';
import type { CallLease, CallOutcome, GatedCall } from '../../stubs/future-context';
import {
  defaultPriority,
  emptyDecisions,
  type CallRecord,
  type Decisions,
  type ReplicaLoad,
  type WaitingCall,
} from '../protocol';
import { IndexedHeap, type HeapItem } from './indexed-heap';
import {
  localDecisionSeconds,
  localInFlightCalls,
  localQueueWait,
  localTelemetryDropped,
  localWaitingCalls,
} from './metrics';

export interface DispatcherOptions {
  /** Monotonic time of queue and service times and health back-off (only `now()` is used). @default realClock */
  clock?: Clock;
  /** Epoch ms, for the timestamps of reported calls. @default Date.now */
  epochNow?: () => number;
  /** Sessions whose last replica is remembered (least recently used forgotten first). @default 10000 */
  stickyCapacity?: number;
  /** Failures in a row (replica unavailable) after which a replica is avoided. @default 3 */
  failureThreshold?: number;
  /** First back-off of an unhealthy replica; doubles per trip in a row, up to `maxBackoffMs`. @default 2000 */
  backoffMs?: number;
  /** @default 30000 */
  maxBackoffMs?: number;
  /** Finished calls kept for the next report; more are dropped and counted. @default 10000 */
  maxRecords?: number;
}

interface AgentState {
  replicas: readonly string[];
  maxInFlight: number | undefined;
}

interface ReplicaState {
  agent: string;
  id: string;
  inFlight: number;
  waiting: IndexedHeap<Waiter>;
  failuresInRow: number;
  /** Consecutive times it was marked unhealthy (back-off doubles with each). */
  trips: number;
  unhealthyUntil: number;
  waitingGauge: { set(v: number): void };
  inFlightGauge: { set(v: number): void };
}

interface Waiter extends HeapItem {
  seq: number;
  call: GatedCall;
  /** routeHash(session), computed once: re-targeting reads it for every waiting call. */
  hash: number;
  priority: number;
  replica: ReplicaState;
  since: number;
  sinceEpoch: number;
  resolve(lease: CallLease): void;
  reject(reason: unknown): void;
  signal: AbortSignal;
  onAbort: () => void;
}

// Label children resolved once: an observation on the request path is then one bucket increment.
const acquireCost = localDecisionSeconds.labels({ op: 'acquire' });
const releaseCost = localDecisionSeconds.labels({ op: 'release' });
const installCost = localDecisionSeconds.labels({ op: 'install' });

const byPriorityThenArrival = (a: Waiter, b: Waiter): boolean =>
  a.priority !== b.priority ? a.priority < b.priority : a.seq < b.seq;

/** The dispatcher of one worker process; see the module comment. */
export class Dispatcher {
  private readonly clock: Clock;
  private readonly epochNow: () => number;
  private readonly stickyCapacity: number;
  private readonly failureThreshold: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxRecords: number;
  private readonly agents = new Map<string, AgentState>();
  private readonly replicas = new Map<string, ReplicaState>();
  /** agent \0 session → replica it last went to on this node; Map order is recency. */
  private readonly sticky = new Map<string, string>();
  private installed: Decisions = emptyDecisions;
  /** Earliest end of an unhealthy replica's back-off not yet acted on (then waiting calls are re-targeted). */
  private recoveryAt = Infinity;
  private records: CallRecord[] = [];
  private droppedRecords = 0;
  private seq = 0;

  constructor(options: DispatcherOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.epochNow = options.epochNow ?? Date.now;
    this.stickyCapacity = options.stickyCapacity ?? 10_000;
    this.failureThreshold = options.failureThreshold ?? 3;
    this.backoffMs = options.backoffMs ?? 2000;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.maxRecords = options.maxRecords ?? 10_000;
  }

  /** The decisions in force (version 0: none installed). */
  get decisions(): Decisions {
    return this.installed;
  }

  /**
   * Waits for a slot and resolves with the lease (replica, priority). A call whose `signal` aborts while it
   * waits leaves the queue and rejects with the signal's reason.
   */
  acquire(call: GatedCall, signal: AbortSignal): Promise<CallLease> {
    if (signal.aborted) return Promise.reject(abortReason(signal));
    const t0 = performance.now();
    this.recoverDue();
    this.learnAgent(call);
    return new Promise<CallLease>((resolve, reject) => {
      const hash = routeHash(call.sessionId);
      const waiter: Waiter = {
        heapIndex: -1,
        seq: this.seq++,
        call,
        hash,
        priority: this.priorityOf(call),
        replica: this.replicaState(call.agent, this.targetOf(call, hash)),
        since: this.clock.now(),
        sinceEpoch: this.epochNow(),
        resolve,
        reject,
        signal,
        onAbort: () => this.abandon(waiter),
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
      this.enqueue(waiter);
      this.pump(waiter.replica);
      acquireCost.observe((performance.now() - t0) / 1000);
    });
  }

  /**
   * Installs the global controller's decisions unless older than the installed ones (returns whether it did),
   * then re-targets and re-orders every waiting call and sends what the new limits allow.
   */
  install(decisions: Decisions): boolean {
    if (decisions.version < this.installed.version) return false;
    const t0 = performance.now();
    this.installed = decisions;
    // Managed agents' replicas come from the decisions: new ones are reported from now on, before any call.
    for (const [agent, ids] of Object.entries(decisions.replicas)) for (const id of ids) this.replicaState(agent, id);
    this.retargetAll();
    for (const r of [...this.replicas.values()]) this.pruneIfGone(r);
    installCost.observe((performance.now() - t0) / 1000);
    return true;
  }

  /** The calls finished since the last drain, and how many were dropped because the buffer was full. */
  drainCalls(): { calls: CallRecord[]; dropped: number } {
    const out = { calls: this.records, dropped: this.droppedRecords };
    this.records = [];
    this.droppedRecords = 0;
    return out;
  }

  /** Every call waiting now, with the replica it would go to. */
  waitingCalls(): WaitingCall[] {
    const out: WaitingCall[] = [];
    for (const r of this.replicas.values()) {
      if (!isReal(r)) continue;
      for (const w of r.waiting.values()) {
        out.push({
          ...(w.call.futureId !== undefined && { futureId: w.call.futureId }),
          workflowId: w.call.workflowId,
          sessionId: w.call.sessionId,
          agent: w.call.agent,
          replica: r.id,
          priority: w.priority,
          since: w.sinceEpoch,
          promptTokens: w.call.promptTokens,
        });
      }
    }
    return out;
  }

  /** Every replica this node has seen, with its load. */
  replicaLoads(): ReplicaLoad[] {
    const now = this.clock.now();
    return [...this.replicas.values()].filter(isReal).map((r) => {
      const limit = this.limitOf(r);
      return {
        agent: r.agent,
        replica: r.id,
        inFlight: r.inFlight,
        waiting: r.waiting.size,
        limit: Number.isFinite(limit) ? limit : null,
        // The configured per-replica limit stands for the replica's capacity (the global controller splits it
        // over the nodes that use the replica); none configured: unknown.
        capacity: this.capacityOf(r),
        healthy: r.unhealthyUntil <= now,
      };
    });
  }

  /** The replica (base URL) a new call of `session` to `agent` would go to now; undefined for an unknown agent. */
  routeOf(agent: string, session: string): string | undefined {
    const state = this.agents.get(agent);
    const target = state && this.targetOf({ agent, sessionId: session, replicas: state.replicas }, routeHash(session));
    return target === noReplica ? undefined : target;
  }

  private learnAgent(call: GatedCall): void {
    const known = this.agents.get(call.agent);
    if (known && known.replicas === call.replicas && known.maxInFlight === call.maxInFlight) return;
    if (known && known.maxInFlight === call.maxInFlight && sameList(known.replicas, call.replicas)) {
      known.replicas = call.replicas;
      return;
    }
    this.agents.set(call.agent, { replicas: call.replicas, maxInFlight: call.maxInFlight });
    // Every replica of the agent is reported from now on, used or not: the global controller only routes
    // over replicas it knows, and one never reported would never be chosen (all load on the first one used).
    for (const id of this.installed.replicas[call.agent] ?? call.replicas) this.replicaState(call.agent, id);
  }

  private replicaState(agent: string, id: string): ReplicaState {
    const key = `${agent}\u0000${id}`;
    let r = this.replicas.get(key);
    if (!r) {
      r = {
        agent,
        id,
        inFlight: 0,
        waiting: new IndexedHeap(byPriorityThenArrival),
        failuresInRow: 0,
        trips: 0,
        unhealthyUntil: -Infinity,
        waitingGauge: localWaitingCalls.labels({ agent, replica: id }),
        inFlightGauge: localInFlightCalls.labels({ agent, replica: id }),
      };
      this.replicas.set(key, r);
    }
    return r;
  }

  private capacityOf(r: ReplicaState): number | null {
    return this.agents.get(r.agent)?.maxInFlight ?? null;
  }

  private limitOf(r: ReplicaState): number {
    if (!isReal(r)) return 0;
    return this.installed.limits[r.id] ?? this.agents.get(r.agent)?.maxInFlight ?? Infinity;
  }

  private isHealthy(agent: string, id: string): boolean {
    const r = this.replicas.get(`${agent}\u0000${id}`);
    return !r || r.unhealthyUntil <= this.clock.now();
  }

  /** Priority: the session's for this agent, else for every agent, else the future's own, else 3. */
  private priorityOf(call: GatedCall): number {
    const bySession = this.installed.priorities[call.sessionId];
    return bySession?.[call.agent] ?? bySession?.['*'] ?? call.priority ?? defaultPriority;
  }

  /** Pin (if healthy), else where the session ran last (if healthy and still weighted in), else weighted choice. */
  private targetOf(call: Pick<GatedCall, 'agent' | 'sessionId' | 'replicas'>, h: number): string {
    const { agent, sessionId } = call;
    // A managed agent's replicas are the decisions' (capacity follows load); none serving now: the call waits.
    const replicas = this.installed.replicas[agent] ?? call.replicas;
    if (replicas.length === 0) return noReplica;
    const pin = this.installed.pins[agent]?.[sessionId];
    if (pin !== undefined && replicas.includes(pin) && this.isHealthy(agent, pin)) return pin;
    const weights = this.installed.weights[agent];
    const last = this.sticky.get(`${agent}\u0000${sessionId}`);
    if (
      last !== undefined &&
      replicas.includes(last) &&
      this.isHealthy(agent, last) &&
      (weights === undefined || (weights[last] ?? 0) > 0)
    ) {
      return last;
    }
    if (weights !== undefined) {
      let total = 0;
      for (const r of replicas) if (this.isHealthy(agent, r)) total += weights[r] ?? 0;
      if (total > 0) {
        // The session's place on [0, total): a session keeps its replica while the weights stay.
        let point = (mix(h) / 2 ** 32) * total;
        for (const r of replicas) {
          if (!this.isHealthy(agent, r)) continue;
          point -= weights[r] ?? 0;
          if (point < 0) return r;
        }
      }
    }
    // The static binding's choice, so that with no decisions Nalar routes like the baseline.
    const first = replicas[h % replicas.length] as string;
    if (this.isHealthy(agent, first)) return first;
    const healthy = replicas.filter((r) => this.isHealthy(agent, r));
    return healthy.length > 0 ? (healthy[h % healthy.length] as string) : first;
  }

  private enqueue(w: Waiter): void {
    w.replica.waiting.push(w);
    w.replica.waitingGauge.set(w.replica.waiting.size);
  }

  /** Sends waiting calls of `r` while it has room. */
  private pump(r: ReplicaState): void {
    const limit = this.limitOf(r);
    while (r.inFlight < limit) {
      const w = r.waiting.pop();
      if (!w) break;
      this.dispatch(w);
    }
    r.waitingGauge.set(r.waiting.size);
  }

  private dispatch(w: Waiter): void {
    const r = w.replica;
    w.signal.removeEventListener('abort', w.onAbort);
    r.inFlight++;
    r.inFlightGauge.set(r.inFlight);
    this.remember(`${w.call.agent}\u0000${w.call.sessionId}`, r.id);
    const sent = this.clock.now();
    const queueMs = sent - w.since;
    localQueueWait.observe({ agent: w.call.agent }, queueMs / 1000);
    let released = false;
    w.resolve({
      replica: r.id,
      priority: w.priority,
      queueMs,
      release: (outcome: CallOutcome) => {
        if (released) return;
        released = true;
        this.release(w, r, queueMs, sent, outcome);
      },
    });
  }

  private release(w: Waiter, r: ReplicaState, queueMs: number, sent: number, outcome: CallOutcome): void {
    const t0 = performance.now();
    this.recoverDue();
    r.inFlight--;
    r.inFlightGauge.set(r.inFlight);
    const call = w.call;
    this.record({
      ...(call.futureId !== undefined && { futureId: call.futureId }),
      workflowId: call.workflowId,
      sessionId: call.sessionId,
      agent: call.agent,
      replica: r.id,
      priority: w.priority,
      queueMs,
      serviceMs: Math.max(0, this.clock.now() - sent),
      ok: outcome.ok,
      ...(outcome.errorCode !== undefined && { errorCode: outcome.errorCode }),
      ...(outcome.promptTokens !== undefined && { promptTokens: outcome.promptTokens }),
      ...(outcome.cachedTokens !== undefined && { cachedTokens: outcome.cachedTokens }),
      ...(outcome.ttftMs !== undefined && { ttftMs: outcome.ttftMs }),
      ...(call.prefixHash !== undefined && { prefixHash: call.prefixHash }),
      at: this.epochNow(),
    });
    if (outcome.replicaUnavailable) this.failed(r);
    else if (outcome.ok) {
      r.failuresInRow = 0;
      r.trips = 0;
    }
    this.pump(r);
    this.pruneIfGone(r);
    releaseCost.observe((performance.now() - t0) / 1000);
  }

  private record(rec: CallRecord): void {
    if (this.records.length >= this.maxRecords) {
      this.droppedRecords++;
      localTelemetryDropped.inc({ kind: 'calls' });
      return;
    }
    this.records.push(rec);
  }

  /** A failure that says the replica is not serving: after `failureThreshold` in a row, avoid it for a while. */
  private failed(r: ReplicaState): void {
    r.failuresInRow++;
    if (r.failuresInRow < this.failureThreshold) return;
    r.failuresInRow = 0;
    r.trips++;
    const backoff = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (r.trips - 1));
    r.unhealthyUntil = this.clock.now() + backoff;
    this.recoveryAt = Math.min(this.recoveryAt, r.unhealthyUntil);
    // Its waiting calls go elsewhere now; when it is back, sessions that belong there return (recoverDue).
    this.retargetAll();
  }

  /**
   * Re-targets waiting calls once a back-off has ended. Checked at each acquire and release rather than on a
   * timer, so that no timer keeps a stopping worker alive; a waiting call always waits for some release.
   */
  private recoverDue(): void {
    const now = this.clock.now();
    if (now < this.recoveryAt) return;
    this.recoveryAt = Infinity;
    for (const r of this.replicas.values())
      if (r.unhealthyUntil > now) this.recoveryAt = Math.min(this.recoveryAt, r.unhealthyUntil);
    this.retargetAll();
  }

  /**
   * Forgets a replica that left its managed agent once nothing of this node is on it or waiting for it, so it
   * is no longer reported under that agent (the global controller drains it when every node let go).
   */
  private pruneIfGone(r: ReplicaState): void {
    const listed = this.installed.replicas[r.agent];
    if (listed === undefined || listed.includes(r.id) || r.inFlight > 0 || r.waiting.size > 0) return;
    if (!isReal(r) && listed.length === 0) return;
    this.replicas.delete(`${r.agent}\u0000${r.id}`);
    r.waitingGauge.set(0);
    r.inFlightGauge.set(0);
  }

  private abandon(w: Waiter): void {
    if (w.replica.waiting.remove(w)) {
      w.replica.waitingGauge.set(w.replica.waiting.size);
      w.reject(abortReason(w.signal));
    }
  }

  private remember(key: string, replica: string): void {
    this.sticky.delete(key);
    this.sticky.set(key, replica);
    if (this.sticky.size > this.stickyCapacity) {
      const oldest = this.sticky.keys().next();
      if (!oldest.done) this.sticky.delete(oldest.value);
    }
  }

  /**
   * Recomputes target and priority of every waiting call, moves the ones that changed (O(log n) each), then
   * sends what each replica has room for.
   */
  private retargetAll(): void {
    const changed: Waiter[] = [];
    for (const r of this.replicas.values()) {
      for (const w of r.waiting.values()) {
        const priority = this.priorityOf(w.call);
        const target = this.targetOf(w.call, w.hash);
        if (priority !== w.priority || target !== r.id) changed.push(w);
      }
    }
    for (const w of changed) {
      w.replica.waiting.remove(w);
      w.priority = this.priorityOf(w.call);
      w.replica = this.replicaState(w.call.agent, this.targetOf(w.call, w.hash));
      w.replica.waiting.push(w);
    }
    for (const r of this.replicas.values()) this.pump(r);
  }
}

/** Where calls of a managed agent with no serving replica wait (never sent, never reported). */
const noReplica = '';

const isReal = (r: ReplicaState): boolean => r.id !== noReplica;

/** MurmurHash3's finaliser: FNV's high bits are poorly spread for short keys, and weights read them. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('the call was cancelled while it waited');
}
