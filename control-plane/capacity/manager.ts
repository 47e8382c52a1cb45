/**
 * The capacity manager: what carries out the capacity primitives of a round ({@link CapacityActuator}). It
 * holds each managed agent's replicas and their life (loading → serving → releasing → draining → gone, or
 * back to loading for another agent), enforces the `minInstances`/`maxInstances` directives, asks the
 * {@link Provisioner} for the changes and the {@link WorkerScaler} for worker counts, and keeps the snapshot's
 * `capacity` and `workers` views.
 *
 * No call is lost when capacity leaves: a killed or reassigned replica first leaves routing (the next decisions'
 * `replicas` no longer list it), and the provisioner is asked to drain it only once every live local controller
 * has installed those decisions and none has a call in flight on it ("releasing"); the provisioner's own drain
 * then answers whatever reached the replica. A node that never lets go (a hung call) is waited for
 * `releaseTimeoutMs`, after which the provisioner's drain takes over.
 *
 * A refused action (past a bound, a replica already changing) is counted and logged once per reason, never
 * thrown: a policy keeps its other actions. At most one change runs per replica; counts include changes under
 * way, so a policy that asks each round sees what it already asked for.
 */
import { realClock, type Clock } from '../../common/clock';
import { errorMessage } from '../../common/errors';
import { createLogger, type Logger } from '../../common/log';
import type { CapacityActuator } from '../global-controller/controller';
import type { CapacityAction } from '../global-controller/recorder';
import type { ControlView } from '../global-controller/view';
import type { AgentCapacityView } from '../policies/api';
import type { Decisions } from '../protocol';
import { capacityActions, managedReplicas } from './metrics';
import type { Provisioner, ProvisionedReplica } from './provisioner';
import type { WorkerScaler } from './worker-scaler';

/** An agent whose replicas the manager owns. */
export interface ManagedAgent {
  readonly agent: string;
  /** The model its calls ask for: a replica serving it belongs to the agent. */
  readonly model: string;
  /** @default 1 */
  readonly minInstances?: number;
  /** @default unlimited */
  readonly maxInstances?: number;
}

export interface CapacityManagerOptions {
  provisioner: Provisioner;
  agents: readonly ManagedAgent[];
  /** The controller's view: its `capacity` and `workers` maps are kept here. */
  view: ControlView;
  workerScaler?: WorkerScaler;
  /** Longest wait for local controllers to let go of a replica before the provisioner drains it anyway. @default 30000 */
  releaseTimeoutMs?: number;
  /**
   * What a released replica waits for before the provisioner drains it: the calls local controllers hold on it
   * to finish (true), or only every node routing without it (false). Then the provisioner's drain answers what
   * the replica still holds within its own deadline (the simulator's `drainTimeoutMs` answers longer calls 503
   * `replica_draining`, which the worker retries on another replica: recomputed, not lost), so a move does not
   * wait for the longest reply on the replica it takes. @default true
   */
  releaseWaitsForCalls?: boolean;
  /** Times release timeouts and stamps events. @default realClock */
  clock?: Clock;
  /** Epoch ms of events. @default Date.now */
  epochNow?: () => number;
  log?: Logger;
}

/** Where a replica is in its life here. `releasing`: out of routing, waiting for nodes to let go. */
export type ManagedState = 'loading' | 'serving' | 'releasing' | 'draining';

/** One managed replica. */
export interface ManagedReplica {
  /** The provisioner's id. */
  readonly id: string;
  /** Base URL: the replica's id in routing. */
  readonly url: string;
  /** The agent it serves, loads for, or (releasing, draining) leaves. */
  agent: string;
  state: ManagedState;
  /** What follows its release: removal, or serving `to`. */
  next?: { readonly kind: 'kill' } | { readonly kind: 'reassign'; readonly to: string };
  /** Version of the first decisions without it (releasing). */
  releasedIn?: number;
  /** Clock ms when its release began. */
  releasingSince?: number;
}

/** A step of a capacity change, with its epoch ms (the scaling benchmark splits reaction time with these). */
export interface CapacityEvent {
  readonly at: number;
  readonly kind:
    | 'provision-requested'
    | 'kill-requested'
    | 'reassign-requested'
    | 'released'
    | 'serving'
    | 'removed'
    | 'failed'
    | 'refused'
    | 'workers-requested';
  readonly agent?: string;
  readonly replica?: string;
  readonly taskQueue?: string;
  readonly detail?: string;
}

/** What `GET /v1/capacity` shows. */
export interface CapacityStatus {
  readonly provisioner: string;
  readonly agents: readonly AgentCapacityView[];
  readonly replicas: readonly ManagedReplica[];
  readonly workers: ReturnType<WorkerScaler['status']>;
  /** The latest events, oldest first. */
  readonly events: readonly CapacityEvent[];
}

const maxEvents = 500;

export class CapacityManager implements CapacityActuator {
  private readonly provisioner: Provisioner;
  private readonly view: ControlView;
  private readonly scaler: WorkerScaler | undefined;
  private readonly releaseTimeoutMs: number;
  private readonly releaseWaitsForCalls: boolean;
  private readonly clock: Clock;
  private readonly epochNow: () => number;
  private readonly log: Logger;
  private readonly agents = new Map<string, Required<ManagedAgent>>();
  private readonly byModel = new Map<string, string>();
  /** Managed replicas by base URL. */
  private readonly replicas = new Map<string, ManagedReplica>();
  /** Provisions asked for whose replica is not known yet, by agent. */
  private readonly pending = new Map<string, number>();
  private readonly eventLog: CapacityEvent[] = [];
  private readonly loggedRefusals = new Set<string>();
  private readonly listeners = new Set<(event: CapacityEvent) => void>();
  private closed = false;

  private constructor(options: CapacityManagerOptions) {
    this.provisioner = options.provisioner;
    this.view = options.view;
    this.scaler = options.workerScaler;
    this.releaseTimeoutMs = options.releaseTimeoutMs ?? 30_000;
    this.releaseWaitsForCalls = options.releaseWaitsForCalls ?? true;
    this.clock = options.clock ?? realClock;
    this.epochNow = options.epochNow ?? Date.now;
    this.log = options.log ?? createLogger('capacity');
    for (const a of options.agents) {
      const other = this.byModel.get(a.model);
      if (other !== undefined) {
        throw new Error(
          `agents ${other} and ${a.agent} share model ${a.model}: managed capacity needs one model per agent`,
        );
      }
      this.byModel.set(a.model, a.agent);
      this.agents.set(a.agent, {
        agent: a.agent,
        model: a.model,
        minInstances: a.minInstances ?? 1,
        maxInstances: a.maxInstances ?? Infinity,
      });
    }
  }

  /**
   * Takes the provisioner's replicas (each serving or loading a managed agent's model belongs to that agent;
   * others are left alone), then provisions up to each agent's `minInstances`.
   */
  static async start(options: CapacityManagerOptions): Promise<CapacityManager> {
    const manager = new CapacityManager(options);
    for (const r of await manager.provisioner.list()) manager.adopt(r);
    for (const a of manager.agents.values()) {
      for (let n = manager.count(a.agent); n < a.minInstances; n++) manager.provision(a.agent);
    }
    manager.refreshViews();
    return manager;
  }

  /** Calls `listener` with every event from now on; returns the unsubscribe function. */
  onEvent(listener: (event: CapacityEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  apply(actions: readonly CapacityAction[]): void {
    for (const action of actions) {
      if (action.kind === 'provision') this.provision(action.agent);
      else if (action.kind === 'kill') this.kill(action.replica);
      else if (action.kind === 'reassign') this.reassign(action.replica, action.agent);
      else this.scaleWorkers(action.taskQueue, action.n);
    }
    this.refreshViews();
  }

  routable(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const agent of this.agents.keys()) out[agent] = [];
    for (const r of this.replicas.values()) if (r.state === 'serving') out[r.agent]?.push(r.url);
    return out;
  }

  /** After each round's publish: moves released replicas on to the provisioner, refreshes the worker view. */
  settle(published: Decisions): void {
    const now = this.clock.now();
    for (const r of this.replicas.values()) {
      if (r.state !== 'releasing') continue;
      if (r.releasedIn === undefined) {
        if (published.replicas[r.agent]?.includes(r.url)) continue;
        r.releasedIn = published.version;
      }
      const timedOut = now - (r.releasingSince ?? now) >= this.releaseTimeoutMs;
      if (timedOut || this.letGo(r)) {
        if (timedOut)
          this.log.warn(`replica ${r.url} still in use after ${this.releaseTimeoutMs} ms; draining it anyway`);
        this.drain(r);
      }
    }
    this.refreshViews();
  }

  /** Whether no change is under way (nothing asked for, loading, releasing or draining). */
  get quiet(): boolean {
    for (const n of this.pending.values()) if (n > 0) return false;
    for (const r of this.replicas.values()) if (r.state !== 'serving') return false;
    return true;
  }

  /**
   * Moves every serving replica back to the agent `assignment` gives it (base URL → agent), past the bounds:
   * an operator's reset to a known split (the benchmarks restore the static split between runs). Replicas
   * not in `assignment` stay.
   */
  reassignAll(assignment: Readonly<Record<string, string>>): void {
    for (const r of this.replicas.values()) {
      const to = assignment[r.url];
      if (to === undefined || r.state !== 'serving' || to === r.agent || !this.agents.has(to)) continue;
      this.release(r, { kind: 'reassign', to });
      this.pending.set(to, (this.pending.get(to) ?? 0) + 1);
      this.event({ kind: 'reassign-requested', agent: to, replica: r.url, detail: `from ${r.agent} (reset)` });
    }
    this.refreshViews();
  }

  /** What `GET /v1/capacity` shows. */
  status(): CapacityStatus {
    return {
      provisioner: this.provisioner.name,
      agents: [...this.view.capacity.values()],
      replicas: [...this.replicas.values()].map((r) => ({ ...r })),
      workers: this.scaler?.status() ?? [],
      events: [...this.eventLog],
    };
  }

  /** Stops acting on completions (changes under way go on in the backend). */
  async close(): Promise<void> {
    this.closed = true;
    await this.provisioner.close?.();
  }

  private provision(agent: string): void {
    const a = this.agents.get(agent);
    if (!a) return this.refuse('provision', agent, undefined, `${agent} is not managed`);
    if (this.count(agent) >= a.maxInstances) {
      return this.refuse('provision', agent, undefined, `${agent} is at maxInstances ${a.maxInstances}`);
    }
    this.pending.set(agent, (this.pending.get(agent) ?? 0) + 1);
    this.event({ kind: 'provision-requested', agent });
    capacityActions.inc({ action: 'provision', outcome: 'started' });
    void this.provisioner.provision({ agent, model: a.model }).then(
      (r) => {
        this.pending.set(agent, (this.pending.get(agent) ?? 1) - 1);
        const managed: ManagedReplica = { id: r.id, url: r.baseUrl, agent, state: 'loading' };
        this.replicas.set(r.baseUrl, managed);
        this.refreshViews();
        return this.becomeServing(managed, 'provision');
      },
      (err: unknown) => {
        this.pending.set(agent, (this.pending.get(agent) ?? 1) - 1);
        this.failed('provision', agent, undefined, err);
      },
    );
  }

  private kill(url: string): void {
    const r = this.replicas.get(url);
    if (!r) return this.refuse('kill', undefined, url, `${url} is not a managed replica`);
    if (r.state !== 'serving') return this.refuse('kill', r.agent, url, `${url} is ${r.state}, not serving`);
    const a = this.agents.get(r.agent) as Required<ManagedAgent>;
    if (this.serving(r.agent) - 1 < a.minInstances) {
      return this.refuse('kill', r.agent, url, `${r.agent} is at minInstances ${a.minInstances}`);
    }
    this.release(r, { kind: 'kill' });
    this.event({ kind: 'kill-requested', agent: r.agent, replica: url });
  }

  private reassign(url: string, to: string): void {
    const r = this.replicas.get(url);
    const target = this.agents.get(to);
    if (!r) return this.refuse('reassign', to, url, `${url} is not a managed replica`);
    if (!target) return this.refuse('reassign', to, url, `${to} is not managed`);
    if (r.state !== 'serving') return this.refuse('reassign', r.agent, url, `${url} is ${r.state}, not serving`);
    if (r.agent === to) return this.refuse('reassign', to, url, `${url} already serves ${to}`);
    const source = this.agents.get(r.agent) as Required<ManagedAgent>;
    if (this.serving(r.agent) - 1 < source.minInstances) {
      return this.refuse('reassign', r.agent, url, `${r.agent} is at minInstances ${source.minInstances}`);
    }
    if (this.count(to) >= target.maxInstances) {
      return this.refuse('reassign', to, url, `${to} is at maxInstances ${target.maxInstances}`);
    }
    this.release(r, { kind: 'reassign', to });
    // Counted for the target from now on, so a second reassignment in the next round sees it.
    this.pending.set(to, (this.pending.get(to) ?? 0) + 1);
    this.event({ kind: 'reassign-requested', agent: to, replica: url, detail: `from ${r.agent}` });
  }

  private scaleWorkers(taskQueue: string, n: number): void {
    if (!this.scaler) return this.refuse('scaleWorkers', undefined, undefined, 'no worker scaler');
    this.event({ kind: 'workers-requested', taskQueue, detail: String(n) });
    capacityActions.inc({ action: 'scaleWorkers', outcome: 'started' });
    this.scaler.scale(taskQueue, n).then(
      () => capacityActions.inc({ action: 'scaleWorkers', outcome: 'done' }),
      (err: unknown) => this.failed('scaleWorkers', undefined, undefined, err),
    );
  }

  /** Takes the replica out of routing; {@link settle} drains it once nodes let go. */
  private release(r: ManagedReplica, next: NonNullable<ManagedReplica['next']>): void {
    r.state = 'releasing';
    r.next = next;
    r.releasingSince = this.clock.now();
    delete r.releasedIn;
    capacityActions.inc({ action: next.kind, outcome: 'started' });
  }

  /** Every live node has installed decisions without the replica and (unless told not to wait) holds no call on it. */
  private letGo(r: ManagedReplica): boolean {
    const version = r.releasedIn as number;
    for (const node of this.view.nodes.values()) {
      if (node.decisionsVersion < version) return false;
      const load = node.loads.get(r.url);
      if (this.releaseWaitsForCalls && load && load.inFlight > 0) return false;
    }
    return true;
  }

  private drain(r: ManagedReplica): void {
    r.state = 'draining';
    this.event({ kind: 'released', agent: r.agent, replica: r.url });
    const next = r.next;
    if (next?.kind === 'reassign') {
      const to = next.to;
      const model = (this.agents.get(to) as Required<ManagedAgent>).model;
      void this.provisioner.reassign(r.id, { agent: to, model }).then(
        () => {
          this.pending.set(to, (this.pending.get(to) ?? 1) - 1);
          this.view.forgetReplica(r.url);
          r.agent = to;
          r.state = 'loading';
          delete r.next;
          return this.becomeServing(r, 'reassign');
        },
        (err: unknown) => {
          this.pending.set(to, (this.pending.get(to) ?? 1) - 1);
          this.replicas.delete(r.url);
          this.failed('reassign', to, r.url, err);
        },
      );
      return;
    }
    void this.provisioner.kill(r.id).then(
      () => {
        this.replicas.delete(r.url);
        this.view.forgetReplica(r.url);
        capacityActions.inc({ action: 'kill', outcome: 'done' });
        this.event({ kind: 'removed', agent: r.agent, replica: r.url });
        this.refreshViews();
      },
      (err: unknown) => {
        this.replicas.delete(r.url);
        this.failed('kill', r.agent, r.url, err);
      },
    );
  }

  private async becomeServing(r: ManagedReplica, action: 'provision' | 'reassign'): Promise<void> {
    try {
      await this.provisioner.whenServing(r.id);
    } catch (err) {
      this.replicas.delete(r.url);
      return this.failed(action, r.agent, r.url, err);
    }
    if (this.closed) return;
    r.state = 'serving';
    capacityActions.inc({ action, outcome: 'done' });
    this.event({ kind: 'serving', agent: r.agent, replica: r.url });
    this.refreshViews();
  }

  /** A provisioner replica: managed when it serves (or loads) a managed agent's model. */
  private adopt(r: ProvisionedReplica): void {
    const agent = this.byModel.get(r.model);
    if (agent === undefined || r.state === 'draining') return;
    const managed: ManagedReplica = { id: r.id, url: r.baseUrl, agent, state: r.state };
    this.replicas.set(r.baseUrl, managed);
    if (r.state === 'loading') void this.becomeServing(managed, 'provision');
  }

  /** Serving + loading + asked for, for the bounds. */
  private count(agent: string): number {
    let n = this.pending.get(agent) ?? 0;
    for (const r of this.replicas.values())
      if (r.agent === agent && (r.state === 'serving' || r.state === 'loading')) n++;
    return n;
  }

  private serving(agent: string): number {
    let n = 0;
    for (const r of this.replicas.values()) if (r.agent === agent && r.state === 'serving') n++;
    return n;
  }

  private refreshViews(): void {
    for (const a of this.agents.values()) {
      const serving: string[] = [];
      const loading: string[] = [];
      const draining: string[] = [];
      for (const r of this.replicas.values()) {
        if (r.agent !== a.agent) continue;
        if (r.state === 'serving') serving.push(r.url);
        else if (r.state === 'loading') loading.push(r.url);
        else draining.push(r.url);
      }
      // Asked-for replicas not known yet (a provision under way, a reassignment still draining elsewhere).
      for (let i = 0; i < (this.pending.get(a.agent) ?? 0); i++) loading.push(`pending:${a.agent}:${i}`);
      this.view.capacity.set(a.agent, {
        agent: a.agent,
        minInstances: a.minInstances,
        maxInstances: a.maxInstances,
        serving,
        loading,
        draining,
      });
      managedReplicas.set({ agent: a.agent, state: 'serving' }, serving.length);
      managedReplicas.set({ agent: a.agent, state: 'loading' }, loading.length);
      managedReplicas.set({ agent: a.agent, state: 'draining' }, draining.length);
    }
    this.view.workers.clear();
    for (const pool of this.scaler?.status() ?? []) this.view.workers.set(pool.taskQueue, pool);
  }

  private refuse(action: string, agent: string | undefined, replica: string | undefined, why: string): void {
    capacityActions.inc({ action, outcome: 'refused' });
    this.event({
      kind: 'refused',
      ...(agent !== undefined && { agent }),
      ...(replica && { replica }),
      detail: `${action}: ${why}`,
    });
    const key = `${action}\n${why}`;
    if (this.loggedRefusals.has(key)) return;
    this.loggedRefusals.add(key);
    this.log.info(`${action} refused: ${why} (repeats are counted, not logged)`);
  }

  private failed(action: string, agent: string | undefined, replica: string | undefined, err: unknown): void {
    capacityActions.inc({ action, outcome: 'failed' });
    this.event({
      kind: 'failed',
      ...(agent !== undefined && { agent }),
      ...(replica !== undefined && { replica }),
      detail: `${action}: ${errorMessage(err)}`,
    });
    this.log.warn(`${action} failed: ${errorMessage(err)}`, { ...(agent && { agent }), ...(replica && { replica }) });
    this.refreshViews();
  }

  private event(e: Omit<CapacityEvent, 'at'>): void {
    const event: CapacityEvent = { at: this.epochNow(), ...e };
    this.eventLog.push(event);
    if (this.eventLog.length > maxEvents) this.eventLog.shift();
    for (const listener of this.listeners) listener(event);
  }
}
