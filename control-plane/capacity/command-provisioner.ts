/**
 * The command provisioner: the hook for real deployments (NALAR_PROVISIONER=command). Nalar runs the executable
 * NALAR_PROVISIONER_COMMAND (an absolute path, or a name looked up on PATH) once per call, with a verb and its
 * arguments as separate argv entries (never through a shell, so an id or a model name cannot inject anything):
 *
 * | call                   | argv                             | exit 0 means                          | stdout (one JSON document)         |
 * | ---------------------- | -------------------------------- | ------------------------------------- | ---------------------------------- |
 * | `list()`               | `list`                           | —                                     | `{ "replicas": [<replica>, …] }`   |
 * | `provision(r)`         | `provision <agent> <model>`      | the replica exists (usually loading)  | `<replica>`                        |
 * | `whenServing(id)`      | `when-serving <id>`              | it serves (the command waits)         | nothing, or `<replica>` (serving)  |
 * | `kill(id)`             | `kill <id>`                      | drained and gone (the command waits)  | nothing (ignored)                  |
 * | `reassign(id, to)`     | `reassign <id> <model> <agent>`  | serves `model` (the command waits)    | nothing, or `<replica>` (serving)  |
 *
 * `reassign` passes the target agent last (a script written before it was passed, ignoring extra arguments,
 * still works): the command restarts the replica's engine with that agent's deployment arguments, as
 * `provision` starts one for the agent.
 *
 * `<replica>` is `{ "id": "…", "model": "…", "baseUrl": "http://…/v1", "state": "loading" | "serving" |
 * "draining" }` (more fields are ignored). Exit status 3 means "no such replica" (NALAR_ERR_REPLICA_NOT_FOUND), 4
 * "the replica is already changing" (NALAR_ERR_CONFLICT); any other non-zero status, a signal, an answer that is
 * not the JSON above, or a call longer than the time limit (NALAR_PROVISIONER_TIMEOUT: SIGTERM to the command's
 * process group, SIGKILL after a grace) is NALAR_ERR_PROVISIONER_FAILED with the end of its stderr. stdin is
 * empty; the environment is Nalar's (so KUBECONFIG and cloud credentials reach it). An example for Kubernetes:
 * docs/control-plane/provisioner-kubectl.sh, described in docs/control-plane/capacity.md.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { z } from 'zod';
import { configDefaults, durationMs } from '../../common/config';
import { ErrorCode, NalarError } from '../../common/errors';
import type { ProvisionedReplica, ProvisionRequest, Provisioner } from './provisioner';

/** Exit status of the command for an unknown replica id. */
export const EXIT_NOT_FOUND = 3;
/** Exit status of the command for a replica that is already being changed. */
export const EXIT_CONFLICT = 4;

/** Grace between SIGTERM and SIGKILL of a command past its time limit. */
const KILL_GRACE_MS = 5000;
/** Most stdout a command may print (one JSON document); beyond it the call fails. */
const MAX_STDOUT_BYTES = 1024 * 1024;
/** How much of the end of stderr goes into an error. */
const STDERR_TAIL_BYTES = 2000;

/** Options of {@link CommandProvisioner}. */
export interface CommandProvisionerOptions {
  /** The executable (NALAR_PROVISIONER_COMMAND): an absolute path, or a name looked up on PATH. */
  command: string;
  /** Arguments put before the verb (an interpreter's script, a `--context`). @default [] */
  args?: readonly string[];
  /** Time limit of one call (kill and reassign wait for a drain). @default NALAR_PROVISIONER_TIMEOUT's default (10 minutes) */
  timeoutMs?: number;
  /** Environment of the command. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Grace between SIGTERM and SIGKILL of a command past its time limit. @default 5000 */
  killGraceMs?: number;
}

const replicaSchema = z.object({
  id: z.string().min(1),
  model: z.string().min(1),
  baseUrl: z.url(),
  state: z.enum(['loading', 'serving', 'draining']),
});
const listSchema = z.object({ replicas: z.array(replicaSchema) });

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Set when the command printed more than {@link MAX_STDOUT_BYTES}. */
  overflow: boolean;
  /** Why it could not be started (not found, not executable). */
  startError?: string;
}

const nonEmpty = (what: string, value: string) => {
  if (value === '') throw new NalarError(ErrorCode.INVALID_INPUT, `command provisioner: empty ${what}`);
  return value;
};

/** A {@link Provisioner} that runs a command per call (protocol in this file's doc). */
export class CommandProvisioner implements Provisioner {
  readonly name = 'command';
  private readonly timeoutMs: number;
  private readonly killGraceMs: number;
  /** Commands running now, by pid (their process groups are signalled on close). */
  private readonly running = new Set<number>();

  constructor(private readonly options: CommandProvisionerOptions) {
    const c = options.command;
    if (c === '' || (c.includes(path.sep) && !path.isAbsolute(c))) {
      throw new NalarError(
        ErrorCode.CONFIG_INVALID,
        `NALAR_PROVISIONER_COMMAND=${c}: expected an absolute path or a name on PATH`,
      );
    }
    this.timeoutMs = options.timeoutMs ?? (durationMs(configDefaults.provisionerTimeout) as number);
    this.killGraceMs = options.killGraceMs ?? KILL_GRACE_MS;
  }

  async list(): Promise<ProvisionedReplica[]> {
    return (await this.run(['list'], listSchema)).replicas;
  }

  async provision(request: ProvisionRequest): Promise<ProvisionedReplica> {
    const argv = ['provision', nonEmpty('agent', request.agent), nonEmpty('model', request.model)];
    return this.run(argv, replicaSchema);
  }

  async whenServing(id: string): Promise<void> {
    const r = await this.run(['when-serving', nonEmpty('id', id)], replicaSchema.optional());
    this.expectServing(`when-serving ${id}`, r);
  }

  async kill(id: string): Promise<void> {
    await this.run(['kill', nonEmpty('id', id)], undefined);
  }

  async reassign(id: string, to: ProvisionRequest): Promise<void> {
    const argv = ['reassign', nonEmpty('id', id), nonEmpty('model', to.model), nonEmpty('agent', to.agent)];
    const r = await this.run(argv, replicaSchema.optional());
    this.expectServing(`reassign ${id} ${to.model} ${to.agent}`, r, to.model);
  }

  /** Terminates the commands still running (their calls reject). */
  async close(): Promise<void> {
    for (const pid of this.running) signalGroup(pid, 'SIGTERM');
  }

  private expectServing(call: string, r: ProvisionedReplica | undefined, model?: string): void {
    if (r === undefined || (r.state === 'serving' && (model === undefined || r.model === model))) return;
    throw new NalarError(
      ErrorCode.PROVISIONER_FAILED,
      `command provisioner: \`${call}\` exited 0 but printed the replica ${r.state} with ${r.model}`,
      { details: { call, state: r.state, model: r.model } },
    );
  }

  /**
   * Runs the command with `argv` and parses its stdout with `schema` (empty stdout is `undefined`); without a
   * schema, stdout is ignored.
   */
  private async run(argv: string[], schema: undefined): Promise<void>;
  private async run<S extends z.ZodType>(argv: string[], schema: S): Promise<z.output<S>>;
  private async run<S extends z.ZodType>(argv: string[], schema: S | undefined): Promise<z.output<S> | void> {
    const call = argv.join(' ');
    const o = await this.spawn(argv);
    const tail = o.stderr.trim() ? `; stderr: ${o.stderr.trim()}` : '';
    const details = { call, exitCode: o.code, signal: o.signal, stderrTail: o.stderr };
    if (o.startError !== undefined) {
      throw new NalarError(
        ErrorCode.PROVISIONER_FAILED,
        `command provisioner: cannot run NALAR_PROVISIONER_COMMAND=${this.options.command} (\`${call}\`): ${o.startError}`,
        { details },
      );
    }
    if (o.timedOut) {
      throw new NalarError(
        ErrorCode.PROVISIONER_FAILED,
        `command provisioner: \`${call}\` did not finish within ${this.timeoutMs} ms (NALAR_PROVISIONER_TIMEOUT) and was stopped${tail}`,
        { details },
      );
    }
    if (o.code !== 0) {
      const how = o.code === null ? `was killed by ${o.signal}` : `exited ${o.code}`;
      const code =
        o.code === EXIT_NOT_FOUND
          ? ErrorCode.REPLICA_NOT_FOUND
          : o.code === EXIT_CONFLICT
            ? ErrorCode.CONFLICT
            : ErrorCode.PROVISIONER_FAILED;
      throw new NalarError(code, `command provisioner: \`${call}\` ${how}${tail}`, { details });
    }
    if (schema === undefined) return;
    if (o.overflow) {
      throw new NalarError(
        ErrorCode.PROVISIONER_FAILED,
        `command provisioner: \`${call}\` printed more than ${MAX_STDOUT_BYTES} bytes (expected one JSON document)`,
        { details },
      );
    }
    let json: unknown;
    const text = o.stdout.trim();
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch (err) {
      throw new NalarError(
        ErrorCode.PROVISIONER_FAILED,
        `command provisioner: \`${call}\` printed something that is not JSON (${(err as Error).message}): ${text.slice(0, 200)}`,
        { details },
      );
    }
    const parsed = schema.safeParse(json);
    if (parsed.success) return parsed.data as z.output<S>;
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'stdout'}: ${i.message}`).join('; ');
    throw new NalarError(
      ErrorCode.PROVISIONER_FAILED,
      `command provisioner: \`${call}\` printed an unexpected answer (${why}); see the protocol in docs/control-plane/capacity.md`,
      { details },
    );
  }

  /** Runs the command (its own process group, so a time-out stops what it started too) and collects its output. */
  private spawn(argv: string[]): Promise<Outcome> {
    return new Promise((resolve) => {
      const child = spawn(this.options.command, [...(this.options.args ?? []), ...argv], {
        env: this.options.env ?? process.env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
        shell: false,
      });
      const stdout: Buffer[] = [];
      let stdoutBytes = 0;
      let overflow = false;
      let stderr = '';
      let timedOut = false;
      let graceTimer: NodeJS.Timeout | undefined;
      const pid = child.pid;
      if (pid !== undefined) this.running.add(pid);
      child.stdout.on('data', (c: Buffer) => {
        stdoutBytes += c.length;
        if (stdoutBytes > MAX_STDOUT_BYTES) overflow = true;
        else stdout.push(c);
      });
      child.stderr.on('data', (c: Buffer) => {
        stderr = (stderr + c.toString('utf8')).slice(-STDERR_TAIL_BYTES);
      });
      let finished = false;
      const done = (o: Pick<Outcome, 'code' | 'signal' | 'startError'>) => {
        if (finished) return;
        finished = true;
        clearTimeout(limit);
        clearTimeout(graceTimer);
        if (pid !== undefined) this.running.delete(pid);
        resolve({ ...o, stdout: Buffer.concat(stdout).toString('utf8'), stderr, timedOut, overflow });
      };
      const limit = setTimeout(() => {
        timedOut = true;
        if (pid === undefined) return;
        signalGroup(pid, 'SIGTERM');
        graceTimer = setTimeout(() => {
          signalGroup(pid, 'SIGKILL');
          // A process that left the group may still hold the pipes open: the call ends anyway.
          graceTimer = setTimeout(() => done({ code: child.exitCode, signal: child.signalCode }), 1000);
        }, this.killGraceMs);
      }, this.timeoutMs);
      // 'error': it could not be started (not found, not executable); 'close': it exited and its pipes closed.
      child.once('error', (err) => done({ code: null, signal: null, startError: err.message }));
      child.once('close', (code, signal) => done({ code, signal }));
    });
  }
}

/** Signals the process group of `pid` (the command and what it started); one already gone is fine. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
