/**
 * Worker side of futures: an activity interceptor that reads the future's metadata from the activity
 * headers, makes it available to agent code (`currentFuture()`), and reports the `started` event.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type Context } from '@temporalio/activity';
import { defaultPayloadConverter } from '@temporalio/common';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';
import { FUTURE_HEADER, type FutureEvent, type FutureMeta } from './workflow/types';

/** Where worker-side future events go (the worker's local controller). */
export interface FutureEventRecorder {
  record(event: FutureEvent): void;
}

/** One model call asking the worker's local controller when and where to go. */
export interface GatedCall {
  /** The agent whose replicas serve it. */
  agent: string;
  /** Replicas (base URLs) the call may go to, as its configuration lists them; never empty. */
  replicas: readonly string[];
  /** Configured calls in flight per replica on this worker (NALAR_AGENT_MODELS `maxInFlight`); absent: no limit. */
  maxInFlight?: number;
  sessionId: string;
  workflowId: string;
  futureId?: string;
  /** The future's own priority (1 first … 5), when its caller set one. */
  priority?: number;
  /** Estimated prompt tokens (what moving its session would recompute). */
  promptTokens: number;
  /** Hash of the prompt's first message, for prefix-aware routing. */
  prefixHash?: string;
}

/** How a gated call ended, for the controller's figures and replica health. */
export interface CallOutcome {
  ok: boolean;
  /** The failure's type (an error code), when it failed. */
  errorCode?: string;
  /**
   * The replica did not serve it (connection refused or reset, 5xx): counts against the replica's health.
   * Overload answers (429) and the caller's cancellation do not.
   */
  replicaUnavailable?: boolean;
  promptTokens?: number;
  cachedTokens?: number;
  /** Ms from sending to the first token, for streamed calls (how the global controller learns prefill cost). */
  ttftMs?: number;
}

/** Permission to send one call to one replica now; release it exactly once (later releases are ignored). */
export interface CallLease {
  /** The replica (base URL) to send it to. */
  readonly replica: string;
  /** Priority 1 (first) … 5 the call carries to the engine. */
  readonly priority: number;
  /** Ms the call waited for this lease. */
  readonly queueMs: number;
  release(outcome: CallOutcome): void;
}

/** The worker's local controller as the request path sees it: every agent call of a future passes through it. */
export interface CallGate {
  /**
   * Resolves with a lease once the call may be sent (at once when its replica has room). Rejects with
   * `signal.reason` when the signal aborts first; the call then leaves the queue.
   */
  acquire(call: GatedCall, signal: AbortSignal): Promise<CallLease>;
}

interface FutureScope {
  meta: FutureMeta;
  gate?: CallGate;
}

const storage = new AsyncLocalStorage<FutureScope>();

/** The metadata of the future the running activity serves, or undefined for plain activities. */
export function currentFuture(): Readonly<FutureMeta> | undefined {
  return storage.getStore()?.meta;
}

/**
 * The call gate (the worker's local controller) of the future the running activity serves; undefined for plain
 * activities (the vanilla baselines), which keep the static binding.
 */
export function currentCallGate(): CallGate | undefined {
  return storage.getStore()?.gate;
}

/**
 * Activity interceptors that carry future metadata into activity code and report attempts. With a `gate`, the
 * activities of futures send their model calls through it.
 */
export function futureActivityInterceptors(
  controller: FutureEventRecorder,
  gate?: CallGate,
): ActivityInterceptorsFactory {
  return (ctx: Context) => {
    const inbound: ActivityInboundCallsInterceptor = {
      async execute(input, next) {
        const payload = input.headers[FUTURE_HEADER];
        if (!payload) return next(input);
        const meta = defaultPayloadConverter.fromPayload<FutureMeta>(payload);
        const info = ctx.info;
        const at = Date.now();
        const started: FutureMeta = { ...meta, state: 'started', timestamps: { ...meta.timestamps, started: at } };
        controller.record({
          type: 'started',
          futureId: meta.id,
          workflowId: info.workflowExecution?.workflowId ?? '',
          runId: info.workflowExecution?.runId ?? '',
          at,
          meta: started,
        });
        return storage.run({ meta: started, ...(gate && { gate }) }, () => next(input));
      },
    };
    return { inbound };
  };
}
