/**
 * A run as the gateway shows it: status, result (decoded with the Nalar data converter), error with its code,
 * timestamps and links. Built from Temporal's own records (describe, then the close event for a closed run),
 * so a gateway restart loses nothing.
 */
import {
  ApplicationFailure,
  isGrpcServiceError,
  ServiceError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';
import { z } from 'zod';
import { ErrorCode, errorMessage, failureCode, NalarError } from '../../common/errors';

/** Run states a client sees: Temporal's execution statuses in lower case. */
export const runStatus = z.enum([
  'running',
  'completed',
  'failed',
  'cancelled',
  'terminated',
  'timed_out',
  'continued_as_new',
  'unknown',
]);
export type RunStatus = z.infer<typeof runStatus>;

/** Where to go next with a run. */
export const runLinks = z.object({ self: z.string(), stream: z.string(), cancel: z.string() });

/** The error of a failed (or timed out, terminated, cancelled) run. */
export const runError = z.object({
  /** The failure's type: a `NALAR_ERR_…` code for Nalar's failures, else the workflow's own failure type. */
  code: z.string(),
  message: z.string(),
});

/** A run, as `GET /v1/runs/<id>` and the start route answer it. */
export const runView = z.object({
  id: z.string(),
  runId: z.string(),
  workflow: z.string().optional(),
  status: runStatus,
  startedAt: z.string().optional(),
  closedAt: z.string().optional(),
  result: z.unknown().optional(),
  error: runError.optional(),
  links: runLinks,
});
export type RunView = z.infer<typeof runView>;

/** The links of run `id` (public id, URL-encoded). */
export function linksOf(id: string): z.infer<typeof runLinks> {
  const base = `/v1/runs/${encodeURIComponent(id)}`;
  return { self: base, stream: `${base}/events`, cancel: `${base}/cancel` };
}

/** Temporal's status name (`TIMED_OUT`) as a {@link RunStatus}. */
export function runStatusOf(name: string): RunStatus {
  const status = runStatus.safeParse(name.toLowerCase());
  return status.success ? status.data : 'unknown';
}

/** The code and message of a run's failure as the client's `result()` throws it. */
export function runErrorOf(err: unknown): z.infer<typeof runError> {
  const cause = err instanceof WorkflowFailedError ? err.cause : err;
  const code =
    failureCode(err) ??
    (cause instanceof ApplicationFailure && cause.type ? cause.type : undefined) ??
    (cause instanceof Error ? cause.name : 'Error');
  return { code, message: errorMessage(cause ?? err) };
}

/** The outcome of a closed run: its result, or its error. */
export async function outcomeOf(
  client: Client,
  workflowId: string,
  runId: string,
): Promise<Pick<RunView, 'result' | 'error'>> {
  try {
    return { result: await client.workflow.getHandle(workflowId, runId, { followRuns: false }).result() };
  } catch (err) {
    if (err instanceof WorkflowFailedError) return { error: runErrorOf(err) };
    throw err;
  }
}

/**
 * The run `workflowId` shown under `publicId`; throws `NALAR_ERR_WORKFLOW_NOT_FOUND` (404) when Temporal has
 * no such workflow.
 */
export async function describeRun(client: Client, workflowId: string, publicId: string): Promise<RunView> {
  const described = await client.workflow
    .getHandle(workflowId)
    .describe()
    .catch((err: unknown) => {
      throw asNotFound(err, publicId);
    });
  const status = runStatusOf(described.status.name);
  const view: RunView = {
    id: publicId,
    runId: described.runId,
    workflow: described.type,
    status,
    startedAt: described.startTime.toISOString(),
    ...(described.closeTime && { closedAt: described.closeTime.toISOString() }),
    links: linksOf(publicId),
  };
  if (status === 'running' || status === 'continued_as_new' || status === 'unknown') return view;
  return { ...view, ...(await outcomeOf(client, workflowId, described.runId)) };
}

/** A "no such workflow" answer of Temporal as `NALAR_ERR_WORKFLOW_NOT_FOUND`; anything else unchanged. */
export function asNotFound(err: unknown, publicId: string): unknown {
  const notFound =
    err instanceof WorkflowNotFoundError ||
    (err instanceof ServiceError && isGrpcServiceError(err.cause) && err.cause.code === 5);
  return notFound ? new NalarError(ErrorCode.WORKFLOW_NOT_FOUND, `no run ${publicId}`) : err;
}

/** Temporal's `ExecutionStatus` search-attribute value of each listable {@link RunStatus}. */
const executionStatusOf: Partial<Record<RunStatus, string>> = {
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Canceled',
  terminated: 'Terminated',
  timed_out: 'TimedOut',
  continued_as_new: 'ContinuedAsNew',
};

/** Query of `GET /v1/runs`. */
export const listRunsQuery = z.object({
  status: runStatus.exclude(['unknown']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

/** One entry of `GET /v1/runs`: a run without its result or error (read those with `GET /v1/runs/<id>`). */
export type RunSummary = Omit<RunView, 'result' | 'error'>;

/**
 * The tenant's most recent runs (newest first, at most `limit`), optionally only those in `status`. From
 * Temporal's visibility store, which lags behind a start or close by a moment. `tenant` is a validated tenant
 * name (no quotes), so it is safe inside the query.
 */
export async function listRuns(
  client: Client,
  tenant: string,
  query: z.output<typeof listRunsQuery>,
): Promise<RunSummary[]> {
  const prefix = `${tenant}:`;
  const clauses = [`WorkflowId STARTS_WITH "${prefix}"`];
  if (query.status) clauses.push(`ExecutionStatus = "${executionStatusOf[query.status]}"`);
  const runs: RunSummary[] = [];
  for await (const info of client.workflow.list({ query: clauses.join(' AND '), pageSize: query.limit })) {
    if (!info.workflowId.startsWith(prefix)) continue; // belt and braces: never another tenant's
    const id = info.workflowId.slice(prefix.length);
    runs.push({
      id,
      runId: info.runId,
      workflow: info.type,
      status: runStatusOf(info.status.name),
      startedAt: info.startTime.toISOString(),
      ...(info.closeTime && { closedAt: info.closeTime.toISOString() }),
      links: linksOf(id),
    });
    if (runs.length >= query.limit) break;
  }
  return runs;
}
