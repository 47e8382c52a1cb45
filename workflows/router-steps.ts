/**
 * What the router workflow and its vanilla twin share (workflow-side, deterministic): the result shape and
 * the request deadline. The deadline runs from the workflow's start (server time, recorded in history);
 * every step gets the time left as its schedule-to-close timeout, so Temporal stops its retries when the
 * request is out of time, and a step that runs out becomes `NALAR_ERR_DEADLINE_EXCEEDED`.
 */
import { ActivityFailure, ApplicationFailure, TimeoutFailure, workflowInfo } from '@temporalio/workflow';
import type { ErrorCode } from '../common/errors';
import type { RouterInput } from './inputs';

// Workflow code does not value-import common/: the annotation fails the type check if the code is not registered.
const DEADLINE_EXCEEDED: typeof ErrorCode.DEADLINE_EXCEEDED = 'NALAR_ERR_DEADLINE_EXCEEDED';
const LLM_DEADLINE_EXCEEDED: typeof ErrorCode.LLM_DEADLINE_EXCEEDED = 'NALAR_ERR_LLM_DEADLINE_EXCEEDED';

import type { CriticalPath } from './critical-path';

export type { CriticalPath } from './critical-path';

/** What one router request returns. */
export interface RouterResult {
  /** The branch the classifier chose. */
  branch: 'chat' | 'coding';
  /** Chat branch: characters of the reply. */
  replyChars?: number;
  /** Coding branch: whether the coder's program passed its test. */
  passed?: boolean;
  criticalPath: CriticalPath;
  /** The replicas that served the request's model calls, in order (when the engine names them). */
  replicas: string[];
}

/** The replicas named by a request's model calls, in order. */
export function replicasOf(...calls: { replica?: string }[]): string[] {
  return calls.flatMap((c) => (c.replica === undefined ? [] : [c.replica]));
}

/** The router's steps, as `details[0].step` of a deadline failure names them. */
export type RouterStep = 'classify' | 'chat' | 'write' | 'run';

/**
 * Runs one step of a request with the time left before its deadline: `call(msLeft)` starts the step with
 * that schedule-to-close timeout. Fails with `NALAR_ERR_DEADLINE_EXCEEDED` when no time is left before the
 * step, or when the step's schedule-to-close timeout fires; any other failure passes through unchanged.
 */
export async function withDeadline<T>(
  input: Pick<RouterInput, 'deadlineMs'>,
  step: RouterStep,
  call: (msLeft: number) => PromiseLike<T>,
): Promise<T> {
  const deadlineAt = workflowInfo().startTime.getTime() + input.deadlineMs;
  const left = deadlineAt - Date.now(); // workflow time: deterministic
  if (left < 1) throw deadlineExceeded(input.deadlineMs, step);
  try {
    return await call(left);
  } catch (err) {
    if (err instanceof ActivityFailure && outOfTime(err)) throw deadlineExceeded(input.deadlineMs, step, err);
    throw err;
  }
}

/**
 * The step ran out of its time: its schedule-to-close timeout fired while an attempt ran; the engine dropped
 * the call at the deadline the agent passed it (`NALAR_ERR_LLM_DEADLINE_EXCEEDED`); or an attempt failed
 * retryably and Temporal did not retry because the next attempt would start past the deadline (retry state
 * TIMEOUT).
 */
function outOfTime(err: ActivityFailure): boolean {
  const timedOut = err.cause instanceof TimeoutFailure && err.cause.timeoutType === 'SCHEDULE_TO_CLOSE';
  const engineDropped = err.cause instanceof ApplicationFailure && err.cause.type === LLM_DEADLINE_EXCEEDED;
  return timedOut || engineDropped || err.retryState === 'TIMEOUT';
}

function deadlineExceeded(deadlineMs: number, step: RouterStep, cause?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type: DEADLINE_EXCEEDED,
    nonRetryable: true,
    message: `the request did not finish within its deadline of ${deadlineMs} ms (at step ${step})`,
    details: [{ deadlineMs, step }],
    ...(cause instanceof Error && { cause }),
  });
}
