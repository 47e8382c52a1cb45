/**
 * A seeded synthetic cluster for the control benchmark: workflows of 8-16 futures in dependency layers
 * (fan-out, fan-in), grouped in multi-turn sessions, spread over N emulated local controllers (nodes), with
 * agents that have several replicas, some calls waiting and replica loads. It produces what the nodes would
 * send: `Report`s (control-plane/protocol.ts) as JSON text.
 *
 * - `buildReports()`: one report per node that brings every live future into the global controller's view
 *   (one event per future, in the state it has reached: finished layers completed, the current layer started,
 *   the rest created). No workflow is finished, so every future is live.
 * - `churnReports()`: one round. Each node reports events for about `churnShare` of its futures (the current
 *   layer completes, with one finished call per completed future, and the next layer starts); a workflow that
 *   completes is replaced by a new one of the same node and size (its futures created), so the graph keeps its size
 *   once the controller evicts finished workflows. Each report also carries the node's waiting calls (about
 *   `waitingShare` of the futures: calls of started futures, with how long they have waited) and its replica
 *   loads (in flight, waiting, capacity).
 *
 * Everything follows from the seed, so two runs (and the 32- and 64-node variants) see the same shape.
 */
import { Prng } from '../../../sim/prng';
import type {
  CallRecord,
  ReplicaLoad,
  Report,
  ReportedFutureEvent,
  WaitingCall,
} from '../../../control-plane/protocol';

/** Options of {@link SyntheticCluster}. */
export interface SyntheticClusterOptions {
  /** Live futures to build (the graph's size, rounded up to whole workflows). */
  futures: number;
  /** Emulated local controllers. */
  nodes: number;
  seed: number;
  /** Share of the futures with an event per round, over all nodes. @default 0.03 */
  churnShare?: number;
  /** Share of the futures with a waiting call in some node. @default 0.01 */
  waitingShare?: number;
  /** Agents (each a replica group). @default ['planner', 'researcher', 'coder', 'tester'] */
  agents?: readonly string[];
  /** Replicas per agent. @default 8 */
  replicasPerAgent?: number;
  /** Calls in flight a replica takes over all nodes. @default 64 */
  replicaCapacity?: number;
  /** Workflows per session (turns of a multi-turn session). @default 2 */
  workflowsPerSession?: number;
  /** Every this-many-th session is a `vip-` session (what the high-priority policy names). @default 100 */
  vipEvery?: number;
  /** Epoch ms of round 0. @default 1_700_000_000_000 */
  t0?: number;
  /** Epoch ms between rounds (the control period). @default 250 */
  periodMs?: number;
}

/** The futures of one workflow: layer widths (1-4) whose sum is its size; a future depends on the whole previous layer. */
interface SyntheticWorkflow {
  id: string;
  session: string;
  node: number;
  /** Futures in each layer. */
  layers: number[];
  /** First future index of each layer. */
  starts: number[];
  /** The layer running now (its futures started; earlier ones completed). */
  layer: number;
}

/** A seeded generator of numbers in [0, 1) (the simulator's: the same sequence for the same seed). */
export function seededRandom(seed: number): () => number {
  const prng = new Prng(seed);
  return () => prng.next();
}

export const defaultAgents: readonly string[] = ['planner', 'researcher', 'coder', 'tester'];

/** The synthetic cluster; see the module comment. */
export class SyntheticCluster {
  readonly nodes: number;
  readonly agents: readonly string[];
  /** Replica ids (base URLs) per agent, as NALAR_AGENT_MODELS would list them. */
  readonly replicas: ReadonlyMap<string, readonly string[]>;
  readonly replicaCapacity: number;
  readonly periodMs: number;
  private readonly random: () => number;
  private readonly churnShare: number;
  private readonly waitingShare: number;
  private readonly workflowsPerSession: number;
  private readonly vipEvery: number;
  private readonly t0: number;
  /** Workflows by node. */
  private readonly byNode: SyntheticWorkflow[][];
  private nextWorkflow = 0;
  private round = 0;
  private futureCount = 0;
  private readonly seqs: number[];
  /** Events each node may still report to keep to `churnShare` on average (negative: it reported ahead). */
  private readonly credit: number[];

  constructor(o: SyntheticClusterOptions) {
    this.nodes = o.nodes;
    this.random = seededRandom(o.seed);
    this.churnShare = o.churnShare ?? 0.03;
    this.waitingShare = o.waitingShare ?? 0.01;
    this.agents = o.agents ?? defaultAgents;
    this.replicaCapacity = o.replicaCapacity ?? 64;
    this.workflowsPerSession = o.workflowsPerSession ?? 2;
    this.vipEvery = o.vipEvery ?? 100;
    this.t0 = o.t0 ?? 1_700_000_000_000;
    this.periodMs = o.periodMs ?? 250;
    const perAgent = o.replicasPerAgent ?? 8;
    this.replicas = new Map(
      this.agents.map((a) => [a, Array.from({ length: perAgent }, (_, i) => `http://127.0.0.1:${9000 + i}/${a}`)]),
    );
    this.byNode = Array.from({ length: o.nodes }, () => []);
    this.seqs = new Array<number>(o.nodes).fill(0);
    this.credit = new Array<number>(o.nodes).fill(0);
    while (this.futureCount < o.futures) {
      const wf = this.newWorkflow(this.nextWorkflow % o.nodes);
      // Built at every point of its life: a random layer is running (never past the last: nothing finished).
      wf.layer = Math.floor(this.random() * wf.layers.length);
      this.byNode[wf.node]!.push(wf);
    }
  }

  /** Futures in the synthetic graph now. */
  get size(): number {
    return this.futureCount;
  }

  /** Every session id, for callers that pick sessions (the decision part). */
  sessionOf(workflowIndex: number): string {
    const s = Math.floor(workflowIndex / this.workflowsPerSession);
    return s % this.vipEvery === 0 ? `vip-${s}` : `s-${s}`;
  }

  /** Sessions that exist (one per `workflowsPerSession` workflows made so far). */
  get sessionCount(): number {
    return Math.ceil(this.nextWorkflow / this.workflowsPerSession);
  }

  /** Epoch ms of the current round. */
  get now(): number {
    return this.t0 + this.round * this.periodMs;
  }

  /** One report per node that brings every future into the view, as JSON text (what a server receives). */
  *buildReports(): Generator<string> {
    const at = this.now;
    for (let node = 0; node < this.nodes; node++) {
      const events: ReportedFutureEvent[] = [];
      for (const wf of this.byNode[node]!) {
        for (let l = 0; l < wf.layers.length; l++) {
          const type = l < wf.layer ? 'completed' : l === wf.layer ? 'started' : 'created';
          for (let i = 0; i < wf.layers[l]!; i++) events.push(this.event(wf, l, i, type, at));
        }
      }
      yield JSON.stringify(this.report(node, events, [], at));
    }
  }

  /** Advances one period and returns every node's report of it, as JSON text. */
  churnReports(): string[] {
    this.round++;
    const at = this.now;
    const out: string[] = [];
    for (let node = 0; node < this.nodes; node++) {
      const workflows = this.byNode[node]!;
      const events: ReportedFutureEvent[] = [];
      const calls: CallRecord[] = [];
      // About churnShare of this node's futures get an event: a layer completing (one event and one call per
      // future) and the next starting (one event per future) is ~2.2 futures' events per workflow step.
      // A workflow step reports several events at once: the node's credit carries what it over- or under-spent
      // into its next rounds, so the share holds on average also for small graphs.
      this.credit[node] = (this.credit[node] as number) + (this.churnShare * this.futureCount) / this.nodes;
      let spent = 0;
      while (spent < (this.credit[node] as number) && workflows.length > 0) {
        const index = Math.floor(this.random() * workflows.length);
        const wf = workflows[index]!;
        for (let i = 0; i < wf.layers[wf.layer]!; i++) {
          events.push(this.event(wf, wf.layer, i, 'completed', at));
          calls.push(this.call(wf, wf.layer, i, at));
          spent++;
        }
        wf.layer++;
        if (wf.layer < wf.layers.length) {
          for (let i = 0; i < wf.layers[wf.layer]!; i++) {
            events.push(this.event(wf, wf.layer, i, 'started', at));
            spent++;
          }
        } else {
          // Finished: a new workflow of the same size takes its place (created, first layer started), so the
          // graph keeps its size exactly.
          const size = wf.starts[wf.layers.length - 1]! + wf.layers[wf.layers.length - 1]!;
          this.futureCount -= size;
          const next = this.newWorkflow(node, size);
          workflows[index] = next;
          for (let l = 0; l < next.layers.length; l++) {
            for (let i = 0; i < next.layers[l]!; i++)
              events.push(this.event(next, l, i, l === 0 ? 'started' : 'created', at));
          }
          spent += next.starts[next.layers.length - 1]! + next.layers[next.layers.length - 1]!;
        }
      }
      this.credit[node] = (this.credit[node] as number) - spent;
      out.push(JSON.stringify(this.report(node, events, calls, at)));
    }
    return out;
  }

  /** The replica a session's calls to `agent` go to (a stable spread, as a static binding would). */
  replicaOf(session: string, agent: string): string {
    const list = this.replicas.get(agent)!;
    let h = 0;
    for (let i = 0; i < session.length; i++) h = (Math.imul(h, 31) + session.charCodeAt(i)) | 0;
    return list[(h >>> 0) % list.length]!;
  }

  /** A new workflow of `size` futures (default: 8-16 at random). */
  private newWorkflow(node: number, size = 8 + Math.floor(this.random() * 9)): SyntheticWorkflow {
    const index = this.nextWorkflow++;
    const layers: number[] = [];
    const starts: number[] = [];
    let placed = 0;
    while (placed < size) {
      const width = Math.min(size - placed, 1 + Math.floor(this.random() * 4));
      starts.push(placed);
      layers.push(width);
      placed += width;
    }
    this.futureCount += size;
    return { id: `wf-${index}`, session: this.sessionOf(index), node, layers, starts, layer: 0 };
  }

  /** The agent of a layer: layers cycle through the agents, so later layers re-enter earlier agents. */
  private agentOf(layer: number): string {
    return this.agents[layer % this.agents.length]!;
  }

  private event(
    wf: SyntheticWorkflow,
    layer: number,
    i: number,
    type: ReportedFutureEvent['type'],
    at: number,
  ): ReportedFutureEvent {
    const dependencies: string[] = [];
    if (layer > 0)
      for (let j = 0; j < wf.layers[layer - 1]!; j++) dependencies.push(`${wf.id}/${wf.starts[layer - 1]! + j}`);
    return {
      type,
      futureId: `${wf.id}/${wf.starts[layer]! + i}`,
      workflowId: wf.id,
      sessionId: wf.session,
      activityType: `${this.agentOf(layer)}.run`,
      dependencies,
      at,
    };
  }

  private call(wf: SyntheticWorkflow, layer: number, i: number, at: number): CallRecord {
    const agent = this.agentOf(layer);
    const promptTokens = 500 + Math.floor(this.random() * 3500);
    const cachedTokens = Math.floor(promptTokens * this.random() * 0.8);
    return {
      futureId: `${wf.id}/${wf.starts[layer]! + i}`,
      workflowId: wf.id,
      sessionId: wf.session,
      agent,
      replica: this.replicaOf(wf.session, agent),
      priority: 3,
      queueMs: Math.floor(this.random() * 200),
      serviceMs: 200 + Math.floor(this.random() * 2000),
      ok: true,
      promptTokens,
      cachedTokens,
      // Prefill of the uncached prompt at ~0.25 ms per token: what the view learns a move's recompute cost from.
      ttftMs: 20 + Math.floor((promptTokens - cachedTokens) * 0.25),
      prefixHash: `p-${wf.session}`,
      at,
    };
  }

  /** The node's waiting calls now: calls of started futures of random workflows of its own. */
  private waiting(node: number, at: number): WaitingCall[] {
    const workflows = this.byNode[node]!;
    const want = this.share(this.waitingShare);
    const out: WaitingCall[] = [];
    for (let k = 0; k < want && workflows.length > 0; k++) {
      const wf = workflows[Math.floor(this.random() * workflows.length)]!;
      const layer = Math.min(wf.layer, wf.layers.length - 1);
      const agent = this.agentOf(layer);
      // A call waits only for a full replica: one bound to this round's roomy replica waits for the next one.
      let replica = this.replicaOf(wf.session, agent);
      if (replica === this.roomyReplica(agent)) replica = this.nextReplica(agent, replica);
      out.push({
        futureId: `${wf.id}/${wf.starts[layer]!}`,
        workflowId: wf.id,
        sessionId: wf.session,
        agent,
        replica,
        priority: 3,
        since: at - Math.floor(this.random() * 3000),
        promptTokens: 500 + Math.floor(this.random() * 3500),
      });
    }
    return out;
  }

  /** `share` of the futures over the nodes, rounded at random (so small graphs still get their share on average). */
  private share(share: number): number {
    const exact = (share * this.futureCount) / this.nodes;
    return Math.floor(exact) + (this.random() < exact - Math.floor(exact) ? 1 : 0);
  }

  /** The replica of `agent` with room this round (it changes every round, as load moves). */
  private roomyReplica(agent: string): string {
    const list = this.replicas.get(agent)!;
    return list[this.round % list.length]!;
  }

  private nextReplica(agent: string, replica: string): string {
    const list = this.replicas.get(agent)!;
    return list[(list.indexOf(replica) + 1) % list.length]!;
  }

  /**
   * The node's replica loads: every replica of every agent with the node's share of its capacity in flight
   * (the cluster is busy), except one replica per agent with one call fewer on every node (room where a
   * head-of-line move can go), and the node's waiting calls counted on the replica they wait for.
   */
  private loads(waiting: readonly WaitingCall[]): ReplicaLoad[] {
    const waitingOn = new Map<string, number>();
    for (const w of waiting) waitingOn.set(w.replica, (waitingOn.get(w.replica) ?? 0) + 1);
    const share = Math.max(1, Math.floor(this.replicaCapacity / this.nodes));
    const out: ReplicaLoad[] = [];
    for (const agent of this.agents) {
      const list = this.replicas.get(agent)!;
      const roomy = this.roomyReplica(agent);
      for (const replica of list) {
        out.push({
          agent,
          replica,
          inFlight: replica === roomy ? share - 1 : share,
          waiting: waitingOn.get(replica) ?? 0,
          limit: share,
          capacity: this.replicaCapacity,
          healthy: true,
        });
      }
    }
    return out;
  }

  private report(node: number, events: ReportedFutureEvent[], calls: CallRecord[], at: number): Report {
    const waiting = this.waiting(node, at);
    return {
      node: `node-${node}`,
      seq: this.seqs[node]!++,
      decisionsVersion: 0,
      taskQueues: ['nalar'],
      events,
      calls,
      waiting,
      replicas: this.loads(waiting),
      at,
    };
  }
}
