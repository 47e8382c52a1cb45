/**
 * The software-engineering workload for the end-to-end benchmark (`npm run bench -- swe`): jobs arrive open
 * loop (Poisson), each runs `sweWorkflow` (Nalar) or `sweBaselineWorkflow` (vanilla Temporal) to the end. Every
 * agent has its own replicas (planner 1, developer 2, tester 1), so a job's demand moves from the planner to
 * the developers to the tester as it progresses, while the split stays static. Every value below is explained
 * in docs/workloads/swe.md.
 */
import { TimeoutFailure, WorkflowFailedError } from '@temporalio/client';
import { failureCode } from '../../../common/errors';
import { Prng, seedFrom } from '../../../sim/prng';
import type { SweInput, SweResult } from '../../../workflows';
import type { Arrival, BenchWorkload, RequestRecord, RunContext } from './types';

/** Simulated model names of the three agents (each replica's `model` names the agent it serves). */
export const sweModels = { planner: 'swe-planner', developer: 'swe-developer', tester: 'swe-tester' } as const;

/** Replicas per agent, in profile order: planner 0, developers 1–2, tester 3. */
export const sweReplicas = { planner: [0], developer: [1, 2], tester: [3] } as const;

/**
 * Batch slots and waiting room of every replica: four running sequences (a job's parallel subtasks fit one
 * replica's batch at low load) and eight waiting, so a replica
 * saturates at a modest rate and then answers 429 (the agents retry a 429 twice after its Retry-After, then
 * the job fails), as a real engine's bounded queue does.
 */
export const sweReplicaLimits = { maxNumSeqs: 3, maxWaiting: 8, retryAfterSeconds: 1 } as const;

/** Real ms a job may take before it fails with NALAR_ERR_DEADLINE_EXCEEDED (under 3× its low-load mean, and inside the runner's default 30 s drain, so an overloaded job fails with this code). */
export const sweDeadlineMs = 30_000;

/** Probability that a developer's attempt passes its tests, and re-plans at most (the workflow's defaults). */
export const sweJobDefaults = { passProbability: 0.7, maxDepth: 2 } as const;

/** The tasks a job's planner is asked to split (picked per job by its seed). */
const tasks = [
  'Add a pricing module with discounts and taxes.',
  'Write a CSV importer that validates every row.',
  'Build a rate limiter with a sliding window.',
  'Implement a small event bus with typed handlers.',
  'Add pagination and sorting to the orders endpoint.',
  'Write a retry helper with exponential backoff and jitter.',
  'Build an LRU cache with time-to-live entries.',
  'Add an audit log for account changes.',
] as const;

/** The payload of one arrival: the job's workflow input without the deadline (added by `run`). */
export interface SweJobPayload {
  task: string;
  seed: number;
}

/** The open-loop arrivals of one step: Poisson at `rate` per second; job i is the same at every rate. */
export function sweArrivals(o: { rate: number; durationMs: number; seed: number }): Arrival[] {
  const gaps = new Prng(seedFrom(o.seed, 'swe-arrivals', o.rate));
  const arrivals: Arrival[] = [];
  for (let i = 0, atMs = 0; ; i++) {
    // Exponential gaps: 1 - next() is in (0, 1], so the logarithm is finite.
    atMs += (-Math.log(1 - gaps.next()) / o.rate) * 1000;
    if (atMs >= o.durationMs) return arrivals;
    const job = new Prng(seedFrom(o.seed, 'swe-job', i));
    const payload: SweJobPayload = { task: job.pick(tasks), seed: job.int(0, 2 ** 32 - 1) };
    arrivals.push({ id: `job-${i}`, atMs: Math.round(atMs), kind: 'job', payload });
  }
}

/** The stable code of a failed job: a Nalar code, `TIMEOUT` for Temporal's own timeouts, else `UNKNOWN`. */
export function sweFailureCode(err: unknown): string {
  const code = failureCode(err);
  if (code !== undefined) return code;
  if (err instanceof WorkflowFailedError && err.cause instanceof TimeoutFailure) return 'TIMEOUT';
  return 'UNKNOWN';
}

/** Runs one job to its end in the given variant; a failed job is a record with `ok: false`, never a throw. */
export async function runSweJob(ctx: RunContext, arrival: Arrival): Promise<RequestRecord[]> {
  const payload = arrival.payload as SweJobPayload;
  const input: SweInput = { ...payload, ...sweJobDefaults, deadlineMs: sweDeadlineMs };
  const sentAt = Date.now();
  const started = performance.now();
  try {
    const result = await ctx.client.workflow.execute<(input: SweInput) => Promise<SweResult>>(
      ctx.variant === 'nalar' ? 'sweWorkflow' : 'sweBaselineWorkflow',
      {
        taskQueue: ctx.taskQueue,
        workflowId: `${ctx.workflowIdPrefix}-${arrival.id}`,
        args: [input],
        // A safety net behind the workflow's own deadline (which cancels its calls and names the code).
        workflowExecutionTimeout: sweDeadlineMs + 30_000,
      },
    );
    const latencyMs = performance.now() - started;
    const criticalPathMs = result.criticalPath.modelMs * ctx.timeScale + result.criticalPath.toolMs;
    const details = {
      status: result.status,
      subtasks: result.subtasks,
      attempts: result.attempts,
      depth: result.depth,
    };
    return [{ id: arrival.id, kind: arrival.kind, sentAt, latencyMs, ok: true, criticalPathMs, details }];
  } catch (err) {
    const latencyMs = performance.now() - started;
    return [{ id: arrival.id, kind: arrival.kind, sentAt, latencyMs, ok: false, errorCode: sweFailureCode(err) }];
  }
}

/** The software-engineering workload (see the module comment and docs/workloads/swe.md). */
export const sweWorkload: BenchWorkload = {
  name: 'swe',
  title: 'Software engineering: planner → developers in parallel → tester, failed subtasks re-planned',
  simProfile: ({ seed, timeScale }) => ({
    seed,
    timeScale,
    replicas: (['planner', 'developer', 'tester'] as const).flatMap((agent) =>
      sweReplicas[agent].map((i) => ({
        name: `${agent}-${i}`,
        model: sweModels[agent],
        ...sweReplicaLimits,
        // Developers look documentation up on 60% of first replies, one or two pages at a time.
        ...(agent === 'developer' && { toolCalls: { autoProbability: 0.6, maxParallel: 2 } }),
      })),
    ),
  }),
  agentReplicas: () => ({ ...sweReplicas }),
  defaultRates: [0.25, 0.5, 0.75, 1, 1.25, 1.5],
  defaultStepSeconds: 30,
  defaultTimeScale: {
    value: 0.75,
    why:
      'model time runs 1.33× faster than an A100: a round of a job (plan, developer lookup and answer, tester, ' +
      'code run: six sequential steps, ~6 real s at low load) stays well over 10× the ~20 ms Temporal spends ' +
      'per step (a low-load overhead share near 0.07 measured), and the grid of both variants fits 15 minutes',
  },
  arrivals: sweArrivals,
  run: runSweJob,
  // The code-run tool's simulated test-suite latency runs at the simulator's time scale.
  workerEnv: ({ timeScale }) => ({ NALAR_TOOL_TIME_SCALE: String(timeScale) }),
};
