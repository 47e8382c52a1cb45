/**
 * The code-run tool: the "run the tests" step of the software-engineering workload. It runs JavaScript
 * with `node:vm` in a fresh context and evaluates test expressions against it, then waits for a simulated
 * test-suite latency so that the workload's timing resembles a real CI run.
 *
 * Isolation, and its limits: the code runs on its own worker thread (see `code-run-sandbox.ts`), in a vm
 * context that holds no `require`, `process`, timers or any object of the host (even `console` is built
 * inside the context), so it cannot reach Node through a prototype chain. A timeout bounds every script
 * and a watchdog bounds the thread; its heap is limited. `node:vm` is still not a security boundary (the
 * Node documentation says so): the code is meant to come from the framework's own (simulated) agents, not
 * from untrusted users.
 */
import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { Context } from '@temporalio/activity';
import { z } from 'zod';
import { loadConfig } from '../../common/config';
import { ErrorCode, NalarError } from '../../common/errors';
import { SANDBOX_SOURCE, type SandboxData, type SandboxMessage, type StepOutcome } from './code-run-sandbox';
import { expected, parseInput } from '../../common/activity-input';

/** Longest output kept; the rest is replaced by a note, so a print loop cannot flood the workflow history. */
const MAX_OUTPUT_CHARS = 64 * 1024;
/** Memory limit of the sandbox thread's heap; code that exceeds it fails with "ran out of memory". */
const SANDBOX_HEAP_MB = 128;
/**
 * Extra time the watchdog gives a step beyond `timeoutMs` before it ends the thread. The vm timeout inside
 * the thread normally stops a runaway script first; the watchdog is for what the vm timeout cannot stop
 * (promise jobs, getters read while reporting an error), and must not fire merely because this thread was
 * busy for a moment.
 */
const WATCHDOG_GRACE_MS = 1000;
/** How long the thread may take to start before the call fails (as a retryable activity error). */
const SANDBOX_START_TIMEOUT_MS = 10_000;

/** Settings of the simulated test-suite latency; see {@link configureCodeRun}. */
export interface CodeRunOptions {
  /** Median of the simulated latency, in milliseconds. @default 200 */
  latencyMedianMs: number;
  /**
   * Standard deviation of the latency's logarithm (the lognormal's shape); 0 makes every run take the
   * median. At most 5. @default 0.5
   */
  latencySigma: number;
  /**
   * Multiplier of the simulated latency; 0 turns it off (tests), 0.1 makes load tests ten times faster.
   * @default the `NALAR_TOOL_TIME_SCALE` environment variable when set, else 1
   */
  timeScale: number;
}

const DEFAULT_OPTIONS: Omit<CodeRunOptions, 'timeScale'> = { latencyMedianMs: 200, latencySigma: 0.5 };

const optionsSchema = z.strictObject({
  latencyMedianMs: z.number().finite().min(0).optional(),
  latencySigma: z.number().finite().min(0).max(5).optional(),
  timeScale: z.number().finite().min(0).optional(),
});

let configured: Partial<CodeRunOptions> = {};

/** Waits `ms` milliseconds. */
export type Sleep = (ms: number) => Promise<void>;

const realSleep: Sleep = (ms) => delay(ms);
let sleepOutsideActivity: Sleep = realSleep;

/**
 * Replaces how {@link runCode} waits out the simulated latency when it is called outside an activity
 * (inside one it is always `Context.sleep`, which cancellation interrupts), so that a test can see which
 * wait was asked for instead of timing it. {@link resetCodeRunOptions} restores the real timer.
 *
 * @default a real timer (`node:timers/promises`)
 */
export function setCodeRunSleep(sleep: Sleep): void {
  sleepOutsideActivity = sleep;
}

/**
 * Sets options of the code-run tool for this process (the activity has no other way to receive them);
 * fields not given keep their current value. Returns the options now in effect.
 *
 * @throws NalarError `NALAR_ERR_CONFIG_INVALID` for a negative or non-finite value (sigma at most 5).
 */
export function configureCodeRun(options: Partial<CodeRunOptions>): CodeRunOptions {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`);
    throw new NalarError(ErrorCode.CONFIG_INVALID, `configureCodeRun: ${problems.join('; ')}`);
  }
  const defined = Object.entries(parsed.data).filter(([, v]) => v !== undefined);
  configured = { ...configured, ...Object.fromEntries(defined) };
  return codeRunOptions();
}

/**
 * Forgets everything set with {@link configureCodeRun} and {@link setCodeRunSleep}, back to the defaults
 * (and the environment).
 */
export function resetCodeRunOptions(): void {
  configured = {};
  sleepOutsideActivity = realSleep;
}

/**
 * The options in effect: those set with {@link configureCodeRun}, then `NALAR_TOOL_TIME_SCALE` (read on
 * every call, so a test can set it), then the defaults.
 *
 * @throws NalarError `NALAR_ERR_CONFIG_INVALID` when `NALAR_TOOL_TIME_SCALE` is not a number >= 0.
 */
export function codeRunOptions(): CodeRunOptions {
  return { ...DEFAULT_OPTIONS, timeScale: timeScaleFromEnv(), ...configured };
}

function timeScaleFromEnv(): number {
  return loadConfig().toolTimeScale;
}

/** A uniform number in (0, 1) from 8 bytes of a hash; never 0, so its logarithm is finite. */
function uniformFrom(digest: Buffer, offset: number): number {
  return (Number(digest.readBigUInt64BE(offset) >> 11n) + 0.5) / 2 ** 53;
}

/**
 * The simulated test-suite latency of `code` in milliseconds: lognormal with the configured median and
 * sigma, times `timeScale`. The random draw is seeded by a SHA-256 of the code, so the same code always
 * takes the same time (in every process, and on retry), while different code spreads over the distribution.
 */
export function simulatedLatencyMs(code: string, options: CodeRunOptions = codeRunOptions()): number {
  const digest = createHash('sha256').update(code, 'utf8').digest();
  // Box-Muller: two uniforms to one standard normal draw.
  const normal = Math.sqrt(-2 * Math.log(uniformFrom(digest, 0))) * Math.cos(2 * Math.PI * uniformFrom(digest, 8));
  return options.latencyMedianMs * Math.exp(options.latencySigma * normal) * options.timeScale;
}

export interface RunCodeInput {
  /** JavaScript source run as a script; its top-level declarations are visible to the tests. ≤ 100,000 characters. */
  code: string;
  /**
   * JavaScript expressions evaluated one by one after the code, in the same context; a test passes when
   * it does not throw and its value is truthy (a Promise fails: tests must be synchronous). At most 50
   * tests of at most 10,000 characters. @default []
   */
  tests?: string[];
  /**
   * Time limit of the code and of each test, 1 to 10,000 milliseconds. A promise job they queue that never
   * ends is stopped up to a second later. A call can take up to `(1 + tests) × (timeoutMs + 1 s)` plus the
   * simulated latency: size the activity's `startToCloseTimeout` for that. @default 1000
   */
  timeoutMs?: number;
}

export interface CodeTestResult {
  /** The expression, as given. */
  test: string;
  passed: boolean;
  /**
   * Why it failed: the thrown error (`RangeError: …`), `timed out after N ms`, `ran out of memory (…)`,
   * `returned <falsy value>`, or `not run: …` when an earlier step stopped the run.
   */
  error?: string;
}

export interface RunCodeResult {
  /** The code ran without throwing or timing out and every test passed. */
  passed: boolean;
  /** One per test, in order. */
  results: CodeTestResult[];
  /**
   * What `console.log` (and `info`, `warn`, `error`, `debug`) printed, one line per call, plus a line per
   * unhandled promise rejection; at most 64 KiB.
   */
  output: string;
  /** Wall-clock time of the whole call, simulated latency included, in milliseconds. */
  durationMs: number;
  /** Why the code itself failed (thrown error, syntax error, timeout, memory); absent when it ran. */
  error?: string;
}

const runCodeInputSchema = z.strictObject({
  code: z.string({ error: expected('a string') }).max(100_000, 'must be at most 100000 characters'),
  tests: z
    .array(
      z
        .string({ error: expected('a string') })
        .max(10_000, 'must be at most 10000 characters')
        .refine((t) => t.trim() !== '', 'must not be empty'),
      { error: expected('an array of strings') },
    )
    .max(50, 'must hold at most 50 tests')
    .default([]),
  timeoutMs: z
    .number({ error: expected('a number') })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(10_000, 'must be at most 10000')
    .default(1000),
});

type PartialResult = Omit<RunCodeResult, 'durationMs'>;

/**
 * Runs the code and tests in a fresh vm context on a new worker thread and assembles the result. A step
 * that outlives its time (or the heap limit) is reported as failed and the thread is ended; tests after it
 * are not run. Rejects only when the sandbox itself fails (cannot start, crashes), which a retry may fix.
 */
function execute(code: string, tests: readonly string[], timeoutMs: number): Promise<PartialResult> {
  const data: SandboxData = { code, tests, timeoutMs, maxOutputChars: MAX_OUTPUT_CHARS };
  const worker = new Worker(SANDBOX_SOURCE, {
    eval: true,
    workerData: data,
    // The thread needs none of this process's flags (tsx loaders, inspector) nor its environment.
    execArgv: [],
    env: {},
    resourceLimits: { maxOldGenerationSizeMb: SANDBOX_HEAP_MB },
  });

  /** Index: 0 is the code, i is test i. */
  const outcomes: (StepOutcome | undefined)[] = [];
  const output: string[] = [];
  let current = -1;
  /** Why the thread was stopped before it finished, if it was. */
  let stopped: string | undefined;
  let started = false;
  let timer: NodeJS.Timeout | undefined;

  const assemble = (): PartialResult => {
    if (stopped !== undefined && current >= 0) outcomes[current] ??= { passed: false, error: stopped };
    const codeOutcome = outcomes[0] ?? { passed: false, error: stopped ?? 'did not run' };
    const results = tests.map((test, i): CodeTestResult => {
      const outcome = outcomes[i + 1];
      if (outcome) return { test, ...outcome };
      const why = codeOutcome.passed
        ? `test ${current} ${stopped ?? 'failed'}`
        : `the code failed (${codeOutcome.error})`;
      return { test, passed: false, error: `not run: ${why}` };
    });
    const passed = codeOutcome.passed && results.every((r) => r.passed);
    const printed = output.filter(Boolean).join('\n');
    return codeOutcome.passed
      ? { passed, results, output: printed }
      : { passed, results, output: printed, error: codeOutcome.error ?? 'failed' };
  };

  return new Promise<PartialResult>((resolve, reject) => {
    let settled = false;
    const settle = (result: PartialResult | Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const stopAfter = (ms: number, reason: string): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        stopped = reason;
        void worker.terminate();
      }, ms);
    };

    stopAfter(SANDBOX_START_TIMEOUT_MS, 'did not start');
    worker.on('message', (message: SandboxMessage) => {
      if (message.type === 'start') {
        started = true;
        current = message.step;
        stopAfter(timeoutMs + WATCHDOG_GRACE_MS, `timed out after ${timeoutMs} ms`);
      } else if (message.type === 'done') {
        // The thread posts the next 'start' (or 'finished') at once; the watchdog still covers the gap.
        stopAfter(timeoutMs + WATCHDOG_GRACE_MS, `timed out after ${timeoutMs} ms`);
        outcomes[message.step] = message.outcome;
        output.push(message.output);
      } else {
        settle(assemble());
      }
    });
    worker.on('error', (err: Error & { code?: string }) => {
      // Running out of memory is the code's doing, so it is a result; anything else is a fault of the sandbox.
      if (err.code === 'ERR_WORKER_OUT_OF_MEMORY' && started) {
        stopped = `ran out of memory (limit ${SANDBOX_HEAP_MB} MB)`;
        settle(assemble());
      } else {
        settle(new Error(`runCode: the sandbox thread failed: ${err.message}`, { cause: err }));
      }
    });
    worker.on('exit', () => {
      if (!started) settle(new Error(`runCode: the sandbox thread ${stopped ?? 'exited before it started'}`));
      else if (stopped !== undefined) settle(assemble());
      else settle(new Error('runCode: the sandbox thread exited before it finished'));
    });
  });
}

/** The current activity's context, or undefined when called outside an activity (unit tests, scripts). */
function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

async function simulateLatency(ms: number): Promise<void> {
  if (!(ms > 0)) return;
  const context = activityContext();
  if (!context) {
    await sleepOutsideActivity(ms);
    return;
  }
  // The server delivers a cancellation only in reply to a heartbeat; one heartbeat before the wait lets a
  // cancelled workflow stop a long simulated run (Context.sleep then throws CancelledFailure).
  context.heartbeat();
  await context.sleep(ms);
}

/**
 * Runs `code` in a fresh `node:vm` context on a worker thread (no `require`, no `process`, no timers;
 * `console.log` is captured into `output`), then evaluates each test expression in the same context, then
 * waits the simulated test-suite latency of the code ({@link simulatedLatencyMs}; with `Context.sleep`
 * inside an activity, so cancellation interrupts it). The code and each test may run for `timeoutMs`
 * (default 1000, at most 10,000); a timeout, a thrown error, a syntax error or running out of the 128 MB
 * heap is part of the result (`passed: false` with an `error`), not an exception. Tests do not run when the
 * code failed, nor after a test that had to be stopped.
 *
 * @throws ApplicationFailure (non-retryable, type `NALAR_ERR_INVALID_INPUT`) for input that breaks the limits
 *   on {@link RunCodeInput}; the message names the field (`tests[2]`).
 * @throws Error (retryable) when the sandbox thread itself cannot start or crashes.
 */
export async function runCode(input: RunCodeInput): Promise<RunCodeResult> {
  const { code, tests, timeoutMs } = parseInput('runCode', runCodeInputSchema, input);
  const started = performance.now();
  const latencyMs = simulatedLatencyMs(code);
  const result = await execute(code, tests, timeoutMs);
  await simulateLatency(latencyMs);
  return { ...result, durationMs: Math.round(performance.now() - started) };
}
