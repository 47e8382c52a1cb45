/**
 * `GET /v1/graph`: the live view as JSON, for people and tools. Bounded: at most `limit` entries of each
 * kind (the counts say how many there are), optionally narrowed to one workflow or one session.
 */
import type { FutureView, ReplicaView, SessionView, WorkflowView } from '../policies/api';
import type { ControlView } from './view';

/** Default of the `limit` query parameter. */
export const defaultGraphLimit = 1000;
/** Largest `limit` accepted. */
export const maxGraphLimit = 100_000;

/** Filters of {@link graphJson}. */
export interface GraphQuery {
  workflow?: string;
  session?: string;
  /** @default 1000 */
  limit?: number;
}

function take<T, R>(items: Iterable<T>, limit: number, map: (item: T) => R): R[] {
  const out: R[] = [];
  for (const item of items) {
    if (out.length >= limit) break;
    out.push(map(item));
  }
  return out;
}

const futureJson = (f: FutureView) => ({
  id: f.id,
  workflowId: f.workflowId,
  sessionId: f.sessionId,
  agent: f.agent,
  activityType: f.activityType,
  state: f.state,
  dependencies: f.dependencies,
  stage: f.stage,
  createdAt: f.createdAt,
});

const workflowJson = (w: WorkflowView) => ({
  id: w.id,
  sessionId: w.sessionId,
  futures: w.futures.length,
  stage: w.stage,
  reentries: w.reentries,
  startedAt: w.startedAt,
});

const sessionJson = (s: SessionView) => ({
  id: s.id,
  workflows: s.workflows,
  replicas: s.replicas,
  priorities: s.priorities,
  attainedServiceMs: s.attainedServiceMs,
  contextTokens: s.contextTokens,
  prefixHash: s.prefixHash,
  waiting: s.waiting.map((w) => ({
    workflowId: w.workflowId,
    futureId: w.futureId,
    agent: w.agent,
    replica: w.replica,
    priority: w.priority,
    waitedMs: w.waitedMs,
    promptTokens: w.promptTokens,
  })),
});

const replicaJson = (r: ReplicaView) => ({
  id: r.id,
  agent: r.agent,
  inFlight: r.inFlight,
  waiting: r.waiting,
  capacity: r.capacity,
  healthy: r.healthy,
  meanQueueMs: r.meanQueueMs,
  meanServiceMs: r.meanServiceMs,
  prefillMsPerToken: r.prefillMsPerToken,
  residentSessions: r.residentSessions.length,
  residentPrefixes: r.residentPrefixes.length,
});

/** The view (or the part the query selects) as plain JSON. */
export function graphJson(view: ControlView, query: GraphQuery = {}) {
  const limit = query.limit ?? defaultGraphLimit;
  let workflows: Iterable<WorkflowView> = view.workflows.values();
  let sessions: Iterable<SessionView> = view.sessions.values();
  if (query.session !== undefined || query.workflow !== undefined) {
    const selectedSessions = new Set<SessionView>();
    const selectedWorkflows = new Set<WorkflowView>();
    const wf = query.workflow !== undefined ? view.workflows.get(query.workflow) : undefined;
    const sessionId = query.session ?? wf?.sessionId;
    const session = sessionId !== undefined ? view.sessions.get(sessionId) : undefined;
    if (query.workflow !== undefined) {
      if (wf && (query.session === undefined || wf.sessionId === query.session)) selectedWorkflows.add(wf);
    } else if (session) {
      for (const id of session.workflows) {
        const w = view.workflows.get(id);
        if (w) selectedWorkflows.add(w);
      }
    }
    if (session && (query.workflow === undefined || selectedWorkflows.size > 0)) selectedSessions.add(session);
    workflows = selectedWorkflows;
    sessions = selectedSessions;
  }
  const filtered = query.session !== undefined || query.workflow !== undefined;
  const futures: Iterable<FutureView> = filtered
    ? (function* () {
        for (const w of workflows) {
          for (const id of w.futures) {
            const f = view.futures.get(id);
            if (f) yield f;
          }
        }
      })()
    : view.futures.values();
  return {
    now: view.now,
    counts: {
      futures: view.futures.size,
      workflows: view.workflows.size,
      sessions: view.sessions.size,
      replicas: view.replicas.size,
      nodes: view.nodes.size,
    },
    limit,
    workflows: take(workflows, limit, workflowJson),
    futures: take(futures, limit, futureJson),
    sessions: take(sessions, limit, sessionJson),
    replicas: [...view.replicas.values()].map(replicaJson),
    agents: [...view.agents.values()].map((a) => ({
      name: a.name,
      replicas: a.replicas,
      waiting: a.waiting,
      inFlight: a.inFlight,
    })),
    taskQueueBacklog: Object.fromEntries(view.taskQueueBacklog),
  };
}
