/**
 * Starting a tenant's run, the one way every gateway route (and plugin) does it: the tenant-scoped workflow id,
 * the tenant in the memo (fairness), and idempotency by id: starting an id the tenant already used answers that
 * run (running or closed) instead of starting a second one.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/client';
import type { GatewayRouteDeps } from './context';

/** Options of {@link startRun}. */
export interface StartRunOptions {
  /** The public run id the client chose (idempotency key). @default a random UUID */
  id?: string;
}

/** A run the gateway started or found. */
export interface StartedRun {
  /** Temporal workflow id (`<tenant>:<id>`). */
  workflowId: string;
  /** Temporal run id: of the new run, or of the existing run's first execution when `existing`. */
  runId: string;
  /** The id the client sees and uses in `/v1/runs/<id>`. */
  publicId: string;
  /** True when the id was already used by this tenant: no new run was started. */
  existing: boolean;
}

/**
 * Starts workflow type `name` with `input` (already validated) for `tenant` on the gateway's task queue.
 * Throws what the Temporal client throws (e.g. a `ServiceError` when Temporal is unreachable).
 */
export async function startRun(
  deps: GatewayRouteDeps,
  tenant: string,
  name: string,
  input: unknown,
  options: StartRunOptions = {},
): Promise<StartedRun> {
  const publicId = options.id ?? randomUUID();
  const workflowId = deps.workflowIdOf(tenant, publicId);
  try {
    const handle = await deps.client.workflow.start(name, {
      taskQueue: deps.taskQueue,
      workflowId,
      args: [input],
      memo: deps.startHeaders(tenant),
      // A used id answers its run, closed or not: a retried POST never runs the work twice.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    });
    return { workflowId, runId: handle.firstExecutionRunId, publicId, existing: false };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const described = await deps.client.workflow.getHandle(workflowId).describe();
    return { workflowId, runId: described.runId, publicId, existing: true };
  }
}
