/**
 * Finds stuck workflows: open workflows whose workflow task keeps failing because their code throws (a bug,
 * a non-determinism error). Temporal retries such a task until a worker runs fixed code, so nothing fails and
 * nothing finishes; `nalar stuck` lists them with the error, read from the server (describe and history).
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

/** One workflow whose workflow task is failing. */
export interface StuckWorkflow {
  workflowId: string;
  runId: string;
  workflowType: string;
  taskQueue: string;
  /** Attempt of its pending workflow task: 2 or more (1 is a task that has not failed). */
  taskAttempt: number;
  /** When its workflow task first failed (ISO 8601), when the history says. */
  failingSince?: string;
  /** Why the task failed, e.g. `WORKFLOW_WORKER_UNHANDLED_FAILURE` or `NON_DETERMINISTIC_ERROR`. */
  cause?: string;
  /** The error of the last recorded task failure, `<type>: <message>`. */
  error: string;
}

/** Options of {@link findStuckWorkflows}. */
export interface FindStuckOptions {
  /** Most open workflows to inspect (each costs a describe call). @default 1000 */
  limit?: number;
  /** Extra visibility filter ANDed to `ExecutionStatus = "Running"`, e.g. `TaskQueue = "nalar"`. */
  query?: string;
}

/** Result of {@link findStuckWorkflows}. */
export interface FindStuckResult {
  stuck: StuckWorkflow[];
  /** Open workflows inspected. */
  inspected: number;
  /** True when more open workflows exist than `limit`. */
  truncated: boolean;
}

const { EventType, WorkflowTaskFailedCause } = temporal.api.enums.v1;

/** The last WorkflowTaskFailed event of a run, reading its history backwards (a few pages at most). */
async function lastTaskFailure(
  client: Client,
  workflowId: string,
  runId: string,
): Promise<Pick<StuckWorkflow, 'error' | 'cause' | 'failingSince'>> {
  let nextPageToken: Uint8Array | undefined;
  for (let page = 0; page < 10; page++) {
    const res = await client.workflowService.getWorkflowExecutionHistoryReverse({
      namespace: client.options.namespace,
      execution: { workflowId, runId },
      maximumPageSize: 100,
      ...(nextPageToken && { nextPageToken }),
    });
    for (const event of res.history?.events ?? []) {
      if (event.eventType !== EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED) continue;
      const attrs = event.workflowTaskFailedEventAttributes;
      const failure = attrs?.failure;
      const message = failure?.message ?? 'no message recorded';
      // The TypeScript SDK records a code bug's class only in its stack trace, on the line "TypeError: <message>"
      // (after Node's source excerpt, when there is one).
      const typeLine = failure?.stackTrace?.split('\n').find((line) => line.endsWith(`: ${message}`));
      const type = failure?.applicationFailureInfo?.type || /^(\w+): /.exec(typeLine ?? '')?.[1];
      const seconds = event.eventTime?.seconds;
      return {
        error: `${type ? `${type}: ` : ''}${message}`,
        ...(attrs?.cause != null && {
          cause: String(WorkflowTaskFailedCause[attrs.cause]).replace(/^WORKFLOW_TASK_FAILED_CAUSE_/, ''),
        }),
        ...(seconds != null && { failingSince: new Date(Number(seconds) * 1000).toISOString() }),
      };
    }
    if (!res.nextPageToken?.length) break;
    nextPageToken = res.nextPageToken;
  }
  return { error: 'no WorkflowTaskFailed event found in its history' };
}

/**
 * Lists the open workflows of the client's namespace whose pending workflow task is on attempt 2 or more
 * (its earlier attempts failed), with the error of the recorded task failure. Read-only.
 */
export async function findStuckWorkflows(client: Client, options: FindStuckOptions = {}): Promise<FindStuckResult> {
  const limit = options.limit ?? 1000;
  const query = `ExecutionStatus = "Running"${options.query ? ` AND (${options.query})` : ''}`;
  const stuck: StuckWorkflow[] = [];
  let inspected = 0;
  let truncated = false;
  for await (const wf of client.workflow.list({ query })) {
    if (inspected === limit) {
      truncated = true;
      break;
    }
    inspected++;
    const { raw } = await client.workflow.getHandle(wf.workflowId, wf.runId).describe();
    const taskAttempt = raw.pendingWorkflowTask?.attempt ?? 0;
    if (taskAttempt < 2) continue;
    stuck.push({
      workflowId: wf.workflowId,
      runId: wf.runId,
      workflowType: wf.type,
      taskQueue: wf.taskQueue,
      taskAttempt,
      ...(await lastTaskFailure(client, wf.workflowId, wf.runId)),
    });
  }
  return { stuck, inspected, truncated };
}
