/**
 * `npm run load`: runs one k6 scenario against a gateway (the one at `--target`, or an embedded stack started
 * for the run and stopped at the end, also on failure or Ctrl-C), streams k6's output, and says where the
 * report is. The result's exit code is k6's: 0 when every threshold held, 99 when one was crossed.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../common/config';
import { ErrorCode, NalarError } from '../../common/errors';
import { type Logger } from '../../common/log';
import { ensureTool } from '../../common/toolchain';
import { httpReady } from '../../data-plane/supervisor/readiness';
import { runInfo } from '../bench/run-info';
import { availableWorkloads, isWorkloadName, loadWorkload } from '../bench/e2e/workloads';
import { writeScenarioArrivals } from './arrivals';
import { k6ScriptsDir, type LoadOptions } from './options';
import { startLoadStack, type LoadStack } from './stack';

/** k6's raw samples in the report folder: one JSON line per metric sample, gzipped. */
export const recordsFile = 'records.jsonl.gz';

/** k6's exit code when a threshold was crossed. */
export const k6ThresholdsCrossed = 99;

export interface LoadRunResult {
  /** k6's exit code (or 1 when the run was stopped by a signal). */
  exitCode: number;
  reportDir: string;
  /** The report, when k6 wrote one. */
  report?: string;
  /** The gateway driven. */
  target: string;
}

export interface RunLoadDeps {
  log: Logger;
  /** Receives k6's output, line by line. @default written to stdout/stderr as it comes */
  output?: (stream: 'stdout' | 'stderr', chunk: string) => void;
  /** Aborts the run (Ctrl-C): k6 is interrupted, writes its summary, and the stack stops. */
  signal?: AbortSignal;
}

/**
 * Scenarios that run, without `--target`, on a stack with their benchmark workload's own simulator replicas,
 * agent bindings and time scale (load-tests/bench/workloads/<name>.ts) instead of the default simulator.
 */
// The analyst's think times are in its default time scale's real ms: its stack must run at that scale.
export const workloadStackScenarios: readonly string[] = ['analyst', 'router'];

/** Runs the scenario; throws a `NalarError` when it cannot start (bad target, no k6, the stack fails). */
export async function runLoad(o: LoadOptions, deps: RunLoadDeps): Promise<LoadRunResult> {
  const { log } = deps;
  const config = loadConfig();
  const k6 = await ensureTool('k6', { toolsDir: config.toolsDir, explicitPath: config.k6Bin, log });
  mkdirSync(o.out, { recursive: true });
  // A report left from an earlier run must not pass for this one's.
  for (const f of ['report.md', 'summary.json', recordsFile, 'arrivals.json'])
    rmSync(path.join(o.out, f), { force: true });

  let stack: LoadStack | undefined;
  let target = o.target;
  if (target) {
    await assertGatewayUp(target);
  } else {
    if (o.token !== undefined && o.token.length < 16) {
      throw new NalarError(ErrorCode.USAGE, '--token: a gateway token has at least 16 characters');
    }
    log.info('starting the embedded stack (dev server, simulator, worker, gateway) on free ports');
    const workload =
      isWorkloadName(o.scenario) &&
      workloadStackScenarios.includes(o.scenario) &&
      availableWorkloads().includes(o.scenario)
        ? await loadWorkload(o.scenario)
        : undefined;
    stack = await startLoadStack({
      log,
      logFile: path.join(o.out, 'stack.log'),
      ...(o.token && { token: o.token }),
      ...(workload && { workload }),
    });
    target = stack.url;
    log.info(`stack up: gateway ${target}, simulator time scale ${stack.timeScale}; its output: ${stack.logFile}`);
  }
  try {
    if (deps.signal?.aborted) return { exitCode: 1, reportDir: o.out, target };
    const info = runInfo();
    const notes = [
      stack ? `embedded stack, simulator time scale ${stack.timeScale}` : 'existing gateway',
      `commit ${info.commit.slice(0, 12)}${info.dirty ? ' (dirty)' : ''}`,
      `${info.machine.cores} cores, ${info.machine.memoryGiB} GiB, ${info.machine.cpu}`,
    ].join('; ');
    const arrivals = writeScenarioArrivals(o);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TARGET: target,
      PROFILE: o.profile,
      REPORT_DIR: o.out,
      REPORT_NOTES: notes,
      TOKEN: o.token ?? '',
      ...(o.rate !== undefined && { RATE: String(o.rate) }),
      ...(o.duration !== undefined && { DURATION: o.duration }),
      ...(arrivals !== undefined && { ARRIVALS_FILE: arrivals }),
    };
    const script = path.join(k6ScriptsDir, `${o.scenario}.js`);
    // Every sample as JSON lines (gzipped), so any figure can be recomputed (BENCHMARKS.md).
    const records = `--out=json=${path.join(o.out, recordsFile)}`;
    const exitCode = await runK6(k6, ['run', '--no-color', records, script], env, deps);
    const report = path.join(o.out, 'report.md');
    return { exitCode, reportDir: o.out, target, ...(existsSync(report) && { report }) };
  } finally {
    if (stack) {
      log.info('stopping the embedded stack');
      await stack.stop();
    }
  }
}

/** Throws a usage error naming the URL when no gateway answers its /readyz. */
async function assertGatewayUp(target: string): Promise<void> {
  let why: string;
  try {
    if (await httpReady(`${target}/readyz`)) return;
    why = 'it answered with an error status (is Temporal reachable from the gateway?)';
  } catch (err) {
    why = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
  }
  throw new NalarError(ErrorCode.USAGE, `--target ${target}: no ready gateway at ${target}/readyz: ${why}`);
}

function runK6(bin: string, args: string[], env: NodeJS.ProcessEnv, deps: RunLoadDeps): Promise<number> {
  const output =
    deps.output ?? ((stream, chunk) => (stream === 'stdout' ? process.stdout : process.stderr).write(chunk));
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => output('stdout', chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => output('stderr', chunk));
    // k6 stops on SIGINT, still writing its summary; it exits with its own code.
    const abort = () => child.kill('SIGINT');
    deps.signal?.addEventListener('abort', abort, { once: true });
    child.on('error', reject);
    child.on('close', (code) => {
      deps.signal?.removeEventListener('abort', abort);
      resolve(code ?? 1);
    });
  });
}
