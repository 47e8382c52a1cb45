/**
 * Blob garbage collection: deletes blobs of the claim-check store that no workflow history (or other
 * Temporal record) points to any more, and never one a live handle points to.
 *
 * Mark: every execution of the namespace (open and closed, every run) is listed, and every claim-check
 * handle in its history, in the pending state of a running execution (heartbeat details, …) and in every
 * schedule is collected. An execution that disappeared between listing and reading (retention, deletion) is
 * skipped; any other error aborts the collection before anything is deleted.
 *
 * Sweep: a stored blob is deleted only if no handle points to it and it was not written or reused (`put`)
 * within `graceMs` before the collection started. The grace covers what the mark cannot see: values stored
 * by a client or worker whose handle is not in history yet, and executions that visibility (eventually
 * consistent) does not list yet. A value reused during the collection refreshes its blob's time, and
 * `deleteIfUnusedSince` keeps a blob touched even while it is being deleted.
 */
import { isGrpcServiceError, type Client } from '@temporalio/client';
import { google, temporal } from '@temporalio/proto';
import type { BlobStore } from '../payloads/blob-store';
import { blobBytesCollected, blobsCollected } from '../metrics';
import { ErrorCode, errorMessage, NalarError } from '../../common/errors';
import { collectBlobHandles } from './history-handles';

export interface BlobGcOptions {
  /** Client of the Temporal cluster whose executions hold the handles (its data converter is not used). */
  client: Pick<Client, 'workflowService' | 'options'>;
  /**
   * Namespace(s) whose workers share this blob store: handles are collected from all of them.
   * @default the client's namespace
   */
  namespace?: string | readonly string[];
  blobs: BlobStore;
  /** Blobs written or reused less than this many milliseconds before the collection started are kept. */
  graceMs: number;
  /** Count what would be deleted, delete nothing. @default false */
  dryRun?: boolean;
  /** Clock (epoch milliseconds). @default Date.now */
  now?: () => number;
  /** Called with a line of progress now and then (phases, every 100 executions). @default no output */
  onProgress?: (message: string) => void;
  /** Executions read at the same time. @default 4 */
  concurrency?: number;
}

/** Outcome of one collection. */
export interface BlobGcReport {
  /** Blobs stored when the sweep began. */
  blobs: number;
  /** Of those, kept because a handle points to them. */
  referenced: number;
  /** Of those, unreferenced but kept because they were used within the grace time. */
  young: number;
  /** Deleted (in a dry run: would be deleted). */
  deleted: number;
  /** Bytes deleted (in a dry run: would be freed). */
  freedBytes: number;
  /** Executions (runs) whose history was read. */
  workflowsScanned: number;
  /** Executions listed but gone before their history was read (skipped). */
  workflowsGone: number;
  /** Schedules read. */
  schedulesScanned: number;
  /** Distinct blob hashes the handles found point to (stored or not). */
  handles: number;
  dryRun: boolean;
  durationMs: number;
}

/** Thrown when the mark phase could not read everything: nothing was deleted. */
export class BlobGcAbortedError extends NalarError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.BLOB_GC_ABORTED, `blob GC aborted, nothing deleted: ${message}`, options);
    this.name = 'BlobGcAbortedError';
  }
}

const GRPC_NOT_FOUND = 5;
const PROGRESS_EVERY = 100;
const { WorkflowExecutionStatus } = temporal.api.enums.v1;

/** Runs one mark-and-sweep collection; resolves with what it found and did. See the module comment. */
export async function collectBlobGarbage(options: BlobGcOptions): Promise<BlobGcReport> {
  const now = options.now ?? Date.now;
  const progress = options.onProgress ?? (() => undefined);
  const dryRun = options.dryRun ?? false;
  if (!Number.isFinite(options.graceMs) || options.graceMs < 0) {
    throw new RangeError(`graceMs must be a non-negative number of milliseconds, got ${options.graceMs}`);
  }
  const started = now();
  const cutoff = started - options.graceMs;
  const namespaces =
    options.namespace === undefined
      ? [options.client.options.namespace]
      : typeof options.namespace === 'string'
        ? [options.namespace]
        : [...options.namespace];

  const mark: MarkState = {
    client: options.client,
    handles: new Set(),
    workflowsScanned: 0,
    workflowsGone: 0,
    schedulesScanned: 0,
    concurrency: Math.max(1, options.concurrency ?? 4),
    progress,
  };
  for (const namespace of namespaces) {
    try {
      await markNamespace(mark, namespace);
    } catch (err) {
      throw new BlobGcAbortedError(`reading namespace ${namespace} failed (${describeError(err)})`, { cause: err });
    }
  }
  progress(
    `marked ${mark.handles.size} referenced blob(s) in ${mark.workflowsScanned} execution(s) and ` +
      `${mark.schedulesScanned} schedule(s)${mark.workflowsGone ? ` (${mark.workflowsGone} gone meanwhile)` : ''}`,
  );

  const report: BlobGcReport = {
    blobs: 0,
    referenced: 0,
    young: 0,
    deleted: 0,
    freedBytes: 0,
    workflowsScanned: mark.workflowsScanned,
    workflowsGone: mark.workflowsGone,
    schedulesScanned: mark.schedulesScanned,
    handles: mark.handles.size,
    dryRun,
    durationMs: 0,
  };
  const stored = await options.blobs.list();
  report.blobs = stored.length;
  progress(`sweeping ${stored.length} stored blob(s)${dryRun ? ' (dry run)' : ''}`);
  for (const hash of stored) {
    if (mark.handles.has(hash)) {
      report.referenced++;
      continue;
    }
    const stat = await options.blobs.stat(hash);
    if (!stat) continue; // deleted since listed (another collector)
    if (stat.modifiedMs >= cutoff) {
      report.young++;
      continue;
    }
    if (dryRun) {
      report.deleted++;
      report.freedBytes += stat.bytes;
      continue;
    }
    const freed = await options.blobs.deleteIfUnusedSince(hash, cutoff);
    if (freed === undefined) {
      report.young++; // reused while we looked at it (or removed by someone else)
      continue;
    }
    report.deleted++;
    report.freedBytes += freed;
    blobsCollected.inc();
    blobBytesCollected.inc(freed);
  }
  report.durationMs = now() - started;
  progress(
    `${dryRun ? 'would delete' : 'deleted'} ${report.deleted} blob(s), ${report.freedBytes} bytes; kept ` +
      `${report.referenced} referenced and ${report.young} recently used`,
  );
  return report;
}

interface MarkState {
  readonly client: BlobGcOptions['client'];
  readonly handles: Set<string>;
  workflowsScanned: number;
  workflowsGone: number;
  schedulesScanned: number;
  readonly concurrency: number;
  readonly progress: (message: string) => void;
}

async function markNamespace(mark: MarkState, namespace: string): Promise<void> {
  // Running executions first, closed ones after: listing pages by a cursor, an execution that closes while
  // we page moves to the closed list, which is read later, so it cannot slip between two pages unseen.
  await markExecutions(mark, namespace, `ExecutionStatus = 'Running'`, true);
  await markExecutions(mark, namespace, `ExecutionStatus != 'Running'`, false);
  await markSchedules(mark, namespace);
}

async function markExecutions(mark: MarkState, namespace: string, query: string, running: boolean): Promise<void> {
  const service = mark.client.workflowService;
  mark.progress(`listing ${running ? 'running' : 'closed'} executions of namespace ${namespace}`);
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await service.listWorkflowExecutions({ namespace, query, nextPageToken, pageSize: 1000 });
    collectBlobHandles(page.executions, mark.handles); // memo and search attributes
    await forEachLimited(page.executions, mark.concurrency, async (info) => {
      const execution = { workflowId: info.execution?.workflowId, runId: info.execution?.runId };
      try {
        await markHistory(mark, namespace, execution);
        // A running execution also holds values outside its history (the last heartbeat details of a pending
        // activity, the last failure of one being retried).
        const isRunning = running || info.status === WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
        if (isRunning) {
          collectBlobHandles(await service.describeWorkflowExecution({ namespace, execution }), mark.handles);
        }
      } catch (err) {
        if (!isExecutionGone(err)) throw err;
        mark.workflowsGone++;
        return;
      }
      mark.workflowsScanned++;
      if (mark.workflowsScanned % PROGRESS_EVERY === 0) {
        mark.progress(`read ${mark.workflowsScanned} executions, ${mark.handles.size} referenced blob(s) so far`);
      }
    });
    nextPageToken = page.nextPageToken;
  } while (nextPageToken?.length);
}

async function markHistory(
  mark: MarkState,
  namespace: string,
  execution: { workflowId?: string | null; runId?: string | null },
): Promise<void> {
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await mark.client.workflowService.getWorkflowExecutionHistory({ namespace, execution, nextPageToken });
    // One page at a time: a namespace's histories never have to fit in memory together.
    collectBlobHandles(page.history, mark.handles);
    nextPageToken = page.nextPageToken;
  } while (nextPageToken?.length);
}

async function markSchedules(mark: MarkState, namespace: string): Promise<void> {
  // A schedule keeps the input of the workflows it starts and copies it into each run without a `put`.
  const service = mark.client.workflowService;
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await service.listSchedules({ namespace, nextPageToken, maximumPageSize: 1000 });
    collectBlobHandles(page.schedules, mark.handles);
    await forEachLimited(page.schedules, mark.concurrency, async (entry) => {
      try {
        collectBlobHandles(await service.describeSchedule({ namespace, scheduleId: entry.scheduleId }), mark.handles);
        mark.schedulesScanned++;
      } catch (err) {
        if (!isExecutionGone(err)) throw err;
      }
    });
    nextPageToken = page.nextPageToken;
  } while (nextPageToken?.length);
}

/** NOT_FOUND for the record itself, not for its namespace (then nothing about the namespace is known). */
function isExecutionGone(err: unknown): boolean {
  if (!isGrpcServiceError(err) || err.code !== GRPC_NOT_FOUND) return false;
  const details = err.metadata.get('grpc-status-details-bin')[0];
  if (details === undefined || typeof details === 'string') return true;
  try {
    const types = google.rpc.Status.decode(details).details.map((d) => d.type_url ?? '');
    return !types.some((t) => t.endsWith('NamespaceNotFoundFailure'));
  } catch {
    return false;
  }
}

function describeError(err: unknown): string {
  if (isGrpcServiceError(err)) return `gRPC ${err.code}: ${err.details}`;
  return errorMessage(err);
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        failed = true; // stop the other lanes from starting more work
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
