/**
 * The worker processes of one task queue, scaled on request: the supervisor's side of the worker scaler.
 *
 * - Workers are named `worker-<index>`; a new one takes the lowest free index (so metrics ports and worker ids
 *   stay within `1..max`), a scale-down stops the highest first (worker-1, which runs the state janitor, last).
 * - One change at a time: a request sets the desired count (clamped to [min, max]) and the pool steps
 *   towards it, one start or one stop after the other. A newer request supersedes a pending one: each step
 *   reads the desired count afresh, and a start under way finishes before a stop follows.
 * - A stop is graceful (the host sends SIGTERM, the worker drains within its grace, then exits); the pool
 *   never kills.
 * - A worker that exits on its own is counted out (current drops) and logged, not restarted: the next
 *   request starts a replacement. Below `min`, the stack stops, as for any other process that dies.
 * - A start that fails is logged; the pool retries on a later request, not before `retryAfterMs`.
 */
import { realClock, type Clock } from '../../common/clock';
import { ErrorCode, NalarError } from '../../common/errors';
import type { Logger } from '../../common/log';
import type { WorkerPoolStatus } from '../../control-plane/capacity/worker-scaler';
import { describeExit, type ExitStatus } from './managed-process';

/** What starts and stops the pool's processes (the supervisor; a fake in unit tests). */
export interface WorkerPoolHost {
  /** Starts `worker-<index>` and resolves once it is ready; rejects when it does not start. */
  start(index: number): Promise<void>;
  /** Stops `worker-<index>` gracefully and resolves once it has exited. */
  stop(index: number): Promise<void>;
}

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  taskQueue: string;
  /** Fewest workers (NALAR_WORKERS_MIN). */
  min: number;
  /** Most workers (NALAR_WORKERS_MAX). */
  max: number;
  /** Workers `worker-1 … worker-<initial>` already running (started with the stack); the desired count at first. */
  initial: number;
  host: WorkerPoolHost;
  log: Logger;
  /** Called whenever the status changes (the supervisor tells the global controller). */
  onChange?: (status: WorkerPoolStatus) => void;
  /** After a start failed, requests before this much time has passed do not try again. @default 10000 */
  retryAfterMs?: number;
  /** @default realClock */
  clock?: Clock;
}

type MemberState = 'starting' | 'running' | 'stopping';

/** Default of {@link WorkerPoolOptions.retryAfterMs}. */
export const defaultWorkerRetryAfterMs = 10_000;

export class WorkerPool {
  readonly taskQueue: string;
  private readonly members = new Map<number, MemberState>();
  private desired: number;
  private stepping: Promise<void> | undefined;
  private closed = false;
  private failedAt: number | undefined;
  private last: WorkerPoolStatus;

  constructor(private readonly options: WorkerPoolOptions) {
    this.taskQueue = options.taskQueue;
    for (let i = 1; i <= options.initial; i++) this.members.set(i, 'running');
    this.desired = this.clamp(options.initial);
    this.last = this.status();
  }

  /** Running now (starting ones included, stopping ones not), desired, bounds. */
  status(): WorkerPoolStatus {
    const { taskQueue, min, max } = this.options;
    return { taskQueue, current: this.live().length, desired: this.desired, min, max };
  }

  /** The process name of worker `index`. */
  static nameOf(index: number): string {
    return `worker-${index}`;
  }

  /** Whether `name` is one of this pool's workers (running, starting or stopping). */
  has(name: string): boolean {
    return [...this.members.keys()].some((i) => WorkerPool.nameOf(i) === name);
  }

  /**
   * Asks for `n` workers (clamped to [min, max]) and returns at once with the clamped count; the pool gets
   * there one change at a time. Also restarts the way to it after an unexpected exit. Throws
   * NALAR_ERR_INVALID_INPUT when `n` is not a whole number ≥ 0.
   */
  scale(n: number): number {
    const desired = this.clamp(n);
    if (desired !== this.desired) {
      this.options.log.info(`scaling ${this.taskQueue} to ${desired} worker${desired === 1 ? '' : 's'}`, {
        asked: n,
        current: this.live().length,
      });
      this.desired = desired;
      this.failedAt = undefined;
      this.publish();
    }
    this.kick();
    return desired;
  }

  /**
   * A worker of this pool exited on its own. Returns whether the stack keeps running: true unless fewer than
   * `min` workers are left. A worker that dies while starting is the start's failure (see {@link scale}).
   */
  workerExited(name: string, status: ExitStatus): boolean {
    const index = [...this.members.keys()].find((i) => WorkerPool.nameOf(i) === name);
    if (index === undefined) return false;
    const state = this.members.get(index);
    if (state === 'starting') return true;
    this.members.delete(index);
    const left = this.live().length;
    this.options.log.error(
      `${name} exited unexpectedly (${describeExit(status)}); ${this.count(left)} on ${this.taskQueue} (desired ${this.desired})`,
    );
    this.publish();
    return left >= this.options.min;
  }

  /** Stops stepping (the stack is stopping); resolves once the change under way is done. */
  async close(): Promise<void> {
    this.closed = true;
    await this.stepping;
  }

  /** Resolves once the pool has stopped stepping (the desired count reached, or a start failed). */
  settled(): Promise<void> {
    return this.stepping ?? Promise.resolve();
  }

  private kick(): void {
    if (this.stepping || this.closed) return;
    const { retryAfterMs = defaultWorkerRetryAfterMs, clock = realClock } = this.options;
    if (this.failedAt !== undefined && clock.now() - this.failedAt < retryAfterMs) return;
    this.stepping = this.step().finally(() => {
      this.stepping = undefined;
      // A request that came while the last step was returning: start over (no-op when nothing is left to do).
      if (this.live().length !== this.desired) this.kick();
    });
  }

  private async step(): Promise<void> {
    const { host, log } = this.options;
    while (!this.closed) {
      const live = this.live();
      if (live.length < this.desired) {
        let index = 1;
        while (this.members.has(index)) index++;
        const name = WorkerPool.nameOf(index);
        this.members.set(index, 'starting');
        this.publish();
        try {
          await host.start(index);
        } catch (err) {
          this.members.delete(index);
          this.failedAt = (this.options.clock ?? realClock).now();
          log.error(`${name} did not start: ${err instanceof Error ? err.message : String(err)}`, {
            taskQueue: this.taskQueue,
          });
          this.publish();
          return;
        }
        // It may have died between ready and here (then workerExited has counted it out).
        if (this.members.get(index) !== 'starting') continue;
        this.members.set(index, 'running');
        log.info(`${name} started (${this.count(this.live().length)} on ${this.taskQueue})`);
      } else if (live.length > this.desired) {
        const index = Math.max(...live);
        const name = WorkerPool.nameOf(index);
        this.members.set(index, 'stopping');
        this.publish();
        log.info(`${name} draining (${this.count(this.live().length)} on ${this.taskQueue} once it stops)`);
        await host.stop(index);
        this.members.delete(index);
        log.info(`${name} stopped (${this.count(this.live().length)} on ${this.taskQueue})`);
      } else {
        return;
      }
    }
  }

  private live(): number[] {
    return [...this.members].filter(([, s]) => s !== 'stopping').map(([i]) => i);
  }

  private clamp(n: number): number {
    if (!Number.isInteger(n) || n < 0) {
      throw new NalarError(
        ErrorCode.INVALID_INPUT,
        `${this.taskQueue}: expected a whole number of workers ≥ 0, got ${n}`,
      );
    }
    return Math.min(this.options.max, Math.max(this.options.min, n));
  }

  private count(n: number): string {
    return `${n} worker${n === 1 ? '' : 's'}`;
  }

  private publish(): void {
    const next = this.status();
    const { current, desired } = this.last;
    if (next.current === current && next.desired === desired) return;
    this.last = next;
    this.options.onChange?.(next);
  }
}
