/**
 * What the software-engineering workflow (`swe.ts`, stubs and futures) and its vanilla Temporal twin
 * (`swe-baseline.ts`, plain `proxyActivities`) share: the job's rounds (plan, subtasks in parallel, re-plan the
 * failed ones until they pass or the depth bound), the critical-path arithmetic and the request deadline. Each
 * variant supplies how a plan and a subtask are run; this file calls no activity itself.
 */
import { ApplicationFailure, CancellationScope, isCancellation, sleep } from '@temporalio/workflow';
import { z } from 'zod';
import type { ErrorCode } from '../common/errors';
import type { PlanInput, PlanResult, Subtask } from '../activities/agents/swe';
import type { SweInput } from './inputs';

// Workflow code does not value-import common/: the annotation fails the type check if the code is not registered.
const DEADLINE_EXCEEDED: typeof ErrorCode.DEADLINE_EXCEEDED = 'NALAR_ERR_DEADLINE_EXCEEDED';

/** Defaults of {@link SweInput}'s optional fields, written once. */
export const sweDefaults = { maxDepth: 2, passProbability: 0.7, maxDeveloperSteps: 4 } as const;

/** Model time (the simulator's engine report, model ms) and tool time (real ms) along the critical path. */
import { longest, sequential, type CriticalPath } from './critical-path';

export { longest, sequential, type CriticalPath };

/** What one subtask's branch (developer, tester, code-run) reports. */
export interface SubtaskOutcome {
  id: string;
  passed: boolean;
  /** Documentation lookups the developer's model asked for. */
  lookups: number;
  path: CriticalPath;
}

/** One planning round: the subtasks it ran and those that failed their tests. */
export interface SweRound {
  round: number;
  subtasks: string[];
  failed: string[];
}

/** Result of `sweWorkflow` and `sweBaselineWorkflow`: a job that ran to the end (passed, or gave up). */
export interface SweResult {
  /** `'passed'`: every subtask passed; `'gave-up'`: some still failed after `maxDepth` re-plans. */
  status: 'passed' | 'gave-up';
  /** Subtasks of the first plan (the job's fan-out). */
  subtasks: number;
  /** Developer attempts over all rounds. */
  attempts: number;
  /** Re-plans made (recursion depth reached; at most `maxDepth`). */
  depth: number;
  /** Documentation lookups over all developers. */
  lookups: number;
  /** Subtasks that still fail (empty when passed). */
  failed: string[];
  rounds: SweRound[];
  criticalPath: CriticalPath;
}

/** How a variant runs the two kinds of step. */
export interface SweSteps {
  plan(input: PlanInput): Promise<PlanResult>;
  /** Implements and tests one subtask; called for every subtask of a round before any is awaited. */
  subtask(subtask: Subtask, round: number): Promise<SubtaskOutcome>;
}

/** Arguments of the developer's `lookupDocs` tool, checked before the call (the model may get them wrong). */
export const lookupDocsArgs = z.object({
  query: z.string().min(3).max(80),
  topK: z.number().int().min(1).max(3).optional(),
});

/**
 * The job: plan, run every subtask of the round in parallel, re-plan the failed ones (recursion re-enters at
 * the planner) until none fails or `maxDepth` re-plans were made.
 */
export async function runSweJob(input: SweInput, steps: SweSteps): Promise<SweResult> {
  const maxDepth = input.maxDepth ?? sweDefaults.maxDepth;
  const rounds: SweRound[] = [];
  const paths: CriticalPath[] = [];
  let failed: Subtask[] = [];
  let attempts = 0;
  let lookups = 0;
  let firstPlan = 0;
  for (let round = 0; round === 0 || (failed.length > 0 && round <= maxDepth); round++) {
    const plan = await steps.plan({
      task: input.task,
      seed: input.seed,
      round,
      ...(round > 0 && { failed }),
      ...(round === 0 && input.subtasks !== undefined && { subtasks: input.subtasks }),
    });
    if (round === 0) firstPlan = plan.subtasks.length;
    // Start every branch before awaiting any: the developers of a round run in parallel.
    const started = plan.subtasks.map((s) => steps.subtask(s, round));
    const outcomes = await Promise.all(started);
    attempts += outcomes.length;
    lookups += outcomes.reduce((n, o) => n + o.lookups, 0);
    paths.push(sequential({ modelMs: plan.modelMs, toolMs: 0 }, longest(outcomes.map((o) => o.path))));
    failed = plan.subtasks.filter((_, i) => !outcomes[i]?.passed);
    rounds.push({ round, subtasks: plan.subtasks.map((s) => s.id), failed: failed.map((s) => s.id) });
  }
  return {
    status: failed.length === 0 ? 'passed' : 'gave-up',
    subtasks: firstPlan,
    attempts,
    depth: rounds.length - 1,
    lookups,
    failed: failed.map((s) => s.id),
    rounds,
    criticalPath: sequential(...paths),
  };
}

/**
 * Runs `fn` under the request deadline: when `deadlineMs` passes first, cancels what `fn` still runs and fails
 * with a non-retryable `NALAR_ERR_DEADLINE_EXCEEDED` (`details[0]`: `{ deadlineMs }`). No deadline: just `fn`.
 */
export async function withDeadline<T>(deadlineMs: number | undefined, fn: () => Promise<T>): Promise<T> {
  if (deadlineMs === undefined) return fn();
  let expired = false;
  const scope = new CancellationScope();
  void sleep(deadlineMs).then(() => {
    expired = true;
    scope.cancel();
  });
  try {
    return await scope.run(fn);
  } catch (err) {
    if (expired && isCancellation(err)) {
      throw ApplicationFailure.create({
        type: DEADLINE_EXCEEDED,
        message: `the job was not done within its deadline of ${deadlineMs} ms`,
        nonRetryable: true,
        details: [{ deadlineMs }],
      });
    }
    throw err;
  }
}
