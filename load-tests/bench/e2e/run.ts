/**
 * The run of one workload benchmark: one Temporal dev server, the simulator pool in process, Nalar worker
 * process(es) bound to the pool's replicas, then every rate of the grid low to high with both variants back
 * to back (which goes first alternates per rate), each playing the same arrivals open loop.
 */
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Client } from '@temporalio/client';
import { loadConfig } from '../../../common/config';
import { SimPool } from '../../../sim/pool';
import { poolProfileSchema, type PoolProfile } from '../../../sim/profile';
import { nalarDataConverter } from '../../../state/payloads/data-converter';
import { GlobalController, type GlobalControllerOptions } from '../../../control-plane/global-controller/controller';
import type { Report } from '../../../control-plane/protocol';
import {
  parsePolicyList,
  resolvePolicies,
  type InstalledPolicy,
} from '../../../control-plane/global-controller/policy-config';
import { startControllerServer, type ControllerServer } from '../../../control-plane/global-controller/server';
import { createLogger } from '../../../common/log';
import { withBenchDevServer } from '../harness/dev-server';
import type { Arrival, BenchVariant, BenchWorkload, RequestRecord, RunContext } from '../workloads/types';
import { startBenchCapacity, type BenchCapacity } from './capacity';
import { summarizeSegment, type RunRecord, type SegmentSummary } from './stats';
import { waitFor } from './wait';

export { waitFor } from './wait';

/** The settings of a run: the options with the workload's defaults applied. */
export interface E2eRunSettings {
  rates: number[];
  stepSeconds: number;
  seed: number;
  timeScale: number;
  variants: BenchVariant[];
  drainSeconds: number;
  workers: number;
  warmup: number;
  /** The global controller's policies (NALAR_POLICIES syntax). */
  policies: string;
  /** The control period, ms (NALAR_CONTROL_PERIOD). */
  controlPeriodMs: number;
}

export interface E2eRunResult {
  runId: string;
  temporalVersion: string;
  taskQueue: string;
  /** The simulator pool's profile as run. */
  profile: PoolProfile;
  /** Per (rate, variant), in the order played. */
  segments: SegmentSummary[];
  records: RunRecord[];
  /** Real seconds of the whole run, start-up included. */
  seconds: number;
}

/** How long the replicas may take to go idle after a segment before the next starts anyway (with a warning). */
const idleTimeoutMs = 120_000;
/** Error code of a request still running when the drain bound ends. */
export const timeoutCode = 'TIMEOUT';
/** Error code of an arrival never sent (the event loop fell behind past the drain bound). */
export const droppedCode = 'DROPPED';
/** Error code of an arrival whose `run` threw (the contract says it never does). */
export const runThrewCode = 'BENCH_RUN_THREW';

/**
 * NALAR_AGENT_MODELS for the worker: per agent, the model its replicas serve, their base URLs, and
 * `maxInFlight` = the replicas' batch size (`maxNumSeqs`, the smallest if they differ): a Nalar call beyond it
 * waits in the worker's local controller, where it can still be re-routed, rather than in the engine's queue
 * (baseline calls bypass the local controller and are not limited). Throws when an agent names a replica the
 * pool does not have, or replicas serving different models.
 */
export function agentModelsOf(
  agentReplicas: Record<string, readonly number[]>,
  profile: PoolProfile,
  baseUrls: readonly string[],
): Record<string, { model: string; baseUrls: string[]; maxInFlight: number }> {
  const out: Record<string, { model: string; baseUrls: string[]; maxInFlight: number }> = {};
  for (const [agent, replicas] of Object.entries(agentReplicas)) {
    if (replicas.length === 0) throw new Error(`agent '${agent}' has no replica`);
    const models = new Set(
      replicas.map((i) => {
        const r = profile.replicas[i];
        if (!r || baseUrls[i] === undefined) throw new Error(`agent '${agent}': the pool has no replica ${i}`);
        return r.model;
      }),
    );
    if (models.size !== 1) throw new Error(`agent '${agent}': its replicas serve different models (${[...models]})`);
    out[agent] = {
      model: [...models][0] as string,
      baseUrls: replicas.map((i) => baseUrls[i] as string),
      maxInFlight: Math.min(...replicas.map((i) => profile.replicas[i]?.maxNumSeqs ?? 1)),
    };
  }
  return out;
}

/** The profile fields of replica `index` (what a replica started for its agent copies), without name and model. */
function replicaTemplate(profile: PoolProfile, index: number | undefined): Record<string, unknown> {
  const r = index === undefined ? undefined : profile.replicas[index];
  if (!r) return {};
  const rest: Record<string, unknown> = { ...r };
  delete rest.name;
  delete rest.model;
  return rest;
}

const busyOf = (pool: SimPool) => pool.replicas.map((r) => r.busyMs);
const idle = (pool: SimPool) => pool.replicas.every((r) => r.engine.numRunning + r.engine.numWaiting === 0);

/** Terminates the running workflows whose id starts with `prefix` (stragglers past the drain bound). */
async function terminateStragglers(client: Client, prefix: string, log: (line: string) => void): Promise<void> {
  let n = 0;
  try {
    for await (const wf of client.workflow.list({ query: 'ExecutionStatus = "Running"' })) {
      if (!wf.workflowId.startsWith(prefix)) continue;
      await client.workflow
        .getHandle(wf.workflowId, wf.runId)
        .terminate('past the benchmark drain bound')
        .catch(() => undefined); // already closed
      n++;
    }
  } catch (err) {
    log(`could not list stragglers to terminate: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (n) log(`terminated ${n} straggling workflow(s)`);
}

/** What {@link playSegment} plays: one step of arrivals of one variant against the running stack. */
export interface SegmentPlay {
  workload: BenchWorkload;
  s: E2eRunSettings;
  ctx: RunContext;
  arrivals: readonly Arrival[];
  pool: SimPool;
  log: (line: string) => void;
  /** Names the segment in progress lines. @default ctx.variant */
  label?: string;
}

/** Plays one segment open loop; returns its records and wall time once the replicas are idle again (also the control-outage benchmark's phases). */
export async function playSegment(p: SegmentPlay): Promise<{ records: RunRecord[]; wallSeconds: number }> {
  const { workload, s, ctx, arrivals, log } = p;
  const label = p.label ?? ctx.variant;
  const stepMs = Math.max(s.stepSeconds * 1000, ...arrivals.map((a) => a.atMs));
  const records: RunRecord[] = [];
  const inFlight = new Map<string, { arrival: Arrival; sentAt: number }>();
  const sent = new Set<string>();
  const abort = new AbortController();
  // Every call in flight listens on it: as many listeners as calls is expected here, not a leak.
  setMaxListeners(Math.max(10, arrivals.length * 8), abort.signal);
  let settled = 0;
  let failed = 0;
  let closed = false;
  let allSettled!: () => void;
  const allDone = new Promise<void>((resolve) => (allSettled = resolve));
  if (arrivals.length === 0) allSettled();
  const keep = (arrival: Arrival, recs: readonly RequestRecord[]) => {
    for (const r of recs) {
      records.push({ ...r, rate: ctx.rate, variant: ctx.variant, arrival });
      if (!r.ok) failed++;
    }
  };
  const launch = (arrival: Arrival) => {
    const sentAt = Date.now();
    sent.add(arrival.id);
    inFlight.set(arrival.id, { arrival, sentAt });
    // Not awaited: arrivals never wait for completions (open loop). The signal ends the client calls of a
    // straggler at the drain bound (a long poll would otherwise outlive the run's connection).
    void ctx.client
      .withAbortSignal(abort.signal, () => workload.run(ctx, arrival))
      .catch((err: unknown): RequestRecord[] => {
        log(`run of ${arrival.id} threw (a workload bug): ${err instanceof Error ? err.message : String(err)}`);
        const at = Date.now();
        return [
          { id: arrival.id, kind: arrival.kind, sentAt, latencyMs: at - sentAt, ok: false, errorCode: runThrewCode },
        ];
      })
      .then((recs) => {
        if (closed) return; // already counted as TIMEOUT
        inFlight.delete(arrival.id);
        keep(arrival, recs);
        if (++settled === arrivals.length) allSettled();
      });
  };

  const start = Date.now();
  const timers = arrivals.map((a) => setTimeout(() => launch(a), Math.max(0, start + a.atMs - Date.now())));
  const progress = setInterval(() => {
    log(
      `rate ${ctx.rate}/s ${label}: ${settled + inFlight.size}/${arrivals.length} sent, ${settled} done ` +
        `(${failed} failed records), ${inFlight.size} in flight`,
    );
  }, 5000);
  let deadlineTimer: NodeJS.Timeout | undefined;
  await Promise.race([
    allDone,
    new Promise<void>((resolve) => (deadlineTimer = setTimeout(resolve, stepMs + s.drainSeconds * 1000))),
  ]);
  clearTimeout(deadlineTimer);
  clearInterval(progress);
  closed = true;
  for (const t of timers) clearTimeout(t);
  const now = Date.now();
  const stragglers = [...inFlight.values()];
  for (const { arrival, sentAt } of stragglers) {
    keep(arrival, [
      { id: arrival.id, kind: arrival.kind, sentAt, latencyMs: now - sentAt, ok: false, errorCode: timeoutCode },
    ]);
  }
  // Arrivals never sent (only when the event loop fell far behind) are failures too: dropped.
  for (const a of arrivals) {
    if (!sent.has(a.id)) {
      keep(a, [{ id: a.id, kind: a.kind, sentAt: start + a.atMs, latencyMs: 0, ok: false, errorCode: droppedCode }]);
    }
  }
  if (stragglers.length) {
    abort.abort();
    log(
      `rate ${ctx.rate}/s ${label}: ${stragglers.length} request(s) past the ${s.drainSeconds} s drain: ${timeoutCode}`,
    );
    await terminateStragglers(ctx.client, ctx.workflowIdPrefix, log);
  }
  if (!(await waitFor(() => idle(p.pool), idleTimeoutMs))) {
    log(`replicas still busy ${idleTimeoutMs / 1000} s after the segment; going on`);
  }
  return { records, wallSeconds: (Date.now() - start) / 1000 };
}

/** The warm-up requests: the first `n` arrivals of the lowest rate under another seed, ids prefixed. */
export function warmupArrivals(workload: BenchWorkload, s: E2eRunSettings): Arrival[] {
  if (s.warmup === 0) return [];
  const rate = Math.min(...s.rates);
  // Another seed: the warm-up must not pre-fill caches with the sessions the grid plays.
  const seed = (s.seed + 1_000_003) % 2 ** 31;
  return workload
    .arrivals({ rate, durationMs: Math.max(s.stepSeconds * 1000, (4 * (s.warmup + 1) * 1000) / rate), seed })
    .slice(0, s.warmup)
    .map((a) => ({ ...a, id: `warmup-${a.id}` }));
}

/** What a benchmark built on {@link withE2eStack} may observe of the stack. */
export interface E2eStackHooks {
  /** Every report a worker's local controller sends to the global controller (its finished calls included). */
  onReport?(report: Report): void;
  /** Bounds of the managed agents (agent → min/max instances). @default their directives */
  agentBounds?: ReadonlyMap<string, { min: number; max: number }>;
}

/** A global controller that shows every report it takes to the benchmark before its round merges it. */
class ObservedController extends GlobalController {
  constructor(
    options: GlobalControllerOptions,
    private readonly observe: (report: Report) => void,
  ) {
    super(options);
  }

  override submit(report: Report): number {
    this.observe(report);
    return super.submit(report);
  }
}

/**
 * The run's global controller, in process on a free loopback port, with the settings' policies and period;
 * the Nalar variant's calls reach it through each worker's local controller (baseline calls never do).
 * Priorities also reach the workflows through `client` (signals).
 */
async function startBenchController(
  s: E2eRunSettings,
  client: Client,
  log: (line: string) => void,
  hooks: E2eStackHooks,
): Promise<{ controller: GlobalController; server: ControllerServer; policies: InstalledPolicy[] }> {
  const policies = resolvePolicies(parsePolicyList(s.policies, '--policies'));
  const options: GlobalControllerOptions = {
    policies,
    periodMs: s.controlPeriodMs,
    log: createLogger('controller', 'warn', log),
  };
  const controller = hooks.onReport ? new ObservedController(options, hooks.onReport) : new GlobalController(options);
  const server = await startControllerServer({
    host: '127.0.0.1',
    port: 0,
    controller,
    workflowClient: client.workflow,
  });
  log(
    `global controller ${server.url}: policies ${policies.map((p) => p.name).join(', ') || 'none'}, period ${s.controlPeriodMs} ms`,
  );
  return { controller, server, policies };
}

/** A started stack of a workload benchmark (see {@link withE2eStack}). */
export interface E2eStack {
  runId: string;
  temporalVersion: string;
  taskQueue: string;
  /** The simulator pool's profile as run. */
  profile: PoolProfile;
  pool: SimPool;
  /** A client with the workers' payload converter. */
  client: Client;
  /** The run's global controller (in process): its policies can be swapped between segments. */
  controller: GlobalController;
  /** Its URL (`GET /v1/policy`, `/v1/graph`). */
  controllerUrl: string;
  /** Capacity management, when the policies include a capacity policy (see capacity.ts). */
  capacity?: BenchCapacity;
}

/**
 * Starts the stack of `workload` (simulator pool, dev server, global controller, worker processes), plays the
 * warm-up of each of the settings' variants, waits for idle replicas, then runs `body`; closes everything after,
 * also when `body` throws. `hooks` observe the stack (the scaling benchmark reads the workers' call records).
 */
export async function withE2eStack<T>(
  workload: BenchWorkload,
  s: E2eRunSettings,
  log: (line: string) => void,
  body: (stack: E2eStack) => Promise<T>,
  hooks: E2eStackHooks = {},
): Promise<T> {
  const runId = randomBytes(4).toString('hex');
  const profile = poolProfileSchema.parse(workload.simProfile({ seed: s.seed, timeScale: s.timeScale }));
  const agentReplicas = workload.agentReplicas();
  log(`simulator: ${profile.replicas.length} replica(s), time scale ${profile.timeScale}, seed ${profile.seed}`);
  const pool = await SimPool.start({ profile, basePort: 0 });
  try {
    return await withBenchDevServer({ log }, async (server) => {
      const taskQueue = `bench-${workload.name}-${runId}`;
      const control = await startBenchController(s, server.client(), log, hooks);
      const agentModels = agentModelsOf(agentReplicas, profile, pool.baseUrls);
      let capacity: BenchCapacity | undefined;
      try {
        capacity = await startBenchCapacity({
          pool,
          controller: control.controller,
          policies: control.policies,
          agentModels,
          template: (agent) => replicaTemplate(profile, agentReplicas[agent]?.[0]),
          ...(hooks.agentBounds && { bounds: hooks.agentBounds }),
          ...(workload.capacityManager && { manager: workload.capacityManager }),
          log,
        });
        const env: NodeJS.ProcessEnv = {
          NALAR_AGENT_MODELS: JSON.stringify(agentModels),
          NALAR_CONTROLLER_URL: control.server.url,
          NALAR_CONTROL_PERIOD: `${s.controlPeriodMs} ms`,
          ...workload.workerEnv?.({ seed: s.seed, timeScale: s.timeScale }),
        };
        for (let i = 0; i < s.workers; i++) await server.startWorkerProcess({ taskQueue, env });
        log(`${s.workers} worker process(es) on ${taskQueue}`);
        // The workers' payload converter (offload settings and blob folder from the same environment).
        const client = server.client(nalarDataConverter(loadConfig({ env: { ...process.env, ...env } })));
        const warmups = warmupArrivals(workload, s);
        for (const variant of s.variants) {
          const ctx: RunContext = {
            client,
            taskQueue,
            variant,
            timeScale: s.timeScale,
            rate: Math.min(...s.rates),
            workflowIdPrefix: `${workload.name}-${runId}-warmup-${variant}-`,
          };
          let failed = 0;
          for (const a of warmups) {
            const recs = await workload.run(ctx, a).catch(() => [{ ok: false }]);
            failed += recs.filter((r) => !r.ok).length;
          }
          if (warmups.length) log(`warm-up ${variant}: ${warmups.length} request(s), ${failed} failed record(s)`);
        }
        await waitFor(() => idle(pool), idleTimeoutMs);
        return await body({
          runId,
          temporalVersion: server.temporalVersion,
          taskQueue,
          profile,
          pool,
          client,
          controller: control.controller,
          controllerUrl: control.server.url,
          ...(capacity && { capacity }),
        });
      } finally {
        await capacity?.close();
        await control.server.close();
      }
    });
  } finally {
    await pool.close();
  }
}

/** One step of a grid: a rate, a variant, the arrivals, and a label for the log (@default the variant). */
export interface E2eStep {
  rate: number;
  variant: BenchVariant;
  arrivals: readonly Arrival[];
  workflowIdPrefix: string;
  label?: string;
}

/** Plays one step on `stack` and summarizes it (busy-time deltas of the replicas included). */
export async function playStep(
  workload: BenchWorkload,
  s: E2eRunSettings,
  stack: E2eStack,
  step: E2eStep,
  log: (line: string) => void,
): Promise<{ summary: SegmentSummary; records: RunRecord[] }> {
  const { rate, variant, arrivals } = step;
  const label = step.label ?? variant;
  const ctx: RunContext = {
    client: stack.client,
    taskQueue: stack.taskQueue,
    variant,
    timeScale: s.timeScale,
    rate,
    workflowIdPrefix: step.workflowIdPrefix,
  };
  await stack.capacity?.prepare(variant);
  log(`rate ${rate}/s ${label}: ${arrivals.length} arrivals over ${s.stepSeconds} s`);
  const before = busyOf(stack.pool);
  const played = await playSegment({ workload, s, ctx, arrivals, pool: stack.pool, log, label });
  const after = busyOf(stack.pool);
  const summary = summarizeSegment({
    rate,
    variant,
    arrivals: arrivals.length,
    stepSeconds: s.stepSeconds,
    records: played.records,
    busyMs: after.map((b, i) => b - (before[i] ?? 0)),
    agentReplicas: workload.agentReplicas(),
    wallSeconds: played.wallSeconds,
  });
  log(
    `rate ${rate}/s ${label}: ${summary.completed}/${summary.requests} completed, mean ${Math.round(summary.latency.mean)} ms, ` +
      `p99 ${Math.round(summary.latency.p99)} ms, imbalance ${summary.imbalance.overall.toFixed(2)} (${played.wallSeconds.toFixed(1)} s)`,
  );
  return { summary, records: played.records };
}

/** Runs the whole grid of `workload` with settings `s`. */
export async function runE2e(
  workload: BenchWorkload,
  s: E2eRunSettings,
  log: (line: string) => void,
): Promise<E2eRunResult> {
  const t0 = Date.now();
  return withE2eStack(workload, s, log, async (stack) => {
    const segments: SegmentSummary[] = [];
    const records: RunRecord[] = [];
    for (const [ri, rate] of s.rates.entries()) {
      const arrivals = workload.arrivals({ rate, durationMs: s.stepSeconds * 1000, seed: s.seed });
      const order = ri % 2 === 0 ? s.variants : [...s.variants].reverse();
      for (const variant of order) {
        const workflowIdPrefix = `${workload.name}-${stack.runId}-r${rate}-${variant}-`;
        const played = await playStep(workload, s, stack, { rate, variant, arrivals, workflowIdPrefix }, log);
        segments.push(played.summary);
        records.push(...played.records);
      }
    }
    return {
      runId: stack.runId,
      temporalVersion: stack.temporalVersion,
      taskQueue: stack.taskQueue,
      profile: stack.profile,
      segments,
      records,
      seconds: (Date.now() - t0) / 1000,
    };
  });
}
