/**
 * One child process of the stack: started in its own process group (so a stop reaches everything it
 * spawned and the terminal's Ctrl-C reaches only the supervisor, which stops children in order), output
 * prefixed line by line, stopped with SIGINT, a bounded grace time, then SIGKILL.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { realClock, type Clock, type Timer } from '../../common/clock';
import { ErrorCode, NalarError } from '../../common/errors';

export interface ProcessSpec {
  /** Short name used as the log prefix, e.g. 'temporal' or 'worker-1'. */
  name: string;
  /** An executable, or with `nodeModule` a TypeScript/JavaScript module run by Node with tsx. */
  command: string;
  args?: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run `command` as a Node module with an IPC channel (see {@link ManagedProcess.onMessage}). */
  nodeModule?: boolean;
  /**
   * Output lines dropped once a stop was requested: noise the process is known to print while it shuts down
   * (the dev server's internal workers losing their connections). @default none: every line is shown
   */
  quietWhileStopping?: (line: string) => boolean;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Receives one line of a child's output, already without its newline. */
export type LineSink = (processName: string, stream: 'stdout' | 'stderr', line: string) => void;

export class ManagedProcess {
  readonly name: string;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ExitStatus>;
  private readonly child: ChildProcess;
  /** Settles once the OS has started the process or refused to. */
  private readonly spawned: Promise<void>;
  private exitStatus: ExitStatus | undefined;
  private stopRequested = false;

  private constructor(spec: ProcessSpec, sink: LineSink) {
    this.name = spec.name;
    const options = {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
    };
    this.child = spec.nodeModule
      ? fork(spec.command, [...(spec.args ?? [])], {
          ...options,
          execArgv: ['--import', 'tsx'],
          stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        })
      : spawn(spec.command, [...(spec.args ?? [])], { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    // Listen for 'error' at once: a missing binary emits it on the next tick, and unheard it would crash.
    this.spawned = new Promise<void>((resolve, reject) => {
      this.child.once('spawn', resolve);
      this.child.once('error', (err) =>
        reject(new NalarError(ErrorCode.PROCESS_EXITED, `${spec.name}: ${err.message}`, { cause: err })),
      );
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      const input = this.child[stream];
      if (!input) continue;
      createInterface({ input }).on('line', (line) => {
        if (this.stopRequested && spec.quietWhileStopping?.(line)) return;
        sink(spec.name, stream, line);
      });
    }
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        resolve(this.exitStatus);
      });
    });
  }

  /** Starts the process; throws when it cannot be spawned at all (e.g. the binary is missing). */
  static async start(spec: ProcessSpec, sink: LineSink): Promise<ManagedProcess> {
    const proc = new ManagedProcess(spec, sink);
    await proc.spawned;
    return proc;
  }

  /** The OS process id (also the process group id, since each process leads its own group). */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitStatus === undefined;
  }

  /** Subscribes to IPC messages of a `nodeModule` process. */
  onMessage(listener: (message: unknown) => void): void {
    this.child.on('message', listener);
  }

  /** Resolves once the IPC channel is closed, so every message the process sent has been delivered. */
  ipcClosed(): Promise<void> {
    if (!this.child.connected) return Promise.resolve();
    return new Promise((resolve) => this.child.once('disconnect', () => resolve()));
  }

  /** Sends an IPC message; false when the channel is closed. */
  send(message: unknown): boolean {
    return this.child.connected ? this.child.send(message as object) : false;
  }

  /** Resolves with the exit status; rejects only to abort waits (see `waitUntil`). */
  exitedAsError(): Promise<never> {
    return this.exited.then((s) => {
      throw new NalarError(
        ErrorCode.PROCESS_EXITED,
        `${this.name} exited before it was ready (${describeExit(s)}); see its output above`,
      );
    });
  }

  /**
   * `signal` (@default SIGINT) to the process group, then SIGKILL after `graceMs` of `clock` (tests step a
   * `ManualClock`). Resolves once it has exited.
   */
  async stop(graceMs: number, clock: Clock = realClock, signal: NodeJS.Signals = 'SIGINT'): Promise<ExitStatus> {
    if (!this.running) return this.exited;
    this.stopRequested = true;
    this.signalGroup(signal);
    let timer: Timer | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = clock.setTimer(() => {
        this.signalGroup('SIGKILL');
        resolve();
      }, graceMs);
    });
    await Promise.race([this.exited, killed]);
    timer?.cancel();
    const status = await this.exited;
    // The leader is gone; make sure nothing it spawned outlives it.
    this.signalGroup('SIGKILL');
    return status;
  }

  private signalGroup(signal: NodeJS.Signals): void {
    // Never signal a group we do not own: -(-1) or -0 would reach init or our own group.
    if (this.pid <= 0) return;
    try {
      process.kill(-this.pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
}

export function describeExit(s: ExitStatus): string {
  return s.signal ? `signal ${s.signal}` : `exit code ${s.code}`;
}
