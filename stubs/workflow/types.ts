/**
 * Types shared by generated stubs and the future runtime. Workflow-side: no Node built-ins, no I/O.
 */
import type { Duration, RetryPolicy } from '@temporalio/common';

/** What a generated stub knows about one agent or tool (a literal copy of its definition). */
export interface StubSpec {
  name: string;
  kind: 'agent' | 'tool';
  methods: readonly string[];
  taskQueue?: string;
  startToCloseTimeout: Duration;
  heartbeatTimeout?: Duration;
  retry?: RetryPolicy;
  directives: {
    stateful: boolean;
    batchable: boolean;
    preemptable: boolean;
    minInstances: number;
    maxInstances: number;
    resources?: { gpus?: number; cpus?: number; memoryGiB?: number };
  };
}

/** Per-call options of a stub call. */
export interface CallOptions {
  /**
   * Task-queue priority, 1 (highest) to 5; lower runs first.
   * @default the priority a policy set for this agent's calls in this workflow ({@link PRIORITY_SIGNAL}), else
   * none (Temporal's default, 3)
   */
  priority?: number;
  /** Fairness key: work of different keys shares capacity fairly. @default the session id */
  fairnessKey?: string;
  /** Give up if the call has not finished this long after it was made (also its schedule-to-close timeout). */
  deadline?: Duration;
  startToCloseTimeout?: Duration;
  /** Overrides the definition's task queue. */
  taskQueue?: string;
}

/** Lifecycle states; 'started' is reported worker-side when an attempt begins. */
export type FutureState = 'created' | 'ready' | 'scheduled' | 'started' | 'completed' | 'failed' | 'cancelled';

/** Metadata of one future; timestamps are workflow time (ms since epoch). */
export interface FutureMeta {
  id: string;
  sessionId: string;
  /** Workflow id of the workflow that created it. */
  creator: string;
  /** `<agent>.<method>` */
  activityType: string;
  /** Ids of futures passed in its arguments. */
  dependencies: string[];
  /** Ids of futures (or `workflow`) that consumed its value. */
  consumers: string[];
  /** Task queue it is scheduled on; the instance is chosen worker-side. */
  executor: { taskQueue: string };
  priority?: number;
  fairnessKey: string;
  /** Absolute deadline (workflow time, ms), when set. */
  deadline?: number;
  state: FutureState;
  timestamps: Partial<Record<FutureState, number>>;
}

/** One lifecycle event, as sent through the `nalar` sink. */
export interface FutureEvent {
  type: FutureState;
  futureId: string;
  workflowId: string;
  runId: string;
  /** Workflow time, ms since epoch. */
  at: number;
  meta: FutureMeta;
  error?: string;
}

/** A value or a future of it: stub arguments may hold futures anywhere (dependency edges). */
export type FutureOr<T> =
  | T
  | PromiseLike<T>
  | (T extends readonly (infer E)[] ? readonly FutureOr<E>[] : never)
  | (T extends object ? { [K in keyof T]: FutureOr<T[K]> } : never);

/** Header carrying the future's metadata to the activity (JSON). */
export const FUTURE_HEADER = 'nalar-future';

/**
 * Memo key of the tenant a run was started for (the HTTP gateway sets it). The stub runtime uses it as the
 * fairness key of every activity the run schedules, so tenants share task-queue capacity fairly.
 */
export const TENANT_MEMO_KEY = 'nalarTenant';

/**
 * Name of the signal that sets a policy's priority on a running workflow (the control plane's
 * `setPriority(session, value, agent?)`): every workflow of a Nalar worker accepts it, and its later stub
 * calls carry the priority as their Temporal priority key and in their future's metadata.
 */
export const PRIORITY_SIGNAL = 'nalar.setPriority';

/** Payload of {@link PRIORITY_SIGNAL}. */
export interface PrioritySignal {
  /** 1 (first) … 5 (last), Temporal's priority-key scale; `null` clears it (calls go back to their own default). */
  value: number | null;
  /** The agent or tool (a stub's name) it applies to; absent or `'*'`: every agent without its own entry. */
  agent?: string;
}

/** Header carrying a run's policy priorities (agent or `'*'` → value) to the run it continues as. */
export const PRIORITIES_HEADER = 'nalar-priorities';
