/**
 * Starts stack components in dependency order, waits for each to be ready, and stops them in reverse
 * order. A process that exits on its own is never restarted silently: the supervisor says so and stops
 * the whole stack with a failure exit code.
 */
import type { Logger } from '../../common/log';
import type { StackComponent } from './component';
import { describeExit, type LineSink, type ManagedProcess } from './managed-process';
import { assertPortsFree } from './ports';

export interface SupervisorOptions {
  log: Logger;
  /** Receives every line of every child's output. */
  sink: LineSink;
  readinessTimeoutMs: number;
  shutdownGraceMs: number;
}

export interface RunningComponent {
  component: StackComponent;
  process: ManagedProcess;
}

export class Supervisor {
  private readonly running: RunningComponent[] = [];
  private stopping: Promise<void> | undefined;
  private exitCode = 0;
  private resolveFinished!: (code: number) => void;
  /** Resolves with the exit code once the stack has stopped (0 after a requested stop). */
  readonly finished: Promise<number> = new Promise((resolve) => (this.resolveFinished = resolve));

  constructor(
    private readonly components: readonly StackComponent[],
    private readonly options: SupervisorOptions,
  ) {}

  /** The components started so far, in start order. */
  get processes(): readonly RunningComponent[] {
    return this.running;
  }

  /** True once {@link stop} has been called (by a signal or an unexpected exit). */
  get stopRequested(): boolean {
    return this.stopping !== undefined;
  }

  /** Checks all ports, then starts each component and waits until it is ready. */
  async start(): Promise<void> {
    const { log } = this.options;
    await assertPortsFree(this.components.flatMap((c) => c.ports));
    for (const component of this.components) {
      if (this.stopping) return;
      log.info(`starting ${component.name}`);
      const proc = await component.launch(this.options.sink);
      if (this.stopping) {
        // A stop arrived while this one was spawning: the stop loop has already passed it.
        await proc.stop(this.options.shutdownGraceMs);
        return;
      }
      this.running.push({ component, process: proc });
      void proc.exited.then((status) => {
        if (this.stopping) return;
        log.error(`${component.name} exited unexpectedly (${describeExit(status)}); stopping the stack`);
        void this.stop(1);
      });
      await component.waitReady(proc, this.options.readinessTimeoutMs);
      log.info(`${component.name} is ready`, { pid: proc.pid });
    }
  }

  /** Stops every started component in reverse order; idempotent. */
  stop(exitCode = 0): Promise<void> {
    if (this.stopping) return this.stopping;
    this.exitCode = exitCode;
    this.stopping = (async () => {
      const { log } = this.options;
      for (const { component, process: proc } of [...this.running].reverse()) {
        if (!proc.running) continue;
        log.info(`stopping ${component.name}`, { pid: proc.pid });
        const status = await proc.stop(this.options.shutdownGraceMs);
        log.info(`stopped ${component.name} (${describeExit(status)})`);
      }
      this.resolveFinished(this.exitCode);
    })();
    return this.stopping;
  }
}
