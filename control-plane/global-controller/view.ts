/**
 * The global controller's view: every local controller's reports merged, incrementally, into the live
 * dependency graph of every running workflow, the sessions, the replicas' load over all nodes and per-agent
 * totals. The view *is* the snapshot policies read (behind the read-only types of policies/api.ts): a round
 * copies nothing, and merging a report costs in proportion to the report, not to the graph.
 *
 * Definitions policies rely on:
 * - **stage** of a future: the longest chain of futures before it (0 without dependencies; a dependency the
 *   view does not know, because it was evicted or reported before the controller started, counts as stage 0).
 *   A workflow's stage is the highest stage of its futures (SRTF: later stages first).
 * - **re-entries** of a workflow: futures of an agent created when a future of the same agent in the same
 *   workflow had already finished (completed or failed) — a recursive planner → developers → tester workflow
 *   whose tester sends work back counts one re-entry per planner or developer call of every later round;
 *   parallel calls of one round do not count (none had finished when they were created). Creation and
 *   finish times are the events' own times, so reports from two nodes that arrive out of order still count
 *   when the finish is reported first; a finish reported after a later creation is not counted back (LPT:
 *   re-entering work first).
 * - A future's state only moves forward (created < ready < scheduled < started < finished): a late event of an
 *   earlier state, from another node, changes nothing.
 *
 * Bounded memory: a workflow whose futures have all finished and that saw no event for `retentionMs` is
 * dropped with its futures; a session with no workflow left and nothing waiting ends with it (and the
 * controller drops its pins). Nodes: a node silent for `silentPeriods` periods is dropped with its waiting
 * calls and its share of the replicas' load. A report with the seq of the node's last one is a retried POST
 * and is ignored; a lower seq means the node restarted (its seq starts again at 0, maybe with its first
 * reports lost): it is taken, and as waiting calls and loads are level state, the node's state is simply
 * replaced. A restarted controller starts empty and fills up from the next reports.
 */
import type {
  AgentCapacityView,
  AgentView,
  FutureView,
  ReplicaView,
  SessionView,
  Snapshot,
  WaitingCallView,
  WorkerPoolView,
  WorkflowView,
} from '../policies/api';
import type { CallRecord, Decisions, ReplicaLoad, Report, ReportedFutureEvent, WaitingCall } from '../protocol';

type FutureState = FutureView['state'];

/** How far along the lifecycle a state is; the three finished states share the last rank. */
/** Fewest uncached prompt tokens a call needs to teach the prefill cost per token. */
const minPrefillSampleTokens = 256;
const lifecycleRank: Readonly<Record<FutureState, number>> = {
  created: 0,
  ready: 1,
  scheduled: 2,
  started: 3,
  completed: 4,
  failed: 4,
  cancelled: 4,
};
const finishedRank = 4;

/** Default of {@link ViewOptions.retentionMs}: long enough for a multi-turn session's pause between turns. */
export const defaultRetentionMs = 60_000;
/** Default of {@link ViewOptions.silentPeriods}. */
export const defaultSilentPeriods = 3;
/** Prompt-prefix hashes remembered per replica (the most recent ones). */
export const maxResidentPrefixes = 1024;
/** Weight of the newest observation in the replicas' moving averages of queue and service time. */
export const ewmaAlpha = 0.2;

/** The agent of an activity type `<agent>.<method>`. */
export function agentOf(activityType: string): string {
  const dot = activityType.indexOf('.');
  return dot < 0 ? activityType : activityType.slice(0, dot);
}

/** What every node of the view reads from its controller: the round's time and the decisions in force. */
interface ViewContext {
  /** Epoch ms of the round. */
  now: number;
  pins: Decisions['pins'];
  priorities: Decisions['priorities'];
}

class FutureNode implements FutureView {
  constructor(
    readonly id: string,
    readonly workflowId: string,
    readonly sessionId: string,
    readonly agent: string,
    readonly activityType: string,
    readonly dependencies: readonly string[],
    readonly stage: number,
    readonly createdAt: number,
    public state: FutureState,
  ) {}
}

class WorkflowNode implements WorkflowView {
  readonly futures: string[] = [];
  stage = 0;
  reentries = 0;
  /** Futures not finished yet: at 0 the workflow may be evicted. */
  open = 0;
  /** Earliest finish (event time) of a future per agent: a later creation of that agent is a re-entry. */
  readonly firstFinish = new Map<string, number>();

  constructor(
    readonly id: string,
    readonly sessionId: string,
    readonly startedAt: number,
  ) {}
}

class WaitingEntry implements WaitingCallView {
  readonly workflowId: string;
  readonly futureId?: string;
  readonly agent: string;
  readonly replica: string;
  readonly priority: number;
  readonly promptTokens: number;
  readonly since: number;

  constructor(
    private readonly context: ViewContext,
    call: WaitingCall,
  ) {
    this.workflowId = call.workflowId;
    if (call.futureId !== undefined) this.futureId = call.futureId;
    this.agent = call.agent;
    this.replica = call.replica;
    this.priority = call.priority;
    this.promptTokens = call.promptTokens;
    this.since = call.since;
  }

  get waitedMs(): number {
    return Math.max(0, this.context.now - this.since);
  }
}

class SessionNode implements SessionView {
  readonly workflowIds = new Set<string>();
  /** Where it last ran, per agent. */
  readonly lastRan: Record<string, string> = {};
  attainedServiceMs = 0;
  contextTokens = 0;
  prefixHash?: string;
  readonly waitingByNode = new Map<string, WaitingEntry[]>();
  waitingCount = 0;
  private workflowList: string[] | undefined;
  private waitingList: WaitingEntry[] | undefined;

  constructor(
    readonly id: string,
    private readonly context: ViewContext,
  ) {}

  get workflows(): readonly string[] {
    return (this.workflowList ??= [...this.workflowIds]);
  }

  get replicas(): Readonly<Record<string, string>> {
    let merged: Record<string, string> | undefined;
    for (const agent in this.context.pins) {
      const pinned = this.context.pins[agent]?.[this.id];
      if (pinned !== undefined) (merged ??= { ...this.lastRan })[agent] = pinned;
    }
    return merged ?? this.lastRan;
  }

  get priorities(): Readonly<Record<string, number>> {
    return this.context.priorities[this.id] ?? {};
  }

  get waiting(): readonly WaitingCallView[] {
    if (this.waitingList === undefined) {
      this.waitingList = [];
      for (const calls of this.waitingByNode.values()) this.waitingList.push(...calls);
    }
    return this.waitingList;
  }

  addWorkflow(id: string): void {
    this.workflowIds.add(id);
    this.workflowList = undefined;
  }

  removeWorkflow(id: string): void {
    this.workflowIds.delete(id);
    this.workflowList = undefined;
  }

  setWaiting(node: string, calls: WaitingEntry[] | undefined): void {
    this.waitingCount -= this.waitingByNode.get(node)?.length ?? 0;
    if (calls === undefined) this.waitingByNode.delete(node);
    else this.waitingByNode.set(node, calls);
    this.waitingCount += calls?.length ?? 0;
    this.waitingList = undefined;
  }
}

class ReplicaNode implements ReplicaView {
  /** Each node's last report of it. */
  readonly byNode = new Map<string, ReplicaLoad>();
  inFlight = 0;
  waiting = 0;
  capacity: number | null = null;
  private healthyVotes = 0;
  meanQueueMs = 0;
  meanServiceMs = 0;
  private observed = false;
  private prefillServiceMs = 0;
  private prefillTokens = 0;
  readonly sessions = new Set<string>();
  /** Insertion order is recency: the oldest is dropped first. */
  readonly prefixes = new Map<string, true>();
  private sessionList: string[] | undefined;
  private prefixList: string[] | undefined;

  constructor(
    readonly id: string,
    readonly agent: string,
  ) {}

  /** Healthy while at least half of the nodes that report it find it healthy (one node's bad link is not enough). */
  get healthy(): boolean {
    return this.byNode.size === 0 || this.healthyVotes * 2 >= this.byNode.size;
  }

  /** Learned from calls: mean service ms over mean uncached prompt tokens (0 until observed). */
  get prefillMsPerToken(): number {
    return this.prefillTokens > 0 ? this.prefillServiceMs / this.prefillTokens : 0;
  }

  get residentSessions(): readonly string[] {
    return (this.sessionList ??= [...this.sessions]);
  }

  get residentPrefixes(): readonly string[] {
    return (this.prefixList ??= [...this.prefixes.keys()]);
  }

  setLoad(node: string, load: ReplicaLoad | undefined): void {
    const old = this.byNode.get(node);
    if (old) {
      this.inFlight -= old.inFlight;
      this.waiting -= old.waiting;
      if (old.healthy) this.healthyVotes--;
    }
    if (load === undefined) {
      this.byNode.delete(node);
      return;
    }
    this.byNode.set(node, load);
    this.inFlight += load.inFlight;
    this.waiting += load.waiting;
    if (load.healthy) this.healthyVotes++;
    if (load.capacity !== null) this.capacity = load.capacity;
  }

  observe(call: CallRecord): void {
    const a = this.observed ? ewmaAlpha : 1;
    this.meanQueueMs += a * (call.queueMs - this.meanQueueMs);
    this.meanServiceMs += a * (call.serviceMs - this.meanServiceMs);
    this.observed = true;
    // Prefill is learned from time to first token over the uncached prompt (service time would count the
    // decode too, making every move look far too dear); short prompts are skipped, where the fixed cost of a
    // request would dominate the figure.
    if (call.promptTokens !== undefined && call.ttftMs !== undefined) {
      const uncached = call.promptTokens - (call.cachedTokens ?? 0);
      if (uncached >= minPrefillSampleTokens && call.ok) {
        const b = this.prefillTokens > 0 ? ewmaAlpha : 1;
        this.prefillServiceMs += b * (call.ttftMs - this.prefillServiceMs);
        this.prefillTokens += b * (uncached - this.prefillTokens);
      }
    }
    if (call.prefixHash !== undefined) {
      this.prefixes.delete(call.prefixHash);
      this.prefixes.set(call.prefixHash, true);
      if (this.prefixes.size > maxResidentPrefixes) this.prefixes.delete(this.prefixes.keys().next().value as string);
      this.prefixList = undefined;
    }
  }

  holdSession(session: string, held: boolean): void {
    if (held === this.sessions.has(session)) return;
    if (held) this.sessions.add(session);
    else this.sessions.delete(session);
    this.sessionList = undefined;
  }
}

class AgentNode implements AgentView {
  readonly replicaIds = new Set<string>();
  private replicaList: string[] | undefined;

  constructor(
    readonly name: string,
    private readonly all: ReadonlyMap<string, ReplicaNode>,
  ) {}

  get replicas(): readonly string[] {
    return (this.replicaList ??= [...this.replicaIds]);
  }

  get waiting(): number {
    let n = 0;
    for (const id of this.replicaIds) n += this.all.get(id)?.waiting ?? 0;
    return n;
  }

  get inFlight(): number {
    let n = 0;
    for (const id of this.replicaIds) n += this.all.get(id)?.inFlight ?? 0;
    return n;
  }

  addReplica(id: string): void {
    if (this.replicaIds.has(id)) return;
    this.replicaIds.add(id);
    this.replicaList = undefined;
  }

  removeReplica(id: string): void {
    if (this.replicaIds.delete(id)) this.replicaList = undefined;
  }
}

/** One local controller as the view knows it. */
export interface NodeState {
  readonly id: string;
  lastSeq: number;
  /** Controller time (epoch ms) of its last report. */
  lastReportAt: number;
  decisionsVersion: number;
  taskQueues: readonly string[];
  reports: number;
  /** Its waiting calls now, by session. */
  waitingBySession: Map<string, WaitingEntry[]>;
  /** Its loads now, by replica. */
  loads: Map<string, ReplicaLoad>;
}

/** What became of a report. */
export type MergeOutcome = 'accepted' | 'restarted' | 'duplicate';

/** What one expiry pass removed. */
export interface ExpiryResult {
  nodesDropped: string[];
  workflowsEvicted: number;
  /** Sessions that ended (their pins and priorities go). */
  sessionsEnded: string[];
}

/** Options of {@link ControlView}. */
export interface ViewOptions {
  /** The control period, ms (what `snapshot.periodMs` says and what node silence is counted in). */
  periodMs: number;
  /** How long a workflow whose futures all finished is kept after its last event. @default 60000 */
  retentionMs?: number;
  /** Periods without a report after which a node is dropped. @default 3 */
  silentPeriods?: number;
}

/**
 * How long a task queue asked about stays watched: several of KEDA's polling intervals (30 s by default), so a
 * ScaledObject that keeps asking keeps it, and one deleted lets it go.
 */
export const watchedTaskQueueMs = 5 * 60_000;
/** Task queues watched at once, at most: one per ScaledObject in practice; the bound keeps stray names finite. */
export const maxWatchedTaskQueues = 256;

/** The merged view of every local controller's reports; also the {@link Snapshot} policies read. */
export class ControlView implements Snapshot {
  readonly periodMs: number;
  readonly retentionMs: number;
  readonly silentPeriods: number;
  readonly futures = new Map<string, FutureNode>();
  readonly workflows = new Map<string, WorkflowNode>();
  readonly sessions = new Map<string, SessionNode>();
  readonly agents = new Map<string, AgentNode>();
  readonly replicas = new Map<string, ReplicaNode>();
  readonly taskQueueBacklog = new Map<string, number>();
  /** Kept by the capacity manager (control-plane/capacity/manager.ts); empty without a provisioner. */
  readonly capacity = new Map<string, AgentCapacityView>();
  /** Kept from the worker scaler's status; empty without one. */
  readonly workers = new Map<string, WorkerPoolView>();
  readonly nodes = new Map<string, NodeState>();

  /**
   * Forgets a replica that left its agent (killed, or reassigned: it comes back under its new agent with the
   * next report that names it, with fresh figures, as its cache is cold).
   */
  forgetReplica(id: string): void {
    const replica = this.replicas.get(id);
    if (!replica) return;
    this.replicas.delete(id);
    this.agents.get(replica.agent)?.removeReplica(id);
    for (const node of this.nodes.values()) node.loads.delete(id);
  }

  /** Sessions with calls waiting in any node: O(waiting sessions), not O(sessions). */
  get waitingSessions(): SessionNode[] {
    const ids = new Set<string>();
    for (const node of this.nodes.values()) for (const id of node.waitingBySession.keys()) ids.add(id);
    const out: SessionNode[] = [];
    for (const id of ids) {
      const session = this.sessions.get(id);
      if (session) out.push(session);
    }
    return out;
  }

  private readonly context: ViewContext = { now: 0, pins: {}, priorities: {} };
  /** Workflows with every future finished, by when they became so or last saw an event; oldest first. */
  private readonly idleWorkflows = new Map<string, number>();
  /** Sessions with no workflow and nothing waiting, by their last activity; oldest first. */
  private readonly idleSessions = new Map<string, number>();
  /** Task queues asked about, by when (epoch ms of the round); oldest first. */
  private readonly watchedTaskQueues = new Map<string, number>();

  constructor(options: ViewOptions) {
    this.periodMs = options.periodMs;
    this.retentionMs = options.retentionMs ?? defaultRetentionMs;
    this.silentPeriods = options.silentPeriods ?? defaultSilentPeriods;
  }

  /** Epoch ms of the round (snapshot time; waiting calls' `waitedMs` count to it). */
  get now(): number {
    return this.context.now;
  }

  /** Sets the round's time. */
  setNow(now: number): void {
    this.context.now = now;
  }

  /** The decisions in force, which sessions show as their replicas and priorities. */
  setDecisions(decisions: Pick<Decisions, 'pins' | 'priorities'>): void {
    this.context.pins = decisions.pins;
    this.context.priorities = decisions.priorities;
  }

  /**
   * Every task queue a live node polls, and those asked about ({@link watchTaskQueue}) within the last
   * {@link watchedTaskQueueMs}: their backlogs are read (backlog.ts).
   */
  taskQueues(): Set<string> {
    const queues = new Set<string>();
    for (const node of this.nodes.values()) for (const q of node.taskQueues) queues.add(q);
    for (const [q, askedAt] of this.watchedTaskQueues) {
      if (this.now - askedAt > watchedTaskQueueMs) this.watchedTaskQueues.delete(q);
      else queues.add(q);
    }
    return queues;
  }

  /**
   * Reads `taskQueue`'s backlog from now on, for {@link watchedTaskQueueMs} after the last call, although no live
   * node polls it: KEDA asks about the queue of workers scaled to zero, whose demand only Temporal's backlog
   * shows. At most {@link maxWatchedTaskQueues}; beyond, the one asked about longest ago is dropped.
   */
  watchTaskQueue(taskQueue: string): void {
    this.watchedTaskQueues.delete(taskQueue);
    this.watchedTaskQueues.set(taskQueue, this.now);
    if (this.watchedTaskQueues.size > maxWatchedTaskQueues) {
      const oldest = this.watchedTaskQueues.keys().next().value;
      if (oldest !== undefined) this.watchedTaskQueues.delete(oldest);
    }
  }

  /** Merges one report, received at `now` (controller epoch ms). */
  merge(report: Report, now: number): MergeOutcome {
    let node = this.nodes.get(report.node);
    let outcome: MergeOutcome = 'accepted';
    // A node sends one report at a time, so the same seq again is a retried POST that did arrive; a lower seq
    // means its counter started again (it restarted, and maybe its first reports were lost).
    if (node && report.seq === node.lastSeq) return 'duplicate';
    if (node && report.seq < node.lastSeq) outcome = 'restarted';
    if (!node) {
      node = {
        id: report.node,
        lastSeq: report.seq,
        lastReportAt: now,
        decisionsVersion: report.decisionsVersion,
        taskQueues: report.taskQueues,
        reports: 0,
        waitingBySession: new Map(),
        loads: new Map(),
      };
      this.nodes.set(report.node, node);
    }
    node.lastSeq = report.seq;
    node.lastReportAt = now;
    node.decisionsVersion = report.decisionsVersion;
    node.taskQueues = report.taskQueues;
    node.reports++;
    // Loads first: they list the node's replicas in configuration order, which agents keep.
    this.replaceLoads(node, report.replicas);
    for (const event of report.events) this.applyEvent(event, now);
    for (const call of report.calls) this.applyCall(call, now);
    this.replaceWaiting(node, report.waiting, now);
    return outcome;
  }

  /** Drops silent nodes, and workflows and sessions past their retention. Costs what it removes. */
  expire(now: number): ExpiryResult {
    const result: ExpiryResult = { nodesDropped: [], workflowsEvicted: 0, sessionsEnded: [] };
    const silentMs = this.silentPeriods * this.periodMs;
    for (const node of this.nodes.values()) {
      if (now - node.lastReportAt < silentMs) continue;
      this.replaceWaiting(node, [], now);
      this.replaceLoads(node, []);
      this.nodes.delete(node.id);
      result.nodesDropped.push(node.id);
    }
    for (const [id, since] of this.idleWorkflows) {
      if (now - since < this.retentionMs) break;
      this.evictWorkflow(id, result);
    }
    for (const [id, since] of this.idleSessions) {
      if (now - since < this.retentionMs) break;
      this.endSession(id, result);
    }
    return result;
  }

  private applyEvent(e: ReportedFutureEvent, now: number): void {
    const wf = this.workflowOf(e.workflowId, e.sessionId, e.at);
    let future = this.futures.get(e.futureId);
    const rank = lifecycleRank[e.type];
    if (!future) {
      const agent = agentOf(e.activityType);
      let stage = 0;
      for (const dep of e.dependencies) stage = Math.max(stage, (this.futures.get(dep)?.stage ?? 0) + 1);
      future = new FutureNode(
        e.futureId,
        e.workflowId,
        e.sessionId,
        agent,
        e.activityType,
        e.dependencies,
        stage,
        e.at,
        e.type,
      );
      this.futures.set(e.futureId, future);
      wf.futures.push(e.futureId);
      if (rank < finishedRank) wf.open++;
      if (stage > wf.stage) wf.stage = stage;
      const finishedBefore = wf.firstFinish.get(agent);
      if (finishedBefore !== undefined && finishedBefore <= e.at) wf.reentries++;
    } else if (lifecycleRank[future.state] < finishedRank && rank > lifecycleRank[future.state]) {
      if (rank === finishedRank) wf.open--;
      future.state = e.type;
    }
    if (rank === finishedRank) {
      const first = wf.firstFinish.get(future.agent);
      if (first === undefined || e.at < first) wf.firstFinish.set(future.agent, e.at);
    }
    // Re-inserted at the end: the idle list stays ordered by time, so expiry stops at the first young one.
    this.idleWorkflows.delete(wf.id);
    if (wf.open === 0) this.idleWorkflows.set(wf.id, now);
  }

  private workflowOf(id: string, sessionId: string, at: number): WorkflowNode {
    let wf = this.workflows.get(id);
    if (!wf) {
      wf = new WorkflowNode(id, sessionId, at);
      this.workflows.set(id, wf);
      const session = this.sessionOf(sessionId);
      session.addWorkflow(id);
      this.idleSessions.delete(sessionId);
    }
    return wf;
  }

  private sessionOf(id: string): SessionNode {
    let session = this.sessions.get(id);
    if (!session) {
      session = new SessionNode(id, this.context);
      this.sessions.set(id, session);
    }
    return session;
  }

  private replicaOf(id: string, agent: string): ReplicaNode {
    let replica = this.replicas.get(id);
    if (!replica) {
      replica = new ReplicaNode(id, agent);
      this.replicas.set(id, replica);
      let agentNode = this.agents.get(agent);
      if (!agentNode) {
        agentNode = new AgentNode(agent, this.replicas);
        this.agents.set(agent, agentNode);
      }
      agentNode.addReplica(id);
    }
    return replica;
  }

  /** A session with no workflow and nothing waiting may end once it stays so for the retention period. */
  private touchSession(session: SessionNode, now: number): void {
    this.idleSessions.delete(session.id);
    if (session.workflowIds.size === 0 && session.waitingCount === 0) this.idleSessions.set(session.id, now);
  }

  private applyCall(call: CallRecord, now: number): void {
    const session = this.sessionOf(call.sessionId);
    const replica = this.replicaOf(call.replica, call.agent);
    replica.observe(call);
    session.attainedServiceMs += call.serviceMs;
    if (call.promptTokens !== undefined) session.contextTokens = call.promptTokens;
    if (call.prefixHash !== undefined) session.prefixHash = call.prefixHash;
    const previous = session.lastRan[call.agent];
    if (previous !== undefined && previous !== call.replica)
      this.replicas.get(previous)?.holdSession(session.id, false);
    session.lastRan[call.agent] = call.replica;
    replica.holdSession(session.id, true);
    this.touchSession(session, now);
  }

  private replaceWaiting(node: NodeState, calls: readonly WaitingCall[], now: number): void {
    const next = new Map<string, WaitingEntry[]>();
    for (const call of calls) {
      this.replicaOf(call.replica, call.agent);
      let list = next.get(call.sessionId);
      if (!list) next.set(call.sessionId, (list = []));
      list.push(new WaitingEntry(this.context, call));
    }
    for (const sessionId of node.waitingBySession.keys()) {
      if (next.has(sessionId)) continue;
      const session = this.sessions.get(sessionId);
      if (!session) continue;
      session.setWaiting(node.id, undefined);
      this.touchSession(session, now);
    }
    for (const [sessionId, list] of next) {
      const session = this.sessionOf(sessionId);
      session.setWaiting(node.id, list);
      this.touchSession(session, now);
    }
    node.waitingBySession = next;
  }

  private replaceLoads(node: NodeState, loads: readonly ReplicaLoad[]): void {
    const next = new Map<string, ReplicaLoad>();
    for (const load of loads) next.set(load.replica, load);
    for (const id of node.loads.keys()) if (!next.has(id)) this.replicas.get(id)?.setLoad(node.id, undefined);
    for (const load of loads) this.replicaOf(load.replica, load.agent).setLoad(node.id, load);
    node.loads = next;
  }

  private evictWorkflow(id: string, result: ExpiryResult): void {
    const wf = this.workflows.get(id);
    this.idleWorkflows.delete(id);
    if (!wf) return;
    for (const futureId of wf.futures) this.futures.delete(futureId);
    this.workflows.delete(id);
    result.workflowsEvicted++;
    const session = this.sessions.get(wf.sessionId);
    if (!session) return;
    session.removeWorkflow(id);
    // Its workflows already waited out the retention: a session left with nothing ends now.
    if (session.workflowIds.size === 0 && session.waitingCount === 0) this.endSession(session.id, result);
  }

  private endSession(id: string, result: ExpiryResult): void {
    this.idleSessions.delete(id);
    const session = this.sessions.get(id);
    if (!session) return;
    for (const replica of Object.values(session.lastRan)) this.replicas.get(replica)?.holdSession(id, false);
    this.sessions.delete(id);
    result.sessionsEnded.push(id);
  }
}
