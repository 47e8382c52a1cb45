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
import { temporal, type google } from '@temporalio/proto';
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
  /** `nextCursor` of the page before, for the page after it (with the same `status`). */
  cursor: z
    .string()
    .max(4096)
    .regex(/^[A-Za-z0-9_-]+$/, 'expected the nextCursor of a listing')
    .optional(),
});

/** One entry of `GET /v1/runs`: a run without its result or error (read those with `GET /v1/runs/<id>`). */
export type RunSummary = Omit<RunView, 'result' | 'error'>;

/** A page of `GET /v1/runs`; `nextCursor` when more runs follow. */
export interface RunPage {
  runs: RunSummary[];
  nextCursor?: string;
}

/** Epoch ms of a protobuf timestamp (its seconds a number or a Long). */
function msOf(ts: google.protobuf.ITimestamp | null | undefined): number | undefined {
  if (!ts?.seconds) return undefined;
  const seconds = typeof ts.seconds === 'number' ? ts.seconds : ts.seconds.toNumber();
  return seconds * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

const statusPrefix = 'WORKFLOW_EXECUTION_STATUS_';
/** What a cursor carries: Temporal's page token, and the status filter of the listing it continues. */
const cursorSchema = z.strictObject({ status: runStatus.optional(), page: z.string().min(1) });

function badCursor(why: string): NalarError {
  return new NalarError(ErrorCode.INVALID_INPUT, `invalid query: cursor: ${why}`);
}

/** The cursor of the page after this one: Temporal's token, bound to the listing's status filter. */
function encodeCursor(status: RunStatus | undefined, token: Uint8Array): string {
  const cursor = { ...(status && { status }), page: Buffer.from(token).toString('base64') };
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/** Temporal's page token in `cursor`; a {@link NalarError} INVALID_INPUT when it is not one of this listing's. */
function decodeCursor(cursor: string, status: RunStatus | undefined): Buffer {
  let parsed: z.output<typeof cursorSchema>;
  try {
    parsed = cursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw badCursor('not the nextCursor of a listing');
  }
  if (parsed.status !== status) {
    throw badCursor(`it continues the listing of status=${parsed.status ?? '(any)'}, not ${status ?? '(any)'}`);
  }
  return Buffer.from(parsed.page, 'base64');
}

/**
 * The tenant's most recent runs (newest first, at most `limit`), optionally only those in `status`, from the
 * page `cursor` names on. From Temporal's visibility store, which lags behind a start or close by a moment.
 * `tenant` is a validated tenant name (no quotes), so it is safe inside the query; the cursor is Temporal's
 * page token for the same query, which keeps another tenant's runs out whatever the token holds.
 */
export async function listRuns(
  client: Client,
  tenant: string,
  query: z.output<typeof listRunsQuery>,
): Promise<RunPage> {
  const prefix = `${tenant}:`;
  const clauses = [`WorkflowId STARTS_WITH "${prefix}"`];
  if (query.status) clauses.push(`ExecutionStatus = "${executionStatusOf[query.status]}"`);
  // Checked before Temporal sees it: Temporal answers a page token it cannot read with an error its client
  // retries until the deadline, which would read as Temporal being down.
  const page = query.cursor === undefined ? undefined : decodeCursor(query.cursor, query.status);
  const response = await client.workflowService.listWorkflowExecutions({
    namespace: client.options.namespace,
    query: clauses.join(' AND '),
    pageSize: query.limit,
    ...(page && { nextPageToken: page }),
  });
  const runs: RunSummary[] = [];
  for (const raw of response.executions ?? []) {
    const workflowId = raw.execution?.workflowId ?? '';
    if (!workflowId.startsWith(prefix)) continue; // belt and braces: never another tenant's
    const id = workflowId.slice(prefix.length);
    const status = temporal.api.enums.v1.WorkflowExecutionStatus[raw.status ?? 0] ?? '';
    const [startedAt, closedAt] = [msOf(raw.startTime), msOf(raw.closeTime)];
    runs.push({
      id,
      runId: raw.execution?.runId ?? '',
      workflow: raw.type?.name ?? '',
      status: runStatusOf(status.replace(statusPrefix, '')),
      startedAt: new Date(startedAt ?? 0).toISOString(),
      ...(closedAt !== undefined && { closedAt: new Date(closedAt).toISOString() }),
      links: linksOf(id),
    });
  }
  const token = response.nextPageToken;
  return { runs, ...(token && token.length > 0 && { nextCursor: encodeCursor(query.status, token) }) };
}
