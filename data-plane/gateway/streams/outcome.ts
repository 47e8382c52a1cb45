/** How a run ended, as the final `run` event of an SSE stream says it: status, and result or error code. */
import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  TerminatedFailure,
  TimeoutFailure,
  WorkflowFailedError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import type { z } from 'zod';
import type { runEventBody } from '../../../state/streams/events';

/** The data of a final `run` event. */
export type RunOutcome = Omit<z.infer<typeof runEventBody>, 'kind'>;

/** The code and message of a failure: the innermost `ApplicationFailure` type is the Nalar code. */
export function errorOf(err: unknown): { code: string; message: string } {
  let cause: unknown = err instanceof WorkflowFailedError || err instanceof WorkflowUpdateFailedError ? err.cause : err;
  let message = err instanceof Error ? err.message : String(err);
  for (let depth = 0; depth < 10 && cause; depth++) {
    if (cause instanceof ApplicationFailure) return { code: cause.type ?? 'Error', message: cause.message };
    if (cause instanceof ActivityFailure || cause instanceof Error) {
      message = cause.message || message;
      cause = cause.cause;
    } else break;
  }
  return { code: 'NALAR_ERR_WORKFLOW_FAILED', message };
}

/**
 * Waits for the run (following continue-as-new) and describes its end; `signal` stops the wait (a client
 * that went away). Never rejects: an unreachable Temporal is reported as a failed outcome with its message.
 */
export async function runOutcome(client: Client, workflowId: string, signal?: AbortSignal): Promise<RunOutcome> {
  try {
    const handle = client.workflow.getHandle(workflowId);
    const result: unknown = await (signal ? client.withAbortSignal(signal, () => handle.result()) : handle.result());
    return { status: 'completed', result };
  } catch (err) {
    const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
    if (cause instanceof CancelledFailure)
      return { status: 'cancelled', error: { code: 'CANCELLED', message: cause.message } };
    if (cause instanceof TerminatedFailure)
      return { status: 'terminated', error: { code: 'TERMINATED', message: cause.message } };
    if (cause instanceof TimeoutFailure)
      return { status: 'timed_out', error: { code: 'TIMED_OUT', message: cause.message } };
    return { status: 'failed', error: errorOf(err) };
  }
}
