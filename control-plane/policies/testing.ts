/**
 * Test kit for policies: a builder of {@link Snapshot}s from the few facts a test cares about (every other
 * field gets a neutral default), and {@link RecordingPrimitives}, which records what a policy did and fails
 * loudly on an action the global controller would refuse. Pure data: no clock, no I/O.
 *
 * ```ts
 * const snapshot = new SnapshotBuilder({ now: 10_000 })
 *   .replica('a1', { agent: 'analyst', capacity: 1, inFlight: 1 })
 *   .replica('a2', { agent: 'analyst', capacity: 1 })
 *   .session('s1', { waiting: [{ agent: 'analyst', replica: 'a1', waitedMs: 3_000 }] })
 *   .build();
 * const act = runPolicy(builtInPolicies['hol-migration']!.create({}), snapshot);
 * act.migrations(); // [{ session: 's1', from: 'a1', to: 'a2' }]
 * ```
 */
import { defaultPriority, priorityValue } from '../protocol';
import type {
  AgentCapacityView,
  AgentView,
  FutureView,
  Policy,
  Primitives,
  ReplicaView,
  SessionView,
  Snapshot,
  WaitingCallView,
  WorkerPoolView,
  WorkflowView,
} from './api';

/** A replica: its agent, and whatever differs from an idle, healthy replica of unknown capacity. */
export type ReplicaSpec = Partial<Omit<ReplicaView, 'id' | 'agent' | 'waiting'>> & {
  readonly agent: string;
  /** Calls waiting for it. @default the waiting calls of the builder's sessions that name it */
  readonly waiting?: number;
};

/** A waiting call: its agent, replica and real ms waited; the rest defaults. */
export type WaitingSpec = Partial<WaitingCallView> & Pick<WaitingCallView, 'agent' | 'replica' | 'waitedMs'>;

/** A session: whatever differs from a fresh session with no calls. */
export type SessionSpec = Partial<Omit<SessionView, 'id' | 'workflows' | 'waiting'>> & {
  readonly waiting?: readonly WaitingSpec[];
};

/** A workflow: its session, and its stage and re-entries when they matter. */
export type WorkflowSpec = Partial<Omit<WorkflowView, 'id' | 'sessionId'>> & { readonly session: string };

/** A future: its workflow and agent; the session is its workflow's. */
export type FutureSpec = Partial<Omit<FutureView, 'id' | 'workflowId' | 'sessionId'>> & {
  readonly workflow: string;
  readonly agent: string;
};

/** An agent's managed capacity: whatever differs from 1…unlimited instances with nothing under way. */
export type CapacitySpec = Partial<Omit<AgentCapacityView, 'agent'>>;

/** A worker pool: whatever differs from 1 worker, wanted 1, bounds 1…4. */
export type WorkerPoolSpec = Partial<Omit<WorkerPoolView, 'taskQueue'>>;

/** Builds a {@link Snapshot}; each method adds one thing and returns the builder. */
export class SnapshotBuilder {
  private readonly now: number;
  private readonly periodMs: number;
  private readonly replicaSpecs = new Map<string, ReplicaSpec>();
  private readonly sessionSpecs = new Map<string, SessionSpec>();
  private readonly workflowSpecs = new Map<string, WorkflowSpec>();
  private readonly futureSpecs = new Map<string, FutureSpec>();
  private readonly backlogs = new Map<string, number>();
  private readonly capacitySpecs = new Map<string, CapacitySpec>();
  private readonly workerSpecs = new Map<string, WorkerPoolSpec>();

  /**
   * @param options.now epoch ms of the round. @default 1_000_000
   * @param options.periodMs the global controller's period. @default 250
   */
  constructor(options: { now?: number; periodMs?: number } = {}) {
    this.now = options.now ?? 1_000_000;
    this.periodMs = options.periodMs ?? 250;
  }

  /** Adds a replica (its agent comes into being with it). */
  replica(id: string, spec: ReplicaSpec): this {
    this.replicaSpecs.set(id, spec);
    return this;
  }

  /** Adds a session. Sessions named by a workflow exist without this call. */
  session(id: string, spec: SessionSpec = {}): this {
    this.sessionSpecs.set(id, spec);
    return this;
  }

  /** Adds a running workflow of `spec.session`. */
  workflow(id: string, spec: WorkflowSpec): this {
    this.workflowSpecs.set(id, spec);
    return this;
  }

  /** Adds a future of `spec.workflow` (which must be added too). */
  future(id: string, spec: FutureSpec): this {
    this.futureSpecs.set(id, spec);
    return this;
  }

  /** Sets a Temporal task queue's backlog. */
  backlog(taskQueue: string, tasks: number): this {
    this.backlogs.set(taskQueue, tasks);
    return this;
  }

  /**
   * Makes `agent` managed by the capacity manager. Its `serving` list defaults to the agent's replicas added
   * with {@link replica} that are not listed as loading or draining.
   */
  capacity(agent: string, spec: CapacitySpec = {}): this {
    this.capacitySpecs.set(agent, spec);
    return this;
  }

  /** Adds a worker pool on a task queue (what a worker scaler reports). */
  workers(taskQueue: string, spec: WorkerPoolSpec = {}): this {
    this.workerSpecs.set(taskQueue, spec);
    return this;
  }

  /** The snapshot: agents, session → workflow links, replicas' waiting counts are derived from what was added. */
  build(): Snapshot {
    const futures = new Map<string, FutureView>();
    for (const [id, f] of this.futureSpecs) {
      const workflow = this.workflowSpecs.get(f.workflow);
      if (!workflow) throw new Error(`future ${id}: workflow ${f.workflow} was not added`);
      futures.set(id, {
        state: 'scheduled',
        dependencies: [],
        stage: 0,
        createdAt: this.now,
        activityType: `${f.agent}.call`,
        ...f,
        id,
        workflowId: f.workflow,
        sessionId: workflow.session,
      });
    }
    const workflows = new Map<string, WorkflowView>();
    for (const [id, w] of this.workflowSpecs) {
      const own = [...futures.values()].filter((f) => f.workflowId === id);
      workflows.set(id, {
        futures: own.map((f) => f.id),
        stage: Math.max(0, ...own.map((f) => f.stage)),
        reentries: 0,
        startedAt: this.now,
        ...w,
        id,
        sessionId: w.session,
      });
    }
    const sessionIds = new Set([...this.sessionSpecs.keys(), ...[...workflows.values()].map((w) => w.sessionId)]);
    const sessions = new Map<string, SessionView>();
    for (const id of sessionIds) {
      const spec = this.sessionSpecs.get(id) ?? {};
      const own = [...workflows.values()].filter((w) => w.sessionId === id).map((w) => w.id);
      const waiting: WaitingCallView[] = (spec.waiting ?? []).map((c) => ({
        workflowId: own[0] ?? `${id}-workflow`,
        priority: defaultPriority,
        promptTokens: spec.contextTokens ?? 0,
        ...c,
      }));
      sessions.set(id, {
        priorities: {},
        attainedServiceMs: 0,
        contextTokens: 0,
        ...spec,
        replicas: { ...Object.fromEntries(waiting.map((c) => [c.agent, c.replica])), ...spec.replicas },
        id,
        workflows: own,
        waiting,
      });
    }
    const allWaiting = [...sessions.values()].flatMap((s) => s.waiting);
    const replicas = new Map<string, ReplicaView>();
    for (const [id, r] of this.replicaSpecs) {
      replicas.set(id, {
        inFlight: 0,
        capacity: null,
        healthy: true,
        meanQueueMs: 0,
        meanServiceMs: 0,
        prefillMsPerToken: 0,
        residentSessions: [],
        residentPrefixes: [],
        ...r,
        id,
        waiting: r.waiting ?? allWaiting.filter((c) => c.replica === id).length,
      });
    }
    const agents = new Map<string, AgentView>();
    for (const r of replicas.values()) {
      const a = agents.get(r.agent) ?? { name: r.agent, replicas: [], waiting: 0, inFlight: 0 };
      agents.set(r.agent, {
        ...a,
        replicas: [...a.replicas, r.id],
        waiting: a.waiting + r.waiting,
        inFlight: a.inFlight + r.inFlight,
      });
    }
    return {
      now: this.now,
      periodMs: this.periodMs,
      futures,
      workflows,
      sessions,
      waitingSessions: [...sessions.values()].filter((s) => s.waiting.length > 0),
      agents,
      replicas,
      taskQueueBacklog: new Map(this.backlogs),
      capacity: new Map(
        [...this.capacitySpecs].map(([agent, spec]) => {
          const loading = spec.loading ?? [];
          const draining = spec.draining ?? [];
          const own = agents.get(agent)?.replicas ?? [];
          const serving = spec.serving ?? own.filter((r) => !loading.includes(r) && !draining.includes(r));
          const view: AgentCapacityView = {
            minInstances: 1,
            maxInstances: Infinity,
            ...spec,
            agent,
            serving,
            loading,
            draining,
          };
          return [agent, view];
        }),
      ),
      workers: new Map(
        [...this.workerSpecs].map(([taskQueue, spec]) => {
          const view: WorkerPoolView = { current: 1, desired: 1, min: 1, max: 4, ...spec, taskQueue };
          return [taskQueue, view];
        }),
      ),
    };
  }
}

/** One primitive call, as {@link RecordingPrimitives} keeps it. */
export type PolicyAction =
  | { readonly kind: 'pin'; readonly session: string; readonly agent: string; readonly replica: string }
  | { readonly kind: 'weights'; readonly agent: string; readonly weights: Readonly<Record<string, number>> }
  | { readonly kind: 'priority'; readonly session: string; readonly agent: string; readonly value: number }
  | {
      readonly kind: 'migrate';
      readonly session: string;
      /** The agent of `to` (undefined when the recorder has no snapshot). */
      readonly agent?: string;
      readonly from: string;
      readonly to: string;
    }
  | { readonly kind: 'provision'; readonly agent: string }
  | { readonly kind: 'kill'; readonly replica: string }
  | { readonly kind: 'reassign'; readonly replica: string; readonly agent: string }
  | { readonly kind: 'scaleWorkers'; readonly taskQueue: string; readonly n: number };

/**
 * {@link Primitives} that record every call in order ({@link actions}) and answer what the round ended with
 * (later calls win, as in the global controller). Like the global controller's recorder, it throws on a call the
 * controller refuses: a priority outside 1…5, weights that do not match the replicas one to one or are negative,
 * and, given the round's snapshot, a replica it does not have or one of another agent. It also throws on a move
 * onto the replica the session is already on (harmless in the controller, but a policy bug).
 */
export class RecordingPrimitives implements Primitives {
  /** Every call, in order. */
  readonly actions: PolicyAction[] = [];

  /** @param snapshot the round's snapshot, to check replica ids and agents against (unchecked without one) */
  constructor(private readonly snapshot?: Snapshot) {}

  route(session: string, agent: string, replica: string): void;
  route(agent: string, replicas: readonly string[], weights: readonly number[]): void;
  route(first: string, second: string | readonly string[], third: string | readonly number[]): void {
    if (typeof second === 'string' && typeof third === 'string') {
      this.check(`route(${first}, ${second}, ${third})`, third, second);
      this.actions.push({ kind: 'pin', session: first, agent: second, replica: third });
      return;
    }
    if (typeof second === 'string' || typeof third === 'string' || second.length !== third.length) {
      throw new Error(`route(${first}, …): replicas and weights must be two lists of the same length`);
    }
    if (third.some((w) => !(w >= 0) || !Number.isFinite(w))) {
      throw new Error(`route(${first}, …): weights must be finite and non-negative, got ${third.join(', ')}`);
    }
    for (const replica of second) this.check(`route(${first}, …)`, replica, first);
    this.actions.push({
      kind: 'weights',
      agent: first,
      weights: Object.fromEntries(second.map((r, i) => [r, third[i] ?? 0])),
    });
  }

  setPriority(session: string, value: number, agent = '*'): void {
    if (!priorityValue.safeParse(value).success) throw new Error(`setPriority(${session}, ${value}): not 1…5`);
    this.actions.push({ kind: 'priority', session, agent, value });
  }

  migrate(session: string, from: string, to: string): void {
    const call = `migrate(${session}, ${from}, ${to})`;
    if (from === to) throw new Error(`${call}: from and to are the same replica`);
    const agent = this.snapshot?.replicas.get(to)?.agent;
    this.check(call, to, agent);
    this.check(call, from, agent);
    this.actions.push({ kind: 'migrate', session, agent, from, to });
  }

  provision(agent: string): void {
    if (this.snapshot && !this.snapshot.capacity.has(agent))
      throw new Error(`provision(${agent}): not a managed agent`);
    this.actions.push({ kind: 'provision', agent });
  }

  kill(replica: string): void {
    this.check(`kill(${replica})`, replica, undefined);
    this.actions.push({ kind: 'kill', replica });
  }

  reassign(replica: string, agent: string): void {
    const call = `reassign(${replica}, ${agent})`;
    this.check(call, replica, undefined);
    if (this.snapshot && !this.snapshot.capacity.has(agent))
      throw new Error(`${call}: ${agent} is not a managed agent`);
    if (this.snapshot?.replicas.get(replica)?.agent === agent) throw new Error(`${call}: it already serves ${agent}`);
    this.actions.push({ kind: 'reassign', replica, agent });
  }

  scaleWorkers(taskQueue: string, n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new Error(`scaleWorkers(${taskQueue}, ${n}): not a whole number ≥ 0`);
    if (this.snapshot && !this.snapshot.workers.has(taskQueue)) {
      throw new Error(`scaleWorkers(${taskQueue}, ${n}): no worker pool polls ${taskQueue}`);
    }
    this.actions.push({ kind: 'scaleWorkers', taskQueue, n });
  }

  /** The capacity changes of the round, in order (provision, kill, reassign). */
  capacityChanges(): PolicyAction[] {
    return this.actions.filter((x) => x.kind === 'provision' || x.kind === 'kill' || x.kind === 'reassign');
  }

  /** The worker count asked for on `taskQueue` in the round (the last call), if any. */
  workersOf(taskQueue: string): number | undefined {
    const last = this.actions.filter((x) => x.kind === 'scaleWorkers' && x.taskQueue === taskQueue).at(-1);
    return last?.kind === 'scaleWorkers' ? last.n : undefined;
  }

  /** The session's priority on `agent` after the round (one set for that agent, else for '*'), if any. */
  priorityOf(session: string, agent = '*'): number | undefined {
    const set = (a: string) =>
      this.actions.filter((x) => x.kind === 'priority' && x.session === session && x.agent === a).at(-1);
    const last = set(agent) ?? set('*');
    return last?.kind === 'priority' ? last.value : undefined;
  }

  /** The agent's routing weights after the round (replica → weight), if any were set. */
  weightsOf(agent: string): Readonly<Record<string, number>> | undefined {
    const last = this.actions.filter((x) => x.kind === 'weights' && x.agent === agent).at(-1);
    return last?.kind === 'weights' ? last.weights : undefined;
  }

  /** The replica the session is sent to on `agent` after the round (a pin, or a move onto a replica of it), if any. */
  replicaOf(session: string, agent: string): string | undefined {
    const last = this.actions
      .filter((x) => (x.kind === 'pin' || x.kind === 'migrate') && x.session === session && x.agent === agent)
      .at(-1);
    if (last?.kind === 'pin') return last.replica;
    return last?.kind === 'migrate' ? last.to : undefined;
  }

  /** The moves of the round, in order. */
  migrations(): { session: string; from: string; to: string }[] {
    return this.actions.flatMap((x) => (x.kind === 'migrate' ? [{ session: x.session, from: x.from, to: x.to }] : []));
  }

  /** Throws when the snapshot has no `replica`, or it serves another agent than `agent`. */
  private check(call: string, replica: string, agent: string | undefined): void {
    if (!this.snapshot) return;
    const known = this.snapshot.replicas.get(replica);
    if (!known) throw new Error(`${call}: no replica ${replica}`);
    if (agent !== undefined && known.agent !== agent) {
      throw new Error(`${call}: replica ${replica} serves ${known.agent}, not ${agent}`);
    }
  }
}

/** Runs one round of `policy` over `snapshot`; returns what it did (calls checked against the snapshot). */
export function runPolicy(policy: Policy, snapshot: Snapshot): RecordingPrimitives {
  const act = new RecordingPrimitives(snapshot);
  policy.decide(snapshot, act);
  return act;
}
