/**
 * The primitives a policy acts through, as a recorder: a call checks its arguments against the snapshot and
 * records an action; nothing takes effect until the policy returns within its budget (a policy that throws or
 * overruns leaves no trace). A bad argument throws `NALAR_ERR_INVALID_INPUT`, which skips the policy for the
 * round like any other throw, with a message that says which call was wrong.
 */
import { ErrorCode, NalarError } from '../../common/errors';
import type { Primitives, Snapshot } from '../policies/api';
import { priorityValue } from '../protocol';

/** A recorded call of a capacity primitive (what the capacity manager and the worker scaler carry out). */
export type CapacityAction = Extract<PolicyAction, { kind: 'provision' | 'kill' | 'reassign' | 'scaleWorkers' }>;

/** One recorded primitive call. */
export type PolicyAction =
  | { readonly kind: 'pin'; readonly agent: string; readonly session: string; readonly replica: string }
  | { readonly kind: 'weights'; readonly agent: string; readonly weights: Readonly<Record<string, number>> }
  | { readonly kind: 'priority'; readonly session: string; readonly agent: string; readonly value: number }
  | { readonly kind: 'provision'; readonly agent: string }
  | { readonly kind: 'kill'; readonly replica: string }
  | { readonly kind: 'reassign'; readonly replica: string; readonly agent: string }
  | { readonly kind: 'scaleWorkers'; readonly taskQueue: string; readonly n: number };

function invalid(message: string): never {
  throw new NalarError(ErrorCode.INVALID_INPUT, message);
}

/** Records a policy's primitive calls for one round. */
export class PrimitivesRecorder implements Primitives {
  readonly actions: PolicyAction[] = [];
  private closed = false;

  constructor(private readonly snapshot: Snapshot) {}

  /** Ignores every later call (an async policy acting after its round). */
  close(): void {
    this.closed = true;
  }

  route(session: string, agent: string, replica: string): void;
  route(agent: string, replicas: readonly string[], weights: readonly number[]): void;
  route(a: string, b: string | readonly string[], c: string | readonly number[]): void {
    if (typeof b === 'string' && typeof c === 'string') {
      this.checkReplica(`route(${a}, ${b}, ${c})`, c, b);
      this.record({ kind: 'pin', agent: b, session: a, replica: c });
      return;
    }
    if (typeof b === 'string' || typeof c === 'string' || b.length !== c.length) {
      invalid(`route(agent, replicas, weights) of ${a}: expected two lists of the same length`);
    }
    const weights: Record<string, number> = {};
    b.forEach((replica, i) => {
      const w = c[i] as number;
      if (!Number.isFinite(w) || w < 0) invalid(`route(${a}, …): weight ${w} of ${replica} is not a number ≥ 0`);
      this.checkReplica(`route(${a}, …)`, replica, a);
      weights[replica] = w;
    });
    this.record({ kind: 'weights', agent: a, weights });
  }

  setPriority(session: string, value: number, agent?: string): void {
    if (!priorityValue.safeParse(value).success) {
      invalid(`setPriority(${session}, ${value}): a priority is an integer from 1 (first) to 5`);
    }
    this.record({ kind: 'priority', session, agent: agent ?? '*', value });
  }

  migrate(session: string, from: string, to: string): void {
    const target = this.snapshot.replicas.get(to);
    if (!target) invalid(`migrate(${session}, ${from}, ${to}): no replica ${to}`);
    const source = this.snapshot.replicas.get(from);
    if (source && source.agent !== target.agent) {
      invalid(`migrate(${session}, ${from}, ${to}): ${from} serves ${source.agent}, ${to} serves ${target.agent}`);
    }
    this.record({ kind: 'pin', agent: target.agent, session, replica: to });
  }

  provision(agent: string): void {
    if (!this.snapshot.capacity.has(agent)) invalid(`provision(${agent}): ${agent} is not managed by a provisioner`);
    this.record({ kind: 'provision', agent });
  }

  kill(replica: string): void {
    if (!this.knows(replica)) invalid(`kill(${replica}): no replica ${replica}`);
    this.record({ kind: 'kill', replica });
  }

  reassign(replica: string, agent: string): void {
    if (!this.knows(replica)) invalid(`reassign(${replica}, ${agent}): no replica ${replica}`);
    if (!this.snapshot.capacity.has(agent)) {
      invalid(`reassign(${replica}, ${agent}): ${agent} is not managed by a provisioner`);
    }
    this.record({ kind: 'reassign', replica, agent });
  }

  scaleWorkers(taskQueue: string, n: number): void {
    if (!Number.isInteger(n) || n < 0) invalid(`scaleWorkers(${taskQueue}, ${n}): expected a whole number ≥ 0`);
    if (!this.snapshot.workers.has(taskQueue)) invalid(`scaleWorkers(${taskQueue}, ${n}): no worker pool polls it`);
    this.record({ kind: 'scaleWorkers', taskQueue, n });
  }

  /** A replica some node reports, or a managed one (serving before any node used it). */
  private knows(replica: string): boolean {
    if (this.snapshot.replicas.has(replica)) return true;
    for (const c of this.snapshot.capacity.values()) if (c.serving.includes(replica)) return true;
    return false;
  }

  private record(action: PolicyAction): void {
    if (!this.closed) this.actions.push(action);
  }

  private checkReplica(call: string, replica: string, agent: string): void {
    const known = this.snapshot.replicas.get(replica);
    if (!known) invalid(`${call}: no replica ${replica}`);
    if (known.agent !== agent) invalid(`${call}: replica ${replica} serves ${known.agent}, not ${agent}`);
  }
}
