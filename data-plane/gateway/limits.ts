/**
 * Per-tenant limits of the gateway: a token bucket of requests (rate per second, burst) and a cap on runs in
 * flight started through this gateway. Both read time from an injected {@link Clock}, so tests step time
 * instead of sleeping. A refusal says how many whole seconds to wait (`Retry-After`).
 */
import type { Clock } from '../../common/clock';

/** Options of {@link TenantLimits}. */
export interface TenantLimitsOptions {
  /** Requests per second a tenant may sustain. */
  ratePerSecond: number;
  /** Requests a tenant may make at once (bucket size). */
  burst: number;
  /** Runs a tenant may have in flight through this gateway. */
  maxRunsInFlight: number;
  clock: Clock;
}

/** A refusal: wait this many seconds (at least 1) before trying again. */
export interface LimitRefusal {
  retryAfterSeconds: number;
  reason: string;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Token buckets and in-flight runs, per tenant (memory of one gateway process). */
export class TenantLimits {
  private readonly buckets = new Map<string, Bucket>();
  private readonly inFlight = new Map<string, Set<string>>();

  constructor(private readonly options: TenantLimitsOptions) {}

  /** Takes one request token of `tenant`; a refusal when its bucket is empty. */
  takeRequest(tenant: string): LimitRefusal | undefined {
    const { ratePerSecond, burst, clock } = this.options;
    const now = clock.now();
    const bucket = this.buckets.get(tenant) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * ratePerSecond);
    bucket.at = now;
    this.buckets.set(tenant, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    return {
      retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / ratePerSecond)),
      reason: `tenant over its request rate (${ratePerSecond}/s, burst ${burst}: NALAR_GATEWAY_RATE, NALAR_GATEWAY_BURST)`,
    };
  }

  /** A refusal when `tenant` already has its maximum of runs in flight. */
  checkRunSlot(tenant: string): LimitRefusal | undefined {
    const max = this.options.maxRunsInFlight;
    if ((this.inFlight.get(tenant)?.size ?? 0) < max) return undefined;
    return {
      retryAfterSeconds: 1,
      reason: `tenant has ${max} runs in flight through this gateway (NALAR_GATEWAY_MAX_RUNS); wait for one to finish`,
    };
  }

  /** Counts a run of `tenant` as in flight until {@link runClosed} (idempotent per workflow id). */
  runStarted(tenant: string, workflowId: string): void {
    let runs = this.inFlight.get(tenant);
    if (!runs) this.inFlight.set(tenant, (runs = new Set()));
    runs.add(workflowId);
  }

  /** The run no longer counts against its tenant. */
  runClosed(tenant: string, workflowId: string): void {
    const runs = this.inFlight.get(tenant);
    runs?.delete(workflowId);
    if (runs?.size === 0) this.inFlight.delete(tenant);
  }

  /** Runs in flight of `tenant`. */
  runsInFlight(tenant: string): number {
    return this.inFlight.get(tenant)?.size ?? 0;
  }
}
