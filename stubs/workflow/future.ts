/**
 * NalarFuture and the call runtime behind generated stubs. Workflow-side: deterministic, no I/O.
 *
 * A stub call returns a future at once. Futures found anywhere in its argument (nested in arrays and plain
 * objects) become dependency edges: the call is scheduled as a Temporal activity only when they have
 * resolved, with their values substituted. Ids are `<workflowId>/<n>` where n counts calls in program
 * order, so replay, a worker restart and a workflow retry all produce the same ids. Lifecycle events leave
 * through the `nalar` sink, which Temporal does not call during replay.
 */
import {
  ActivityFailure,
  CancelledFailure,
  isCancellation,
  proxyActivities,
  proxySinks,
  sleep,
  ApplicationFailure,
  workflowInfo,
  type ActivityOptions,
  type Sinks,
} from '@temporalio/workflow';
import { durationToMs } from './duration';
import { policyPriority } from './priority';
import { futureSummary } from './summary';
import type { ErrorCode } from '../../common/errors';
import {
  TENANT_MEMO_KEY,
  type CallOptions,
  type FutureEvent,
  type FutureMeta,
  type FutureState,
  type StubSpec,
} from './types';

// Workflow code does not value-import common/: the annotation fails the type check if the code is not registered.
const FUTURE_TIMEOUT: typeof ErrorCode.FUTURE_TIMEOUT = 'NALAR_ERR_FUTURE_TIMEOUT';

/** The sink futures report through; the worker connects it to its local controller. */
export interface NalarSinks extends Sinks {
  nalar: {
    event(event: FutureEvent): void;
  };
}

const { nalar } = proxySinks<NalarSinks>();

const futureBrand = Symbol.for('nalar.future');

/** Per-workflow state: module state is isolated per workflow execution by the SDK. */
let callCounter = 0;
let sessionId: string | undefined;
const metaByActivityId = new Map<string, FutureMeta>();

/** Sets the session every later future of this workflow belongs to. @default the workflow id */
export function setSession(id: string): void {
  sessionId = id;
}

/** Uses `input.sessionId` when the workflow input carries one, else the workflow id. Returns it. */
export function useSession(input?: { sessionId?: string | null }): string {
  sessionId = input?.sessionId ?? workflowInfo().workflowId;
  return sessionId;
}

export function currentSession(): string {
  return sessionId ?? workflowInfo().workflowId;
}

/**
 * The tenant this run was started for, from its memo (the HTTP gateway sets `nalarTenant`; data-plane/gateway/
 * context.ts). Recorded in the run's first event and kept across continue-as-new, so replays see the same.
 */
export function currentTenant(): string | undefined {
  const tenant = workflowInfo().memo?.[TENANT_MEMO_KEY];
  return typeof tenant === 'string' && tenant !== '' ? tenant : undefined;
}

/** How many stub calls (futures) this workflow run has made so far. */
export function futuresCalled(): number {
  return callCounter;
}

/** Metadata of the future scheduled with this activity id (for the outbound interceptor). */
export function futureMetaForActivity(activityId: string | undefined): FutureMeta | undefined {
  return activityId === undefined ? undefined : metaByActivityId.get(activityId);
}

/** A future of one agent or tool call: await it like a promise, or inspect it. */
export interface NalarFuture<T> extends PromiseLike<T> {
  readonly id: string;
  /** Live metadata (a snapshot is sent with every event). */
  readonly meta: Readonly<FutureMeta>;
  /** True once the value (or failure) is known. */
  available(): boolean;
  /**
   * The value; with `timeoutMs`, fails with a non-retryable `ApplicationFailure` of type
   * `NALAR_ERR_FUTURE_TIMEOUT` if it is not available in time (the call itself goes on).
   */
  value(timeoutMs?: number): Promise<T>;
}

/** True for futures made by this runtime. */
export function isNalarFuture(value: unknown): value is NalarFutureImpl<unknown> {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[futureBrand] === true;
}

class NalarFutureImpl<T> implements NalarFuture<T> {
  readonly [futureBrand] = true;
  readonly id: string;
  readonly meta: FutureMeta;
  /** Settles with the call; rejections are handled here so an unawaited failure never fails the workflow. */
  readonly settled: Promise<T>;
  private done = false;

  constructor(meta: FutureMeta, run: (self: NalarFutureImpl<T>) => Promise<T>) {
    this.id = meta.id;
    this.meta = meta;
    this.settled = run(this);
    this.settled.then(
      () => (this.done = true),
      () => (this.done = true),
    );
  }

  addConsumer(consumer: string): void {
    if (!this.meta.consumers.includes(consumer)) this.meta.consumers.push(consumer);
  }

  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.addConsumer('workflow');
    return this.settled.then(onfulfilled, onrejected);
  }

  available(): boolean {
    return this.done;
  }

  async value(timeoutMs?: number): Promise<T> {
    this.addConsumer('workflow');
    if (timeoutMs === undefined) return this.settled;
    let timedOut = false;
    const timer = sleep(timeoutMs).then(() => {
      timedOut = true;
    });
    await Promise.race([this.settled.then(undefined, () => undefined), timer]);
    if (timedOut && !this.done) {
      throw ApplicationFailure.create({
        type: FUTURE_TIMEOUT,
        message: `future ${this.id} (${this.meta.activityType}) was not available within ${timeoutMs} ms`,
        nonRetryable: true,
      });
    }
    return this.settled;
  }
}

/** Every future in `value`, depth-first, in a stable order, each once. */
function collectFutures(
  value: unknown,
  out: NalarFutureImpl<unknown>[] = [],
  seen = new Set<unknown>(),
): NalarFutureImpl<unknown>[] {
  if (typeof value !== 'object' || value === null || seen.has(value)) return out;
  seen.add(value);
  if (isNalarFuture(value)) {
    if (!out.includes(value)) out.push(value);
    return out;
  }
  const children = Array.isArray(value) ? value : isPlainObject(value) ? Object.values(value) : [];
  for (const child of children) collectFutures(child, out, seen);
  return out;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** `value` with every future replaced by its resolved value. */
function substitute(value: unknown, values: Map<unknown, unknown>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (isNalarFuture(value)) return values.get(value);
  if (Array.isArray(value)) return value.map((v) => substitute(v, values));
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, values)]));
}

function emit(future: NalarFutureImpl<unknown> | FutureMeta, type: FutureState, error?: unknown): void {
  const meta = 'meta' in future ? future.meta : future;
  const info = workflowInfo();
  const at = Date.now(); // workflow time: deterministic
  meta.state = type;
  meta.timestamps[type] = at;
  nalar.event({
    type,
    futureId: meta.id,
    workflowId: info.workflowId,
    runId: info.runId,
    at,
    meta: {
      ...meta,
      dependencies: [...meta.dependencies],
      consumers: [...meta.consumers],
      timestamps: { ...meta.timestamps },
    },
    ...(error !== undefined && { error: error instanceof Error ? error.message : String(error) }),
  });
}

function failureState(err: unknown): FutureState {
  return isCancellation(err) || err instanceof CancelledFailure ? 'cancelled' : 'failed';
}

/** Makes one stub call: the runtime behind every generated method. */
export function call<T>(spec: StubSpec, method: string, input: unknown, options: CallOptions = {}): NalarFuture<T> {
  const info = workflowInfo();
  const id = `${info.workflowId}/${++callCounter}`;
  const dependencies = collectFutures(input);
  for (const d of dependencies) d.addConsumer(id);
  const session = currentSession();
  const taskQueue = options.taskQueue ?? spec.taskQueue ?? info.taskQueue;
  // The call's own priority wins over one a policy set by signal (read again when the call is scheduled).
  const priorityNow = (): number | undefined => options.priority ?? policyPriority(spec.name);
  const initialPriority = priorityNow();
  const meta: FutureMeta = {
    id,
    sessionId: session,
    creator: info.workflowId,
    activityType: `${spec.name}.${method}`,
    dependencies: dependencies.map((d) => d.id),
    consumers: [],
    executor: { taskQueue },
    ...(initialPriority !== undefined && { priority: initialPriority }),
    // A tenant's runs share capacity fairly with other tenants' whatever keys their workflow code picks.
    fairnessKey: currentTenant() ?? options.fairnessKey ?? session,
    state: 'created',
    timestamps: {},
  };
  return new NalarFutureImpl<T>(meta, async (self) => {
    emit(self, 'created');
    let values: unknown[];
    try {
      values = await Promise.all(dependencies.map((d) => d.settled));
    } catch (err) {
      // A dependency failed: this call can never run; it fails with the dependency's error.
      emit(self, failureState(err), err);
      throw err;
    }
    const resolved = substitute(input, new Map(dependencies.map((d, i) => [d, values[i]])));
    emit(self, 'ready');
    if (options.deadline !== undefined) meta.deadline = Date.now() + durationToMs(options.deadline);
    // A priority signal may have come while the call waited for its dependencies.
    const priority = priorityNow();
    if (priority === undefined) delete meta.priority;
    else meta.priority = priority;
    const activityOptions: ActivityOptions = {
      activityId: id,
      taskQueue,
      // Readable in the Web UI timeline; built from recorded names and call numbers only (never input values).
      summary: futureSummary(
        meta,
        dependencies.map((d) => d.meta),
      ),
      startToCloseTimeout: options.startToCloseTimeout ?? spec.startToCloseTimeout,
      ...(spec.heartbeatTimeout !== undefined && { heartbeatTimeout: spec.heartbeatTimeout }),
      ...(spec.retry !== undefined && { retry: spec.retry }),
      ...(options.deadline !== undefined && { scheduleToCloseTimeout: options.deadline }),
      priority: {
        fairnessKey: meta.fairnessKey,
        ...(priority !== undefined && { priorityKey: priority }),
      },
    };
    const activities = proxyActivities<Record<string, (arg: unknown) => Promise<T>>>(activityOptions);
    metaByActivityId.set(id, meta);
    emit(self, 'scheduled');
    try {
      const result = await (activities[meta.activityType] as (arg: unknown) => Promise<T>)(resolved);
      emit(self, 'completed');
      return result;
    } catch (err) {
      emit(self, failureState(err), err instanceof ActivityFailure && err.cause ? err.cause : err);
      throw err;
    } finally {
      metaByActivityId.delete(id);
    }
  });
}
