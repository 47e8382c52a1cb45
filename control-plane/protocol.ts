/**
 * The wire between local controllers (one per worker process) and the global controller: what a local
 * controller reports every period, and the versioned decisions the global controller pushes back (Envoy
 * xDS-style: a local controller keeps serving on the last decisions it installed). zod-checked on both ends.
 *
 * Replica ids are the replicas' base URLs, as NALAR_AGENT_MODELS lists them (each belongs to one agent).
 * Priorities are 1 (highest) to 5, Temporal's priority-key scale; the engine gets the same number as vLLM's
 * `priority` field (lower first).
 */
import { z } from 'zod';

/** Temporal's priority-key range: 1 (first) … 5 (last); 3 is the default. */
export const priorityValue = z.number().int().min(1).max(5);
export const defaultPriority = 3;

/** One future lifecycle event as reported (the sink's FutureEvent, flattened to what the graph needs). */
export const reportedFutureEvent = z.object({
  type: z.enum(['created', 'ready', 'scheduled', 'started', 'completed', 'failed', 'cancelled']),
  futureId: z.string(),
  workflowId: z.string(),
  sessionId: z.string(),
  /** `<agent>.<method>` */
  activityType: z.string(),
  dependencies: z.array(z.string()),
  priority: priorityValue.optional(),
  /** Epoch ms. */
  at: z.number(),
  error: z.string().optional(),
});
export type ReportedFutureEvent = z.infer<typeof reportedFutureEvent>;

/** What names one model call, finished or waiting: its future, workflow, session, agent, replica and priority. */
const callIdentity = z.object({
  futureId: z.string().optional(),
  workflowId: z.string(),
  sessionId: z.string(),
  agent: z.string(),
  replica: z.string(),
  priority: priorityValue,
});

/** One model call the local controller finished (dispatched and released), with its figures. */
export const callRecord = callIdentity.extend({
  /** Real ms the call waited in the local controller before it was sent. */
  queueMs: z.number().nonnegative(),
  /** Real ms from sending to the reply (or failure). */
  serviceMs: z.number().nonnegative(),
  ok: z.boolean(),
  errorCode: z.string().optional(),
  promptTokens: z.number().int().nonnegative().optional(),
  cachedTokens: z.number().int().nonnegative().optional(),
  /**
   * Real ms from sending to the first token (streamed calls only): with the uncached prompt tokens, what
   * prefill costs on this replica (service time would count decoding too).
   */
  ttftMs: z.number().nonnegative().optional(),
  /** Hash of the prompt's first message (the shared prefix), for prefix-cache-aware routing. */
  prefixHash: z.string().optional(),
  /** Epoch ms when the call finished. */
  at: z.number(),
});
export type CallRecord = z.infer<typeof callRecord>;

/** A call waiting in a local controller right now. */
export const waitingCall = callIdentity.extend({
  /** The replica it would go to now (its session's pin, else the routing choice). */
  replica: z.string(),
  /** Epoch ms when it started waiting. */
  since: z.number(),
  /** Estimated prompt tokens (its context: what a move of its session recomputes). */
  promptTokens: z.number().int().nonnegative(),
});
export type WaitingCall = z.infer<typeof waitingCall>;

/** One replica as one local controller sees it. */
export const replicaLoad = z.object({
  agent: z.string(),
  replica: z.string(),
  /** Calls this node has in flight on it. */
  inFlight: z.number().int().nonnegative(),
  /** Calls waiting for it in this node. */
  waiting: z.number().int().nonnegative(),
  /** This node's in-flight limit on it (null: none). */
  limit: z.number().int().positive().nullable(),
  /** Configured capacity of the replica (max calls in flight over all nodes; null: unknown). */
  capacity: z.number().int().positive().nullable(),
  healthy: z.boolean(),
});
export type ReplicaLoad = z.infer<typeof replicaLoad>;

/** A local controller's batch, sent every period. */
export const report = z.object({
  /** Stable id of the worker process (its Temporal identity). */
  node: z.string().min(1),
  /** Increases by one per report of this node; a restarted node starts again at 0. */
  seq: z.number().int().nonnegative(),
  /** Version of the decisions installed when the report was made (0: none yet). */
  decisionsVersion: z.number().int().nonnegative(),
  /** Task queues this node polls. */
  taskQueues: z.array(z.string()),
  events: z.array(reportedFutureEvent),
  calls: z.array(callRecord),
  waiting: z.array(waitingCall),
  replicas: z.array(replicaLoad),
  /** Epoch ms when sent. */
  at: z.number(),
});
export type Report = z.infer<typeof report>;

/** The decisions of one global round: the whole desired state (level-triggered), not a delta. */
export const decisions = z.object({
  /** Increases per change; a local controller ignores a version lower than the one it has. */
  version: z.number().int().nonnegative(),
  /** Names of the policies that produced it. */
  policies: z.array(z.string()),
  /** Epoch ms when the global controller made it. */
  issuedAt: z.number(),
  /** route(session, agent, replica) and migrate(): agent → session → replica. */
  pins: z.record(z.string(), z.record(z.string(), z.string())),
  /** route(agent, replicas, weights): agent → replica → weight (unpinned sessions pick by weight). */
  weights: z.record(z.string(), z.record(z.string(), z.number().nonnegative())),
  /** setPriority(session, value, agent?): '*' stands for every agent. session → agent|'*' → priority. */
  priorities: z.record(z.string(), z.record(z.string(), priorityValue)),
  /** Per-node in-flight limit per replica (the node's share of the replica): replica → limit. */
  limits: z.record(z.string(), z.number().int().positive()),
  /**
   * The replicas (base URLs) serving each agent the capacity manager manages, replacing that agent's list in
   * NALAR_AGENT_MODELS: a provisioned replica joins once it serves; a killed or reassigned one leaves at once
   * (it finishes what it holds). An empty list: none serves now (its calls wait). An agent absent here keeps
   * its configured list.
   */
  replicas: z.record(z.string(), z.array(z.string())).default({}),
});
export type Decisions = z.infer<typeof decisions>;

export const emptyDecisions: Decisions = {
  version: 0,
  policies: [],
  issuedAt: 0,
  pins: {},
  weights: {},
  priorities: {},
  limits: {},
  replicas: {},
};

/**
 * HTTP endpoints of the global controller that local controllers use.
 * - `POST /v1/reports` with a Report body → 202 `{ "decisionsVersion": n }` (the newest version it has).
 * - `GET /v1/decisions?after=<version>&waitMs=<ms>` → 200 with Decisions as soon as a version newer than
 *   `after` exists (at once if it already does), or 204 when `waitMs` passes first (a long poll).
 * Both require `authorization: Bearer <token>` when the global controller was given a token.
 */
export const reportsPath = '/v1/reports';
export const decisionsPath = '/v1/decisions';
/** Longest a decisions long poll is held before 204. */
export const maxDecisionsWaitMs = 30_000;
