/**
 * The worker scaler on the supervisor's side: the stack's worker pools (one per task queue; `npm start` has
 * one, on NALAR_TASK_QUEUE) and the link to the global controller over its IPC channel. The controller asks
 * with `scaleWorkers` messages; every pool change, and the state at link time, goes back as a `workers`
 * message (control-plane/capacity/scaler-protocol.ts).
 */
import type { Logger } from '../../common/log';
import { scaleWorkersMessage, type WorkerPoolsMessage } from '../../control-plane/capacity/scaler-protocol';
import type { WorkerPoolStatus } from '../../control-plane/capacity/worker-scaler';
import type { StackComponent } from './component';
import type { ExitStatus } from './managed-process';
import type { Supervisor } from './supervisor';
import { WorkerPool, type WorkerPoolHost } from './worker-pool';

/** The controller end of the IPC channel, as the supervisor holds it (a {@link ManagedProcess}). */
export interface ControllerChannel {
  onMessage(listener: (message: unknown) => void): void;
  /** False when the channel is closed. */
  send(message: unknown): boolean;
}

/** Options of {@link WorkerScaling}. */
export interface WorkerScalingOptions {
  /** One pool per entry: its task queue, bounds and the workers the stack starts on it. */
  pools: readonly { taskQueue: string; min: number; max: number; initial: number; host: WorkerPoolHost }[];
  log: Logger;
}

/** The stack's worker pools and their link to the global controller. */
export class WorkerScaling {
  readonly pools = new Map<string, WorkerPool>();
  private readonly channels: ControllerChannel[] = [];
  private warnedMalformed = false;

  constructor(private readonly options: WorkerScalingOptions) {
    for (const p of options.pools) {
      this.pools.set(p.taskQueue, new WorkerPool({ ...p, log: options.log, onChange: () => this.publish() }));
    }
  }

  /** Every pool's status. */
  status(): WorkerPoolStatus[] {
    return [...this.pools.values()].map((p) => p.status());
  }

  /**
   * Carries out `scaleWorkers` requests arriving on `channel` and sends it every pool change, starting with
   * the state now. Other messages on the channel are left to their own listeners.
   */
  link(channel: ControllerChannel): void {
    this.channels.push(channel);
    channel.onMessage((message) => this.receive(message));
    this.send(channel);
  }

  /** For {@link SupervisorOptions.tolerateExit}: a pool's worker that died (see {@link WorkerPool.workerExited}). */
  workerExited(component: StackComponent, status: ExitStatus): boolean {
    for (const pool of this.pools.values()) {
      if (pool.has(component.name)) return pool.workerExited(component.name, status);
    }
    return false;
  }

  /** Stops every pool's stepping (the stack is stopping). */
  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
  }

  private receive(message: unknown): void {
    if (typeof message !== 'object' || message === null || (message as { type?: unknown }).type !== 'scaleWorkers')
      return;
    const parsed = scaleWorkersMessage.safeParse(message);
    if (!parsed.success) {
      if (!this.warnedMalformed) this.options.log.warn(`malformed scaleWorkers request: ${parsed.error.message}`);
      this.warnedMalformed = true;
      return;
    }
    const { taskQueue, n } = parsed.data;
    const pool = this.pools.get(taskQueue);
    if (!pool) {
      this.options.log.warn(`scaleWorkers(${taskQueue}, ${n}): no worker pool on that task queue`);
      return;
    }
    pool.scale(n);
  }

  private publish(): void {
    for (const channel of this.channels) this.send(channel);
  }

  private send(channel: ControllerChannel): void {
    const message: WorkerPoolsMessage = { type: 'workers', pools: this.status() };
    channel.send(message);
  }
}

/**
 * A pool host over a running supervisor: a start adds `worker(index)` to the stack (ports checked, ready
 * awaited); a stop removes it with SIGTERM, so the worker drains (finishes the tasks it holds within
 * NALAR_SHUTDOWN_GRACE's drain share) before it exits, and only a worker still there after the whole grace is
 * killed. `supervisor` is read at each call (the supervisor is built after the pools, which it asks about exits).
 */
export function supervisorWorkerHost(
  supervisor: () => Supervisor,
  worker: (index: number) => StackComponent,
): WorkerPoolHost {
  return {
    start: (index) => supervisor().add(worker(index)),
    async stop(index) {
      await supervisor().remove(WorkerPool.nameOf(index), 'SIGTERM');
    },
  };
}
