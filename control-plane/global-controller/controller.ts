/**
 * The global control loop. Every period: merge the reports that arrived into the view (collection), run the
 * installed policies in order over it (policy), turn what they did into the next decisions, bump the version
 * only when something changed, and wake every long poll. Level-triggered like a Kubernetes controller: the
 * decisions are the whole desired state, recomputed every round.
 *
 * - Pins (`route(session, agent, replica)`, `migrate`) persist across rounds until a policy changes them or
 *   the session ends; weights and priorities are the round's (a policy that stops setting them withdraws
 *   them); per-node limits are each replica's capacity split over the live nodes that report it (at least 1).
 * - A policy that throws or runs past its budget is skipped for that round: its actions are discarded, it is
 *   counted, logged once per kind, and reported by {@link GlobalController.status}; the other policies still
 *   apply and the loop never stops. JavaScript cannot pre-empt a synchronous call, so an overrun is found when
 *   the policy returns (a policy that never returns blocks the loop; the budget guards against slow ones).
 * - A restarted controller starts at version 0 with an empty view; the first report of a node that installed
 *   version n makes the next round publish version n + 1, which every node takes (they ignore older ones).
 * - `runRound()` is public and synchronous, with an injected clock, so benchmarks and tests drive rounds
 *   themselves; `start()` runs it on a timer.
 */
import { configDefaults, durationMs } from '../../common/config';
import { realClock, type Clock, type Timer } from '../../common/clock';
import { errorMessage } from '../../common/errors';
import { createLogger, type Logger } from '../../common/log';
import { emptyDecisions, type Decisions, type Report } from '../protocol';
import type { InstalledPolicy } from './policy-config';
import { PrimitivesRecorder, type CapacityAction, type PolicyAction } from './recorder';
import { decisionsVersionGauge, nodesDropped, policySkips, reportsReceived, roundSeconds, viewSize } from './metrics';
import { ControlView, type MergeOutcome } from './view';

/** Default of {@link GlobalControllerOptions.periodMs}: NALAR_CONTROL_PERIOD's default. */
export const defaultControlPeriodMs = durationMs(configDefaults.controlPeriod) as number;
/** Default share of the period one policy may take ({@link GlobalControllerOptions.policyBudgetMs}). */
export const defaultPolicyBudgetShare = 0.2;

/**
 * What carries out the capacity primitives (control-plane/capacity/manager.ts): the controller hands it the
 * round's `provision`, `kill`, `reassign` and `scaleWorkers` calls, and publishes its routable replicas.
 */
export interface CapacityActuator {
  /** Carries out (asynchronously) what the round's policies asked; refusals are its to count and log. */
  apply(actions: readonly CapacityAction[]): void;
  /** The serving replicas of every managed agent ({@link Decisions.replicas}). */
  routable(): Record<string, string[]>;
  /** After every round, with the decisions in force (a replica out of routing can drain once nodes have them). */
  settle(published: Decisions): void;
}

/** Options of {@link GlobalController}. */
export interface GlobalControllerOptions {
  /** Policies run every round, in order. */
  policies: readonly InstalledPolicy[];
  /** The control period. @default NALAR_CONTROL_PERIOD's default (250 ms) */
  periodMs?: number;
  /** Longest one policy may take in a round before its actions are discarded. @default 20% of the period */
  policyBudgetMs?: number;
  /** See {@link ViewOptions.retentionMs}. @default 60000 */
  retentionMs?: number;
  /** See {@link ViewOptions.silentPeriods}. @default 3 */
  silentPeriods?: number;
  /** Times rounds and policies, and runs the loop's timer and long-poll timeouts. @default realClock */
  clock?: Clock;
  /** Epoch ms: the snapshot's `now`, node silence, retention, `issuedAt`. @default Date.now */
  epochNow?: () => number;
  /** @default a logger named `controller` at info */
  log?: Logger;
  /** Carries out capacity primitives; without one, policies' capacity calls are refused. */
  capacity?: CapacityActuator;
}

/** How long the last round took, by phase (ms on the injected clock). */
export interface RoundTimings {
  /** Epoch ms of the round. */
  readonly at: number;
  /** Merging the reports that arrived, dropping silent nodes and expired workflows. */
  readonly collectMs: number;
  /** Running the policies and building the decisions. */
  readonly policyMs: number;
  readonly totalMs: number;
  /** Reports merged in the round. */
  readonly reports: number;
  /** Whether the round produced a new decisions version. */
  readonly changed: boolean;
}

/** Why a policy was skipped. */
export interface PolicySkip {
  readonly policy: string;
  readonly reason: 'error' | 'overrun';
  readonly message: string;
  /** Epoch ms of the round. */
  readonly at: number;
}

/** What GET /v1/policy shows. */
export interface ControllerStatus {
  readonly policies: readonly { name: string; params: unknown; errors: number; overruns: number }[];
  readonly periodMs: number;
  readonly policyBudgetMs: number;
  readonly decisions: Decisions;
  readonly lastRound?: RoundTimings;
  /** Policies skipped in the last round. */
  readonly skippedLastRound: readonly PolicySkip[];
  /** The latest skip of each policy that was ever skipped. */
  readonly lastSkips: readonly PolicySkip[];
  readonly nodes: readonly { id: string; lastSeq: number; decisionsVersion: number; lastReportAt: number }[];
}

interface Waiter {
  after: number;
  resolve: (d: Decisions | undefined) => void;
  timer: Timer;
}

type Nested<T> = Record<string, Record<string, T>>;

function sameNested<T>(a: Nested<T>, b: Nested<T>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    const x = a[k] as Record<string, T>;
    const y = b[k];
    if (y === undefined || !sameFlat(x, y)) return false;
  }
  return true;
}

function sameFlat<T>(a: Record<string, T>, b: Record<string, T>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}

function sameLists(a: Record<string, readonly string[]>, b: Record<string, readonly string[]>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k]?.join('\n') === b[k]?.join('\n'));
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** The global controller: a view, the installed policies and the decisions they produce. */
export class GlobalController {
  readonly view: ControlView;
  readonly periodMs: number;
  readonly policyBudgetMs: number;
  private policies: readonly InstalledPolicy[];
  private readonly clock: Clock;
  private readonly epochNow: () => number;
  private readonly log: Logger;
  private pending: Report[] = [];
  private current: Decisions = emptyDecisions;
  /** Pins in force, changed in place (they persist; copying them every round would cost per session). */
  private readonly pins: Nested<string> = {};
  private waiters = new Set<Waiter>();
  private readonly publishListeners = new Set<(previous: Decisions, next: Decisions) => void>();
  private lastRound: RoundTimings | undefined;
  private skippedLastRound: PolicySkip[] = [];
  private readonly lastSkips = new Map<string, PolicySkip>();
  private readonly counts = new Map<string, { errors: number; overruns: number }>();
  private readonly logged = new Set<string>();
  private timer: Timer | undefined;
  private json: { version: number; text: string } | undefined;
  private capacity: CapacityActuator | undefined;

  constructor(options: GlobalControllerOptions) {
    this.periodMs = options.periodMs ?? defaultControlPeriodMs;
    this.policyBudgetMs = options.policyBudgetMs ?? this.periodMs * defaultPolicyBudgetShare;
    this.policies = options.policies;
    this.clock = options.clock ?? realClock;
    this.epochNow = options.epochNow ?? Date.now;
    this.log = options.log ?? createLogger('controller');
    this.capacity = options.capacity;
    this.view = new ControlView({
      periodMs: this.periodMs,
      ...(options.retentionMs !== undefined && { retentionMs: options.retentionMs }),
      ...(options.silentPeriods !== undefined && { silentPeriods: options.silentPeriods }),
    });
  }

  /** The decisions in force. */
  get decisions(): Decisions {
    return this.current;
  }

  /** The decisions in force as JSON, serialised once per version (every node's long poll gets the same text). */
  decisionsJson(): string {
    if (this.json?.version !== this.current.version) {
      this.json = { version: this.current.version, text: JSON.stringify(this.current) };
    }
    return this.json.text;
  }

  /**
   * Queues a (validated) report for the next round; returns the newest decisions version. The queue needs no
   * bound of its own: rounds run on the same thread as the server, so between two rounds it holds at most
   * what the nodes sent in one period (a round that blocks also stops the server from taking reports).
   */
  submit(report: Report): number {
    this.pending.push(report);
    return this.current.version;
  }

  /** Sets what carries out capacity primitives (a server wires it after the controller exists). */
  setCapacity(capacity: CapacityActuator | undefined): void {
    this.capacity = capacity;
  }

  /** The installed policies. */
  get installed(): readonly InstalledPolicy[] {
    return this.policies;
  }

  /** Replaces the policy list; the next round runs the new one. */
  setPolicies(policies: readonly InstalledPolicy[]): void {
    this.policies = policies;
    this.log.info('policies installed', { policies: policies.map((p) => p.name).join(',') || 'none' });
  }

  /**
   * Resolves with the decisions once a version newer than `after` exists (at once if it does), or with
   * undefined after `waitMs` or when `signal` aborts.
   */
  waitForDecisions(after: number, waitMs: number, signal?: AbortSignal): Promise<Decisions | undefined> {
    if (this.current.version > after) return Promise.resolve(this.current);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        after,
        resolve: (d) => {
          waiter.timer.cancel();
          this.waiters.delete(waiter);
          resolve(d);
        },
        timer: this.clock.setTimer(() => waiter.resolve(undefined), waitMs),
      };
      this.waiters.add(waiter);
      signal?.addEventListener('abort', () => waiter.resolve(undefined), { once: true });
    });
  }

  /**
   * Calls `listener` with the previous and the new decisions whenever a round publishes a new version (the
   * priority signaller takes priorities into Temporal this way); returns the unsubscribe function. A listener
   * that throws is logged, never stops the round.
   */
  onPublish(listener: (previous: Decisions, next: Decisions) => void): () => void {
    this.publishListeners.add(listener);
    return () => this.publishListeners.delete(listener);
  }

  /** One round: collect, run policies, publish. Never throws for a policy's fault. */
  runRound(): RoundTimings {
    const start = this.clock.now();
    const now = this.epochNow();
    const view = this.view;
    view.setNow(now);
    const reports = this.pending;
    this.pending = [];
    let newestInstalled = 0;
    for (const report of reports) {
      newestInstalled = Math.max(newestInstalled, report.decisionsVersion);
      const outcome: MergeOutcome = view.merge(report, now);
      reportsReceived.inc({ outcome });
      if (outcome === 'restarted') this.log.info('node restarted; its state is rebuilt', { node: report.node });
    }
    const expiry = view.expire(now);
    for (const node of expiry.nodesDropped) {
      this.log.warn(`node silent for ${view.silentPeriods} periods: dropped with its waiting calls`, { node });
    }
    nodesDropped.inc(expiry.nodesDropped.length);
    let changed = false;
    for (const session of expiry.sessionsEnded) {
      for (const agent in this.pins) {
        const byAgent = this.pins[agent] as Record<string, string>;
        if (session in byAgent) {
          delete byAgent[session];
          changed = true;
        }
      }
    }
    const collected = this.clock.now();

    const weights: Nested<number> = {};
    const priorities: Nested<number> = {};
    const skipped: PolicySkip[] = [];
    const capacityActions: CapacityAction[] = [];
    for (const installed of this.policies) {
      const actions = this.runPolicy(installed, now, skipped);
      if (!actions) continue;
      for (const action of actions) {
        if (action.kind === 'pin') {
          const byAgent = (this.pins[action.agent] ??= {});
          if (byAgent[action.session] !== action.replica) {
            byAgent[action.session] = action.replica;
            changed = true;
          }
        } else if (action.kind === 'weights') {
          weights[action.agent] = { ...action.weights };
        } else if (action.kind === 'priority') {
          (priorities[action.session] ??= {})[action.agent] = action.value;
        } else {
          capacityActions.push(action);
        }
      }
    }
    for (const agent in this.pins) if (Object.keys(this.pins[agent] as object).length === 0) delete this.pins[agent];
    if (capacityActions.length > 0) this.capacity?.apply(capacityActions);
    const replicas = this.capacity?.routable() ?? {};
    const limits = this.limits();
    const names = this.policies.map((p) => p.name);
    const previous = this.current;
    // A node holding a newer version than ours has outlived a restart of this controller: it ignores any
    // version at or below its own, so publish one above it (level-triggered: the whole state, rebuilt).
    const behind = newestInstalled > previous.version;
    changed ||=
      behind ||
      names.join('\n') !== previous.policies.join('\n') ||
      !sameNested(weights, previous.weights) ||
      !sameNested(priorities, previous.priorities) ||
      !sameFlat(limits, previous.limits) ||
      !sameLists(replicas, previous.replicas);
    if (changed) {
      this.current = {
        version: Math.max(previous.version, newestInstalled) + 1,
        policies: names,
        issuedAt: now,
        pins: this.pins,
        weights,
        priorities,
        limits,
        replicas,
      };
      view.setDecisions(this.current);
      decisionsVersionGauge.set(this.current.version);
      for (const waiter of this.waiters) if (this.current.version > waiter.after) waiter.resolve(this.current);
      for (const listener of this.publishListeners) {
        try {
          listener(previous, this.current);
        } catch (err) {
          this.log.warn(`a decisions listener failed: ${errorMessage(err)}`);
        }
      }
    }
    this.capacity?.settle(this.current);
    this.skippedLastRound = skipped;
    const end = this.clock.now();
    const timings: RoundTimings = {
      at: now,
      collectMs: collected - start,
      policyMs: end - collected,
      totalMs: end - start,
      reports: reports.length,
      changed,
    };
    this.lastRound = timings;
    roundSeconds.observe({ phase: 'collect' }, timings.collectMs / 1000);
    roundSeconds.observe({ phase: 'policy' }, timings.policyMs / 1000);
    roundSeconds.observe({ phase: 'total' }, timings.totalMs / 1000);
    viewSize.set({ kind: 'futures' }, view.futures.size);
    viewSize.set({ kind: 'workflows' }, view.workflows.size);
    viewSize.set({ kind: 'sessions' }, view.sessions.size);
    viewSize.set({ kind: 'nodes' }, view.nodes.size);
    viewSize.set({ kind: 'replicas' }, view.replicas.size);
    return timings;
  }

  /** The policy's actions, or undefined when it threw or overran (recorded in `skipped`). */
  private runPolicy(installed: InstalledPolicy, now: number, skipped: PolicySkip[]): PolicyAction[] | undefined {
    const recorder = new PrimitivesRecorder(this.view);
    const began = this.clock.now();
    let failure: PolicySkip | undefined;
    try {
      // `decide` is typed to return nothing, but an async function fits that type: what it does after its first
      // await would land after the round, so such a policy is refused (and its rejection must not crash us).
      const returned: unknown = installed.policy.decide(this.view, recorder);
      const took = this.clock.now() - began;
      if (isThenable(returned)) {
        returned.then(undefined, () => {});
        recorder.close();
        failure = {
          policy: installed.name,
          reason: 'error',
          message: 'decide returned a promise: a policy decides synchronously within its round',
          at: now,
        };
      } else if (took > this.policyBudgetMs) {
        failure = {
          policy: installed.name,
          reason: 'overrun',
          message: `took ${took.toFixed(1)} ms, over its budget of ${this.policyBudgetMs} ms`,
          at: now,
        };
      }
    } catch (err) {
      failure = { policy: installed.name, reason: 'error', message: errorMessage(err), at: now };
    }
    if (!failure) return recorder.actions;
    skipped.push(failure);
    this.lastSkips.set(installed.name, failure);
    const count = this.counts.get(installed.name) ?? { errors: 0, overruns: 0 };
    if (failure.reason === 'error') count.errors++;
    else count.overruns++;
    this.counts.set(installed.name, count);
    policySkips.inc({ policy: installed.name, reason: failure.reason });
    const kind = `${installed.name}\n${failure.reason}`;
    if (!this.logged.has(kind)) {
      this.logged.add(kind);
      this.log.warn(`policy ${installed.name} skipped (${failure.reason}); later ones are counted, not logged`, {
        message: failure.message,
      });
    }
    return undefined;
  }

  /** Each replica's capacity split over the live nodes that report it (all live nodes if none does). */
  private limits(): Record<string, number> {
    const limits: Record<string, number> = {};
    const live = this.view.nodes.size;
    for (const replica of this.view.replicas.values()) {
      if (replica.capacity === null) continue;
      const nodes = replica.byNode.size || live;
      limits[replica.id] = Math.max(1, Math.floor(replica.capacity / Math.max(1, nodes)));
    }
    return limits;
  }

  /** What GET /v1/policy shows. */
  status(): ControllerStatus {
    return {
      policies: this.policies.map((p) => ({
        name: p.name,
        params: p.params,
        errors: this.counts.get(p.name)?.errors ?? 0,
        overruns: this.counts.get(p.name)?.overruns ?? 0,
      })),
      periodMs: this.periodMs,
      policyBudgetMs: this.policyBudgetMs,
      decisions: this.current,
      ...(this.lastRound && { lastRound: this.lastRound }),
      skippedLastRound: this.skippedLastRound,
      lastSkips: [...this.lastSkips.values()],
      nodes: [...this.view.nodes.values()].map((n) => ({
        id: n.id,
        lastSeq: n.lastSeq,
        decisionsVersion: n.decisionsVersion,
        lastReportAt: n.lastReportAt,
      })),
    };
  }

  /** Runs a round every period until {@link stop}; a round that fails is logged, never ends the loop. */
  start(): void {
    if (this.timer) return;
    const tick = (): void => {
      const began = this.clock.now();
      try {
        this.runRound();
      } catch (err) {
        this.log.error(`round failed: ${errorMessage(err)}`);
      }
      if (this.timer) this.timer = this.clock.setTimer(tick, this.periodMs - (this.clock.now() - began));
    };
    this.timer = this.clock.setTimer(tick, this.periodMs);
  }

  /** Stops the loop and answers every long poll with "nothing new". */
  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
    for (const waiter of [...this.waiters]) waiter.resolve(undefined);
  }
}
