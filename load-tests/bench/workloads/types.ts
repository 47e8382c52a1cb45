/**
 * The contract between the end-to-end benchmark runner (`npm run bench -- analyst|router|swe`, e2e-bench.ts)
 * and each of the paper's three workloads (`workloads/<name>.ts`). A workload says what stack it needs
 * (simulator replicas per agent), what arrives when (seeded, open loop), and how to run one arrival in
 * either variant; the runner starts the stack once, plays the same arrivals at every rate of the grid to
 * both variants, keeps every record and draws the report.
 */
import type { Client } from '@temporalio/client';
import type { CapacityManagerOptions } from '../../../control-plane/capacity/manager';
import type { PoolProfileInput } from '../../../sim/profile';

/** Nalar: the workload's stub-and-future workflow. Baseline: its vanilla Temporal twin (proxyActivities). */
export type BenchVariant = 'nalar' | 'baseline';

/** One arrival of the open-loop traffic: what to start, and when (offset from the start of the rate step). */
export interface Arrival {
  /** Unique within one rate step, stable for a seed (also used in workflow ids). */
  id: string;
  /** Offset in real milliseconds from the start of the rate step. */
  atMs: number;
  /** Request type, for per-type figures (router: 'chat' | 'coding'; analyst: 'session'; swe: 'job'). */
  kind: string;
  /** Whatever the workload's `run` needs (JSON-serialisable: arrivals are written to the raw records). */
  payload: unknown;
}

/** What the runner hands to `run`. */
export interface RunContext {
  client: Client;
  /** The task queue both variants' workflows and agents run on. */
  taskQueue: string;
  variant: BenchVariant;
  /** Real ms per model ms of the simulator (model time × timeScale = real time). */
  timeScale: number;
  /** Requested offered load of this step, arrivals per second. */
  rate: number;
  /** Prefix of every workflow id of this step and variant (unique per run). */
  workflowIdPrefix: string;
}

/**
 * One request as the client saw it. An arrival yields one record (router, swe) or several (analyst: one per
 * turn). Latency is measured by the client, from sending the request to its answer.
 */
export interface RequestRecord {
  /** Arrival id; with `turn` when an arrival yields several records. */
  id: string;
  kind: string;
  /** 1-based turn of a multi-turn session; absent otherwise. */
  turn?: number;
  /** Epoch ms when the request was sent. */
  sentAt: number;
  latencyMs: number;
  ok: boolean;
  /** Stable failure code when not ok (`NALAR_ERR_…`, an OpenAI/HTTP status class, `TIMEOUT`, …). */
  errorCode?: string;
  /**
   * Real ms of model and tool time on the request's critical path, from what the simulator and the tools
   * report (model ms × timeScale + tool ms): latency minus this is the framework's overhead. Absent when
   * the request failed.
   */
  criticalPathMs?: number;
  /**
   * What the workload's result says about the request, for analysis of the raw records (e.g. swe: the job's
   * `status`, `subtasks`, `attempts` and recursion `depth`). Absent when the request failed or the workload
   * adds nothing.
   */
  details?: Record<string, string | number>;
}

/** One of the paper's workloads, as the end-to-end benchmark drives it. */
export interface BenchWorkload {
  /**
   * 'analyst' | 'router' | 'swe' (the registry key, e2e/workloads/index.ts, and the results folder); a string
   * so that a test fixture of the runner can be a workload too.
   */
  name: string;
  /** One line for the report and `--help`. */
  title: string;
  /**
   * The simulator pool: one profile per replica (its `model` names the agent it serves), the pool's seed and
   * time scale. The runner starts it in process on free ports.
   */
  simProfile(o: { seed: number; timeScale: number }): PoolProfileInput;
  /**
   * Which replicas (indexes into `simProfile().replicas`) serve which agent: the runner turns this into
   * NALAR_AGENT_MODELS (`baseUrls` per agent) for the worker. The static split both variants share today.
   */
  agentReplicas(): Record<string, readonly number[]>;
  /** Default grid of offered rates (arrivals per second), low load first, past the baseline's capacity last. */
  defaultRates: readonly number[];
  /** Default real seconds of arrivals per rate step. */
  defaultStepSeconds: number;
  /**
   * Default real seconds the runner waits after a step's last arrival for requests still running (then they
   * fail as `TIMEOUT`): at least what one arrival takes at moderate load, so the bound measures overload, not
   * the length of a request. @default 30
   */
  defaultDrainSeconds?: number;
  /** Default simulator time scale (real ms per model ms) and why, for the report. */
  defaultTimeScale: { value: number; why: string };
  /** The arrivals of one rate step: seeded, open loop, the same for both variants. */
  arrivals(o: { rate: number; durationMs: number; seed: number }): Arrival[];
  /**
   * Runs one arrival to completion in the given variant and returns its record(s). Never throws for a
   * failed request: a failure is a record with `ok: false`.
   */
  run(ctx: RunContext, arrival: Arrival): Promise<RequestRecord[]>;
  /**
   * How the run's capacity manager moves this workload's replicas, when a capacity policy is installed:
   * `releaseWaitsForCalls` false lets a replica's move start once routing has left it, the simulator's drain
   * deadline (each replica's `drainTimeoutMs`) cutting what it still runs. @default the manager's defaults
   */
  capacityManager?: Pick<CapacityManagerOptions, 'releaseWaitsForCalls'>;
  /** Extra environment of the worker process (e.g. a tool's time scale). @default none */
  workerEnv?(o: { seed: number; timeScale: number }): NodeJS.ProcessEnv;
}
