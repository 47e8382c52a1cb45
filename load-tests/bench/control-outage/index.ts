/**
 * `npm run bench -- control-outage`: the financial analyst's Nalar variant at a steady open-loop rate (about
 * half its capacity), two phases with the same seeded arrivals — the global controller up throughout, then
 * stopped for 60 s in the middle of the phase and started again on the same port — on the e2e benchmark's
 * stack (simulator pool, dev server, worker processes) with a global controller server in this process, linked
 * to the workers by NALAR_CONTROLLER_URL. Writes load-tests/results/control-outage/ and ends with the closing
 * JSON line (targets: `outage_p99_ratio <= 2`, `outage_failed <= 0`).
 */
import { randomBytes } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { gzipSync } from 'node:zlib';
import { configDefaults, durationMs, loadConfig } from '../../../common/config';
import { createLogger } from '../../../common/log';
import { temporalBacklog } from '../../../control-plane/global-controller/backlog';
import { GlobalController } from '../../../control-plane/global-controller/controller';
import {
  parsePolicyList,
  resolvePolicies,
  type InstalledPolicy,
} from '../../../control-plane/global-controller/policy-config';
import { startControllerServer, type ControllerServer } from '../../../control-plane/global-controller/server';
import { freePort } from '../../../data-plane/supervisor/ports';
import { SimPool } from '../../../sim/pool';
import { poolProfileSchema } from '../../../sim/profile';
import { nalarDataConverter } from '../../../state/payloads/data-converter';
import { agentModelsOf, playSegment, warmupArrivals, type E2eRunSettings } from '../e2e/run';
import { withBenchDevServer } from '../harness/dev-server';
import { closingLine, resultsDir, runInfo, writeFile } from '../run-info';
import { analystWorkload } from '../workloads/analyst';
import type { RunContext } from '../workloads/types';
import { outageOutcome, outagePhases, outageReport, outageWindow, summarizePhase, type PhaseResult } from './outcome';

/** Options of the benchmark. */
export interface ControlOutageOptions {
  /** Sessions per second, open loop. @default 0.35 (about half the analyst's capacity on this machine) */
  rate: number;
  /** Real seconds of arrivals per phase. @default 150 */
  phaseSeconds: number;
  /** Real seconds the controller is away, centred in the outage phase. @default 60 */
  outageSeconds: number;
  /** Seed of the arrivals and the simulator. @default 42 */
  seed: number;
  /** Simulator time scale. @default the analyst workload's */
  timeScale?: number;
  /** Seconds after a phase's last arrival before running requests fail as TIMEOUT. @default the workload's */
  drainSeconds?: number;
  /** Worker processes. @default 2 (the controller splits limits over nodes; one node is not a control plane) */
  workers: number;
  /** Unrecorded warm-up sessions before the phases. @default 3 */
  warmup: number;
  /** The controller's policies (NALAR_POLICIES syntax). @default NALAR_POLICIES's default */
  policies: string;
}

export const defaultControlOutageOptions: ControlOutageOptions = {
  rate: 0.35,
  phaseSeconds: 150,
  outageSeconds: 60,
  seed: 42,
  workers: 2,
  warmup: 3,
  policies: configDefaults.policies,
};

const d = defaultControlOutageOptions;
/** The `--help` lines. */
export const controlOutageUsage = `  control-outage  the global controller stopped for 60 s under a steady analyst load vs up throughout (same arrivals)
         options: --rate R  --phase-seconds S  --outage-seconds S  --seed N  --time-scale X  --drain-seconds S
                  --workers N  --warmup N  --policies LIST
         (defaults: ${d.rate} sessions/s, ${d.phaseSeconds} s per phase, ${d.outageSeconds} s away in the middle, seed ${d.seed},
          the analyst's time scale and drain, ${d.workers} worker processes, ${d.warmup} warm-up sessions, policies ${d.policies})`;

/** Parses `--flag value` pairs; an unknown flag or a bad value is an error naming it. */
export function parseControlOutageOptions(args: readonly string[]): ControlOutageOptions {
  const o: ControlOutageOptions = { ...defaultControlOutageOptions };
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i] as string;
    const value = args[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    const num = Number(value);
    const positive = () => {
      if (!Number.isFinite(num) || num <= 0) throw new Error(`${flag} must be a positive number, got ${value}`);
      return num;
    };
    const whole = () => {
      if (!Number.isInteger(num) || num < 0) throw new Error(`${flag} must be a whole number, got ${value}`);
      return num;
    };
    if (flag === '--rate') o.rate = positive();
    else if (flag === '--phase-seconds') o.phaseSeconds = positive();
    else if (flag === '--outage-seconds') o.outageSeconds = positive();
    else if (flag === '--seed') o.seed = whole();
    else if (flag === '--time-scale') o.timeScale = positive();
    else if (flag === '--drain-seconds') o.drainSeconds = positive();
    else if (flag === '--workers') o.workers = Math.max(1, whole());
    else if (flag === '--warmup') o.warmup = whole();
    else if (flag === '--policies') o.policies = value;
    else throw new Error(`unknown option ${flag}`);
  }
  outageWindow(o.phaseSeconds, o.outageSeconds); // fails fast on an outage that does not fit
  return o;
}

/** A controller that can be stopped and started again on the same port, each start a fresh process's state. */
class RestartableController {
  private server: ControllerServer | undefined;
  readonly token = randomBytes(16).toString('hex');
  private controller: GlobalController | undefined;

  constructor(
    private readonly port: number,
    private readonly policies: readonly InstalledPolicy[],
    private readonly backlog: Parameters<typeof startControllerServer>[0]['backlog'],
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Nodes reporting to the running controller (0 while it is stopped). */
  get nodes(): number {
    return this.server && this.controller ? this.controller.status().nodes.length : 0;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const log = createLogger('controller', 'warn');
    this.controller = new GlobalController({ policies: this.policies, log });
    this.server = await startControllerServer({
      host: '127.0.0.1',
      port: this.port,
      controller: this.controller,
      token: this.token,
      log,
      backlog: this.backlog,
    });
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.controller = undefined;
    await server?.close();
  }
}

/** Resolves when `cond` holds (checked every 100 ms) or at `deadline` (epoch ms); says which. */
async function until(cond: () => boolean, deadline: number): Promise<boolean> {
  while (!cond()) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/** Runs the benchmark, writes its results and prints the closing line; returns the exit code. */
export async function runControlOutageBench(o: ControlOutageOptions, log: (line: string) => void): Promise<number> {
  const info = runInfo();
  const t0 = Date.now();
  const workload = analystWorkload;
  const runId = randomBytes(4).toString('hex');
  const policies = resolvePolicies(parsePolicyList(o.policies, '--policies'), undefined, '--policies');
  const window = outageWindow(o.phaseSeconds, o.outageSeconds);
  const s: E2eRunSettings = {
    rates: [o.rate],
    stepSeconds: o.phaseSeconds,
    seed: o.seed,
    timeScale: o.timeScale ?? workload.defaultTimeScale.value,
    variants: ['nalar'],
    drainSeconds: o.drainSeconds ?? workload.defaultDrainSeconds ?? 30,
    workers: o.workers,
    warmup: o.warmup,
    policies: o.policies,
    controlPeriodMs: durationMs(configDefaults.controlPeriod) as number,
  };
  const profile = poolProfileSchema.parse(workload.simProfile({ seed: s.seed, timeScale: s.timeScale }));
  const pool = await SimPool.start({ profile, basePort: 0 });
  const played: PhaseResult[] = [];
  let temporalVersion = 'unknown';
  try {
    await withBenchDevServer({ log }, async (server) => {
      temporalVersion = server.temporalVersion;
      // The controller's own connection, as its process has: it reads task-queue backlogs.
      const connection = await Connection.connect({ address: server.address });
      const controller = new RestartableController(
        await freePort(),
        policies,
        temporalBacklog(connection, server.namespace),
      );
      await controller.start();
      try {
        const taskQueue = `bench-control-outage-${runId}`;
        const env: NodeJS.ProcessEnv = {
          NALAR_AGENT_MODELS: JSON.stringify(agentModelsOf(workload.agentReplicas(), profile, pool.baseUrls)),
          ...workload.workerEnv?.({ seed: s.seed, timeScale: s.timeScale }),
          NALAR_CONTROLLER_URL: controller.url,
          NALAR_CONTROL_TOKEN: controller.token,
        };
        for (let i = 0; i < s.workers; i++) await server.startWorkerProcess({ taskQueue, env });
        log(`${s.workers} worker process(es) on ${taskQueue}, linked to the global controller at ${controller.url}`);
        const periodMs = durationMs(configDefaults.controlPeriod) as number;
        if (!(await until(() => controller.nodes === s.workers, Date.now() + 30_000))) {
          throw new Error(`the workers did not report to the controller within 30 s (${controller.nodes} did)`);
        }
        const client = server.client(nalarDataConverter(loadConfig({ env: { ...process.env, ...env } })));
        const ctxOf = (phase: string, rate: number): RunContext => ({
          client,
          taskQueue,
          variant: 'nalar',
          timeScale: s.timeScale,
          rate,
          workflowIdPrefix: `control-outage-${runId}-${phase}-`,
        });
        const warmups = warmupArrivals(workload, s);
        let warmFailed = 0;
        for (const a of warmups) {
          const recs = await workload.run(ctxOf('warmup', o.rate), a).catch(() => [{ ok: false }]);
          warmFailed += recs.filter((r) => !r.ok).length;
        }
        if (warmups.length) log(`warm-up: ${warmups.length} session(s), ${warmFailed} failed record(s)`);

        const arrivals = workload.arrivals({ rate: o.rate, durationMs: o.phaseSeconds * 1000, seed: o.seed });
        for (const phase of outagePhases) {
          log(`${phase}: ${arrivals.length} sessions over ${o.phaseSeconds} s`);
          const startedAt = Date.now();
          let outage: PhaseResult['outage'];
          let outageDone: Promise<void> = Promise.resolve();
          const timers: NodeJS.Timeout[] = [];
          if (phase === 'outage') {
            outageDone = new Promise<void>((resolve, reject) => {
              timers.push(
                setTimeout(() => {
                  const stoppedAt = Date.now();
                  controller
                    .stop()
                    .then(() => log(`controller stopped at ${((stoppedAt - startedAt) / 1000).toFixed(1)} s`))
                    .then(() => new Promise((r) => timers.push(setTimeout(r, startedAt + window.endMs - Date.now()))))
                    .then(() => controller.start())
                    .then(async () => {
                      const restartedAt = Date.now();
                      log(`controller listening again at ${((restartedAt - startedAt) / 1000).toFixed(1)} s`);
                      // The links retry with a back-off capped at 5 s: every worker back well within a few periods.
                      const back = await until(() => controller.nodes === s.workers, restartedAt + 30_000 + periodMs);
                      outage = { stoppedAt, restartedAt, relinkedAt: back ? Date.now() : undefined };
                      resolve();
                    })
                    .catch(reject);
                }, window.startMs),
              );
            });
          }
          outageDone.catch(() => undefined); // awaited after the phase; a failure must not go unhandled meanwhile
          const result = await playSegment({ workload, s, ctx: ctxOf(phase, o.rate), arrivals, pool, log });
          await outageDone;
          for (const t of timers) clearTimeout(t);
          played.push({
            phase,
            records: result.records.map((r) => ({ ...r, phase })),
            startedAt,
            wallSeconds: result.wallSeconds,
            ...(outage && { outage }),
          });
          const last = summarizePhase(played[played.length - 1]!);
          log(
            `${phase}: ${last.completed}/${last.requests} completed, p50 ${Math.round(last.latency.p50)} ms, ` +
              `p99 ${Math.round(last.latency.p99)} ms (${result.wallSeconds.toFixed(1)} s)`,
          );
        }
      } finally {
        await controller.stop();
        await connection.close();
      }
    });
  } finally {
    await pool.close();
  }

  const [normalRun, outageRun] = played as [PhaseResult, PhaseResult];
  const phases = played.map(summarizePhase);
  const [normal, outage] = phases as [(typeof phases)[0], (typeof phases)[0]];
  const outageTimes = outageRun.outage!;
  const relinkSeconds =
    outageTimes.relinkedAt === undefined ? NaN : (outageTimes.relinkedAt - outageTimes.restartedAt) / 1000;
  const outcome = outageOutcome(normal, outage, relinkSeconds);
  const seconds = (Date.now() - t0) / 1000;
  const dir = resultsDir('control-outage');
  const records = [...normalRun.records, ...outageRun.records];
  writeFile(dir, 'records.jsonl.gz', gzipSync(records.map((r) => JSON.stringify(r)).join('\n') + '\n'));
  const settings = { ...s, outageSeconds: o.outageSeconds, policies: o.policies };
  writeFile(
    dir,
    'result.json',
    JSON.stringify(
      {
        info: { ...info, temporal: temporalVersion, runId, seconds },
        workload: { name: workload.name, title: workload.title, agentReplicas: workload.agentReplicas() },
        settings,
        simulator: profile,
        policySet: policies.map((p) => p.name),
        window,
        outage: outageTimes,
        phaseStartedAt: outageRun.startedAt,
        phases,
        metrics: outcome.metrics,
        targets: outcome.targets,
      },
      null,
      2,
    ) + '\n',
  );
  writeFile(
    dir,
    'report.md',
    outageReport({
      info,
      temporalVersion,
      runId,
      seconds,
      settings,
      simulator: `${profile.replicas.length} replicas, time scale ${profile.timeScale}, seed ${profile.seed}`,
      policies: policies.map((p) => p.name),
      window,
      phases,
      outage: outageTimes,
      phaseStartedAt: outageRun.startedAt,
      outcome,
    }),
  );
  log(`report: ${dir}/report.md (${Math.round(seconds)} s)`);
  console.log(closingLine('control-outage', info.commit, outcome.metrics, outcome.targets));
  return 0;
}
