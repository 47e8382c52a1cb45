/**
 * Starts stack components in dependency order, waits for each to be ready, and stops them in reverse
 * order. A process that exits on its own is never restarted silently: the supervisor says so and stops
 * the whole stack with a failure exit code (unless {@link SupervisorOptions.tolerateExit} takes it, as the
 * worker pools do above their minimum). Components can join and leave a running stack ({@link Supervisor.add},
 * {@link Supervisor.remove}): the worker scaler's extra workers.
 */
import { ErrorCode, NalarError } from '../../common/errors';
import type { Logger } from '../../common/log';
import type { StackComponent } from './component';
import { describeExit, type ExitStatus, type LineSink, type ManagedProcess } from './managed-process';
import { assertPortsFree } from './ports';

export interface SupervisorOptions {
  log: Logger;
  /** Receives every line of every child's output. */
  sink: LineSink;
  readinessTimeoutMs: number;
  shutdownGraceMs: number;
  /**
   * Components whose exit, or failure to start, does not stop the stack (dev mode: the workers, started
   * again by {@link Supervisor.restart} on the next change). @default none: any exit stops the stack
   */
  survivable?: (component: StackComponent) => boolean;
  /**
   * Asked about a component that exited on its own (and is not `survivable`): true when the stack keeps
   * running without it (the callee has logged and counted it; the component leaves the stack). @default
   * none: any exit stops the stack
   */
  tolerateExit?: (component: StackComponent, status: ExitStatus) => boolean;
}

export interface RunningComponent {
  component: StackComponent;
  process: ManagedProcess;
}

export class Supervisor {
  private readonly running: RunningComponent[] = [];
  /** What the stack is made of now: the given components, plus those added, minus those removed. */
  private readonly components: StackComponent[];
  /** Processes stopped by {@link restart}: their exit is expected. */
  private readonly replaced = new WeakSet<ManagedProcess>();
  private stopping: Promise<void> | undefined;
  private exitCode = 0;
  private resolveFinished!: (code: number) => void;
  /** Resolves with the exit code once the stack has stopped (0 after a requested stop). */
  readonly finished: Promise<number> = new Promise((resolve) => (this.resolveFinished = resolve));

  constructor(
    components: readonly StackComponent[],
    private readonly options: SupervisorOptions,
  ) {
    this.components = [...components];
  }

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
    await assertPortsFree(this.components.flatMap((c) => c.ports));
    for (const component of this.components) {
      if (this.stopping) return;
      try {
        await this.launch(component);
      } catch (err) {
        if (this.stopping || !this.options.survivable?.(component)) throw err;
        this.options.log.error(`${component.name} did not start: ${errorMessage(err)}`);
      }
    }
  }

  /**
   * Stops the running components `which` selects (in reverse order, SIGINT then the grace), then starts
   * them again in order and waits until each is ready. Rejects when one does not start; the rest of the
   * stack keeps running.
   */
  async restart(which: (component: StackComponent) => boolean): Promise<void> {
    const { log } = this.options;
    for (const entry of [...this.running].reverse()) {
      if (!which(entry.component)) continue;
      this.replaced.add(entry.process);
      this.running.splice(this.running.indexOf(entry), 1);
      if (!entry.process.running) continue;
      log.info(`stopping ${entry.component.name}`, { pid: entry.process.pid });
      const status = await entry.process.stop(this.options.shutdownGraceMs);
      log.info(`stopped ${entry.component.name} (${describeExit(status)})`);
    }
    for (const component of this.components.filter(which)) {
      if (this.stopping) return;
      await this.launch(component);
    }
  }

  /**
   * Starts `component` in the running stack (after its ports are checked) and resolves once it is ready. It is
   * then part of the stack: stopped with it, restarted by {@link restart} when selected. Rejects when it does
   * not start (it is stopped and forgotten) or when the stack is stopping.
   */
  async add(component: StackComponent): Promise<void> {
    if (this.stopping) throw stackStopping(component);
    if (this.components.some((c) => c.name === component.name)) {
      throw new NalarError(ErrorCode.INVALID_INPUT, `${component.name} is already part of the stack`);
    }
    await assertPortsFree(component.ports);
    this.components.push(component);
    try {
      await this.launch(component);
    } catch (err) {
      await this.forget(component.name);
      throw err;
    }
    if (this.stopping) throw stackStopping(component);
  }

  /**
   * Takes the component named `name` out of the stack: its process gets `signal`, then the grace, then SIGKILL
   * (an exit that is expected, not a failure). Resolves with its exit status once it has exited, undefined when
   * no such process runs.
   */
  async remove(name: string, signal: NodeJS.Signals = 'SIGINT'): Promise<ExitStatus | undefined> {
    const entry = this.running.find((r) => r.component.name === name);
    this.components.splice(0, this.components.length, ...this.components.filter((c) => c.name !== name));
    if (!entry) return undefined;
    this.replaced.add(entry.process);
    this.running.splice(this.running.indexOf(entry), 1);
    const { log } = this.options;
    if (entry.process.running) log.info(`stopping ${name}`, { pid: entry.process.pid, signal });
    const status = await entry.process.stop(this.options.shutdownGraceMs, undefined, signal);
    log.info(`stopped ${name} (${describeExit(status)})`);
    return status;
  }

  /** Drops a component that failed to start: its process (if any) is stopped, its exit expected. */
  private async forget(name: string): Promise<void> {
    const entry = this.running.find((r) => r.component.name === name);
    this.components.splice(0, this.components.length, ...this.components.filter((c) => c.name !== name));
    if (!entry) return;
    this.replaced.add(entry.process);
    this.running.splice(this.running.indexOf(entry), 1);
    await entry.process.stop(this.options.shutdownGraceMs);
  }

  private async launch(component: StackComponent): Promise<void> {
    const { log } = this.options;
    log.info(`starting ${component.name}`);
    const proc = await component.launch(this.options.sink);
    if (this.stopping) {
      // A stop arrived while this one was spawning: the stop loop has already passed it.
      await proc.stop(this.options.shutdownGraceMs);
      return;
    }
    this.running.push({ component, process: proc });
    void proc.exited.then((status) => {
      if (this.stopping || this.replaced.has(proc)) return;
      if (this.options.survivable?.(component)) {
        log.error(`${component.name} exited (${describeExit(status)}); it starts again on the next change`);
        return;
      }
      if (this.options.tolerateExit?.(component, status)) {
        const entry = this.running.find((r) => r.process === proc);
        if (entry) this.running.splice(this.running.indexOf(entry), 1);
        this.components.splice(0, this.components.length, ...this.components.filter((c) => c !== component));
        return;
      }
      log.error(`${component.name} exited unexpectedly (${describeExit(status)}); stopping the stack`);
      void this.stop(1);
    });
    await component.waitReady(proc, this.options.readinessTimeoutMs);
    log.info(`${component.name} is ready`, { pid: proc.pid });
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

function stackStopping(component: StackComponent): NalarError {
  return new NalarError(ErrorCode.PROCESS_EXITED, `${component.name} not started: the stack is stopping`);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
