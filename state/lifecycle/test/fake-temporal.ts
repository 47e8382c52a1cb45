/**
 * A fake of the few WorkflowService calls blob GC makes, for unit tests: it serves executions and schedules
 * given as data, pages results (two per page), records calls, and throws on anything else.
 */
import type { Client } from '@temporalio/client';
import { google, temporal } from '@temporalio/proto';

const { WorkflowExecutionStatus } = temporal.api.enums.v1;

export interface FakeExecution {
  workflowId: string;
  runId: string;
  running?: boolean;
  /** The history's events, or an error getWorkflowExecutionHistory throws. */
  history: temporal.api.history.v1.IHistoryEvent[] | Error;
  /** The describe response of a running execution (pending activities, …). */
  describe?: object;
  /** Memo of its list entry. */
  memo?: object;
}

export interface FakeSchedule {
  scheduleId: string;
  describe: object;
}

export interface FakeNamespace {
  executions?: FakeExecution[];
  schedules?: FakeSchedule[];
  /** listWorkflowExecutions throws this. */
  listError?: Error;
}

const PAGE = 2;

/** A gRPC error as the client's transport raises it. */
export function grpcError(code: number, details: string, detailTypes: string[] = []): Error {
  const status = google.rpc.Status.encode({
    code,
    message: details,
    details: detailTypes.map((t) => ({ type_url: `type.googleapis.com/${t}`, value: new Uint8Array(0) })),
  }).finish();
  return Object.assign(new Error(`${code} ${details}`), {
    code,
    details,
    metadata: { get: (key: string) => (key === 'grpc-status-details-bin' && detailTypes.length ? [status] : []) },
  });
}

function namespaceNotFound(namespace: string): Error {
  return grpcError(5, `Namespace ${namespace} is not found.`, [
    'temporal.api.errordetails.v1.NamespaceNotFoundFailure',
  ]);
}

function page<T>(items: T[], token: Uint8Array | null | undefined): { items: T[]; next: Uint8Array } {
  const start = token?.length ? Number(new TextDecoder().decode(token)) : 0;
  const end = start + PAGE;
  return {
    items: items.slice(start, end),
    next: end < items.length ? new TextEncoder().encode(String(end)) : new Uint8Array(0),
  };
}

/** A client whose workflowService serves `namespaces`; `calls` lists every call as `method namespace …`. */
export function fakeClient(namespaces: Record<string, FakeNamespace>, clientNamespace = 'default') {
  const calls: string[] = [];
  const ns = (name: string | null | undefined): FakeNamespace => {
    const found = namespaces[name ?? ''];
    if (!found) throw namespaceNotFound(name ?? '');
    return found;
  };
  const execution = (
    namespace: string | null | undefined,
    id: { workflowId?: string | null; runId?: string | null },
  ) => {
    const found = (ns(namespace).executions ?? []).find((e) => e.workflowId === id.workflowId && e.runId === id.runId);
    if (!found) throw grpcError(5, 'workflow execution not found', ['temporal.api.errordetails.v1.NotFoundFailure']);
    return found;
  };
  const workflowService = {
    async listWorkflowExecutions(req: temporal.api.workflowservice.v1.IListWorkflowExecutionsRequest) {
      calls.push(`listWorkflowExecutions ${req.namespace} ${req.query}`);
      const n = ns(req.namespace);
      if (n.listError) throw n.listError;
      const wanted =
        req.query === `ExecutionStatus = 'Running'`
          ? true
          : req.query === `ExecutionStatus != 'Running'`
            ? false
            : unexpected(`query ${req.query}`);
      const { items, next } = page(
        (n.executions ?? []).filter((e) => (e.running ?? false) === wanted),
        req.nextPageToken,
      );
      return {
        executions: items.map((e) => ({
          execution: { workflowId: e.workflowId, runId: e.runId },
          ...(e.memo && { memo: e.memo }),
          status: e.running
            ? WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING
            : WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED,
        })),
        nextPageToken: next,
      };
    },
    async getWorkflowExecutionHistory(req: temporal.api.workflowservice.v1.IGetWorkflowExecutionHistoryRequest) {
      calls.push(`getWorkflowExecutionHistory ${req.namespace} ${req.execution?.workflowId}`);
      const { history } = execution(req.namespace, req.execution ?? {});
      if (history instanceof Error) throw history;
      const { items, next } = page(history, req.nextPageToken);
      return { history: { events: items }, nextPageToken: next };
    },
    async describeWorkflowExecution(req: temporal.api.workflowservice.v1.IDescribeWorkflowExecutionRequest) {
      calls.push(`describeWorkflowExecution ${req.namespace} ${req.execution?.workflowId}`);
      return execution(req.namespace, req.execution ?? {}).describe ?? {};
    },
    async listSchedules(req: temporal.api.workflowservice.v1.IListSchedulesRequest) {
      calls.push(`listSchedules ${req.namespace}`);
      const { items, next } = page(ns(req.namespace).schedules ?? [], req.nextPageToken);
      return { schedules: items.map((s) => ({ scheduleId: s.scheduleId })), nextPageToken: next };
    },
    async describeSchedule(req: temporal.api.workflowservice.v1.IDescribeScheduleRequest) {
      calls.push(`describeSchedule ${req.namespace} ${req.scheduleId}`);
      const found = (ns(req.namespace).schedules ?? []).find((s) => s.scheduleId === req.scheduleId);
      if (!found) throw grpcError(5, 'schedule not found', ['temporal.api.errordetails.v1.NotFoundFailure']);
      return found.describe;
    },
  };
  const guarded = new Proxy(workflowService, {
    get(target, prop) {
      if (typeof prop === 'string' && !(prop in target)) unexpected(`workflowService.${prop}`);
      return target[prop as keyof typeof target];
    },
  });
  const client = { workflowService: guarded, options: { namespace: clientNamespace } } as unknown as Pick<
    Client,
    'workflowService' | 'options'
  >;
  return { client, calls };
}

function unexpected(what: string): never {
  throw new Error(`fake Temporal: unexpected ${what}`);
}
