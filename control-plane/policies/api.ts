/**
 * The policy API: a policy is a small module over a read-only snapshot of the whole system, acting only
 * through primitives. The global controller builds the snapshot every period, runs the installed policies in
 * order (each within a time budget; one that throws or overruns is skipped for the round and reported), and
 * turns what they did into versioned decisions for every local controller.
 */

/** A future in the live dependency graph. */
export interface FutureView {
  readonly id: string;
  readonly workflowId: string;
  readonly sessionId: string;
  /** The agent or tool (the part of `<agent>.<method>` before the dot). */
  readonly agent: string;
  readonly activityType: string;
  readonly state: 'created' | 'ready' | 'scheduled' | 'started' | 'completed' | 'failed' | 'cancelled';
  readonly dependencies: readonly string[];
  /** Longest chain of futures before it in its workflow (0 for a future without dependencies). */
  readonly stage: number;
  readonly createdAt: number;
}

/** A running workflow. */
export interface WorkflowView {
  readonly id: string;
  readonly sessionId: string;
  readonly futures: readonly string[];
  /** Highest stage reached so far (SRTF: later stages first). */
  readonly stage: number;
  /** Times work re-entered an agent it already ran (a recursive workflow's retries of failed work; LPT). */
  readonly reentries: number;
  readonly startedAt: number;
}

/** A session: the unit that is pinned, prioritised and migrated. */
export interface SessionView {
  readonly id: string;
  readonly workflows: readonly string[];
  /** Where its calls go per agent now (pins in force, or where it last ran). */
  readonly replicas: Readonly<Record<string, string>>;
  /** Its priority now per agent ('*': all agents). */
  readonly priorities: Readonly<Record<string, number>>;
  /** Model service received so far, real ms (attained service). */
  readonly attainedServiceMs: number;
  /** Its calls waiting in local controllers. */
  readonly waiting: readonly WaitingCallView[];
  /** Prompt tokens of its last call: what moving it recomputes. */
  readonly contextTokens: number;
  /** Hash of its prompt prefix (first message), when known. */
  readonly prefixHash?: string;
}

export interface WaitingCallView {
  readonly workflowId: string;
  readonly futureId?: string;
  readonly agent: string;
  readonly replica: string;
  readonly priority: number;
  /** Real ms waited so far. */
  readonly waitedMs: number;
  readonly promptTokens: number;
}

/** A model replica, merged over every local controller. */
export interface ReplicaView {
  readonly id: string;
  readonly agent: string;
  readonly inFlight: number;
  readonly waiting: number;
  /** Max calls in flight over all nodes (null: unknown, unlimited). */
  readonly capacity: number | null;
  readonly healthy: boolean;
  /** Recent means, real ms (0 until observed). */
  readonly meanQueueMs: number;
  readonly meanServiceMs: number;
  /** Real ms per uncached prompt token (prefill), learned from calls; 0 until observed. */
  readonly prefillMsPerToken: number;
  /** Sessions whose prefix it holds (it served them last). */
  readonly residentSessions: readonly string[];
  /** Prompt-prefix hashes it served recently. */
  readonly residentPrefixes: readonly string[];
}

export interface AgentView {
  readonly name: string;
  readonly replicas: readonly string[];
  readonly waiting: number;
  readonly inFlight: number;
}

/** Where a provisioned replica is in its life (the provisioner's view; a replica no provisioner manages is `serving`). */
export type ReplicaLifecycle = 'loading' | 'serving' | 'draining';

/**
 * An agent's model replicas as the capacity manager (control-plane/capacity/) holds them: only agents it
 * manages appear (none without a provisioner). Counts include changes under way, so a policy that provisions
 * one replica per round while a load takes several rounds sees the one it asked for.
 */
export interface AgentCapacityView {
  readonly agent: string;
  /** Directive `minInstances` (stubs manifest), else 1: `kill` and `reassign` away never go below it. */
  readonly minInstances: number;
  /** Directive `maxInstances`, else unlimited (Infinity): `provision` and `reassign` onto it never go above it. */
  readonly maxInstances: number;
  /** Replicas that serve it now (routable): ids as in {@link Snapshot.replicas}. */
  readonly serving: readonly string[];
  /** Replicas loading its model (provisioned for it or reassigned to it): they serve after the model load. */
  readonly loading: readonly string[];
  /** Replicas leaving it (killed, or reassigned to another agent), finishing the calls they hold. */
  readonly draining: readonly string[];
}

/** The worker processes polling one Temporal task queue, as the worker scaler sees them. */
export interface WorkerPoolView {
  readonly taskQueue: string;
  /** Worker processes running now (the scaler's count; started ones that are not ready yet included). */
  readonly current: number;
  /** What the last `scaleWorkers` asked for (or the starting count). */
  readonly desired: number;
  /** Bounds of the scaler (NALAR_WORKERS_MIN / NALAR_WORKERS_MAX). */
  readonly min: number;
  readonly max: number;
}

/** What a policy reads. Everything is a snapshot: changing it changes nothing. */
export interface Snapshot {
  /** Epoch ms of the round. */
  readonly now: number;
  readonly periodMs: number;
  readonly futures: ReadonlyMap<string, FutureView>;
  readonly workflows: ReadonlyMap<string, WorkflowView>;
  readonly sessions: ReadonlyMap<string, SessionView>;
  /**
   * The sessions with calls waiting now (a subset of `sessions`): what a policy about waiting work scans,
   * without a pass over every live session.
   */
  readonly waitingSessions: readonly SessionView[];
  readonly agents: ReadonlyMap<string, AgentView>;
  readonly replicas: ReadonlyMap<string, ReplicaView>;
  /** Temporal task-queue backlogs (approximate), by task queue. */
  readonly taskQueueBacklog: ReadonlyMap<string, number>;
  /** Managed capacity by agent (empty without a provisioner). */
  readonly capacity: ReadonlyMap<string, AgentCapacityView>;
  /** Worker pools by task queue (empty without a worker scaler). */
  readonly workers: ReadonlyMap<string, WorkerPoolView>;
}

/** The only ways a policy acts. Later calls in a round win over earlier ones (and later policies over earlier). */
export interface Primitives {
  /** Pin a session's calls to one agent's replica. */
  route(session: string, agent: string, replica: string): void;
  /** Weighted routing of an agent's unpinned sessions over its replicas. */
  route(agent: string, replicas: readonly string[], weights: readonly number[]): void;
  /** Priority 1 (first) … 5 of a session's calls, on every agent or one. */
  setPriority(session: string, value: number, agent?: string): void;
  /** Move a session from one replica to another of the same agent: its waiting calls and its next calls follow. */
  migrate(session: string, from: string, to: string): void;
  /**
   * Start one more replica for `agent` (the provisioner's; it serves after its model load). Refused, counted
   * and logged, never thrown, when the agent is at `maxInstances` counting replicas loading for it.
   */
  provision(agent: string): void;
  /**
   * Stop a replica: it leaves routing at once, drains (every call it holds is answered), then goes. Refused when
   * its agent would fall below `minInstances`.
   */
  kill(replica: string): void;
  /**
   * Move a replica to another agent: drained, then it loads the agent's model (a model-load delay, a cold
   * prefix cache) and serves it. Refused below the source's `minInstances` or above the target's `maxInstances`.
   */
  reassign(replica: string, agent: string): void;
  /** Ask for `n` worker processes on a task queue (clamped to the scaler's bounds; drained when stopped). */
  scaleWorkers(taskQueue: string, n: number): void;
}

/** A policy module's default export. */
export interface Policy {
  readonly name: string;
  /** One round: read the snapshot, act through the primitives. */
  decide(snapshot: Snapshot, act: Primitives): void;
}
