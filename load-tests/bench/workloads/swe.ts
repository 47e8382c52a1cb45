/**
 * The software-engineering workload for the end-to-end benchmark (`npm run bench -- swe`): a job set, submitted
 * over a few seconds (Poisson), each job running `sweWorkflow` (Nalar) or `sweBaselineWorkflow` (vanilla
 * Temporal) to the end; the set's completion time is what the variants are compared on. Every agent has the
 * same share of the replicas (four each), so a job's demand moves from the planner to the developers to the
 * tester as it progresses, while the baseline's split stays static. Every value below is explained in
 * docs/workloads/swe.md.
 */
import { TimeoutFailure, WorkflowFailedError } from '@temporalio/client';
import { failureCode } from '../../../common/errors';
import { Prng, seedFrom } from '../../../sim/prng';
import type { SweInput, SweResult } from '../../../workflows';
import type { Arrival, BenchWorkload, RequestRecord, RunContext } from './types';

/** Simulated model names of the three agents (each replica's `model` names the agent it serves). */
export const sweModels = { planner: 'swe-planner', developer: 'swe-developer', tester: 'swe-tester' } as const;

/**
 * Replicas per agent, in profile order: the same share each (the static split of a deployment that gives every
 * agent the same GPUs), twelve small replicas so that capacity moves a twelfth of the pool at a time.
 */
export const sweReplicas = { planner: [0, 1, 2, 3], developer: [4, 5, 6, 7], tester: [8, 9, 10, 11] } as const;

/**
 * Batch slots and waiting room of every replica: two running sequences, and a waiting room that holds a whole
 * job set (as vLLM's queue does by default), so every job of the set completes in both variants and the
 * set's completion time compares the same work; no 429 under a job set.
 */
export const sweReplicaLimits = { maxNumSeqs: 2, maxWaiting: 512, retryAfterSeconds: 1 } as const;

/** Real seconds the runner waits for a set's last jobs after its last submission (then they fail as TIMEOUT). */
export const sweDrainSeconds = 300;

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

/** The submissions of one job set: Poisson at `rate` per second over the step; job i is the same at every rate. */
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
  // No deadline: every job of the set runs to its end, however long it waits (the drain bounds the set).
  const input: SweInput = { ...payload, ...sweJobDefaults };
  const sentAt = Date.now();
  const started = performance.now();
  try {
    const result = await ctx.client.workflow.execute<(input: SweInput) => Promise<SweResult>>(
      ctx.variant === 'nalar' ? 'sweWorkflow' : 'sweBaselineWorkflow',
      {
        taskQueue: ctx.taskQueue,
        workflowId: `${ctx.workflowIdPrefix}-${arrival.id}`,
        args: [input],
        // A safety net behind the runner's drain (which terminates the set's stragglers).
        workflowExecutionTimeout: (sweDrainSeconds + 60) * 1000,
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
  // Sets of about 2, 20, 40 and 60 jobs: one job alone (the overhead share), then sets that queue.
  defaultRates: [0.25, 2, 4, 6],
  defaultStepSeconds: 10,
  defaultDrainSeconds: sweDrainSeconds,
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
