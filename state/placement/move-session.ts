/**
 * `moveSession`: what the control plane calls to migrate a session to another worker. It runs
 * `moveSessionWorkflow` (durable: a crash of the caller does not leave a half-done move) and waits for it.
 */
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { ErrorCode, NalarError } from '../../common/errors';
import type { MoveSessionResult } from '../workflow/move-session';

export interface MoveSessionOptions {
  /** The main task queue (NALAR_TASK_QUEUE) the workers poll. */
  taskQueue: string;
  /** How long (ms) to wait for a worker to pick up its warm or drop message. @default 30000 (drop: 10000) */
  workerTimeoutMs?: number;
}

/** The workflow id of the move of `sessionId`: one move per session at a time. */
export function moveSessionWorkflowId(sessionId: string): string {
  return `nalar-move-session:${sessionId}`;
}

/**
 * Makes worker `to` (its NALAR_WORKER_ID) the owner of `sessionId`, has the previous owner drop its cached
 * copy and warms `to`'s cache. Rejects with NALAR_ERR_STATE_CONFLICT while another move of the session runs.
 */
export async function moveSession(
  client: Client,
  sessionId: string,
  to: string,
  options: MoveSessionOptions,
): Promise<MoveSessionResult> {
  try {
    return await client.workflow.execute('moveSessionWorkflow', {
      taskQueue: options.taskQueue,
      workflowId: moveSessionWorkflowId(sessionId),
      args: [
        { sessionId, to, ...(options.workerTimeoutMs !== undefined && { workerTimeoutMs: options.workerTimeoutMs }) },
      ],
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new NalarError(ErrorCode.STATE_CONFLICT, `session ${sessionId} is already being moved`, { cause: err });
    }
    throw err;
  }
}
