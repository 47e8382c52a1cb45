/**
 * The local controller, one per worker process. Future lifecycle events arrive here from workflows (through
 * the `nalar` sink) and from activity attempts (the activity interceptor); every model call of a future
 * passes through it as the worker's call gate (see dispatcher.ts: where calls wait, which replica they go to,
 * the priority they carry). It installs the global controller's decisions and gathers what the next report
 * says (global-link.ts sends it): events, finished calls, waiting calls, replica loads.
 */
import type { CallGate, CallLease, GatedCall } from '../../stubs/future-context';
import type { FutureEvent } from '../../stubs/workflow/types';
import { priorityValue, type Decisions, type Report, type ReportedFutureEvent } from '../protocol';
import { Dispatcher, type DispatcherOptions } from './dispatcher';
import { localDecisionsVersion, localTelemetryDropped } from './metrics';

export type FutureEventListener = (event: FutureEvent) => void;

export interface LocalControllerOptions {
  /** Recent events kept for inspection. @default 10000 */
  capacity?: number;
  /** Events kept for the next report; more are dropped and counted. @default 10000 */
  maxReportEvents?: number;
  /** The dispatcher's options (clock, sticky sessions, health, report bound of finished calls). */
  dispatcher?: DispatcherOptions;
}

/** What one report carries, before the link adds its node, sequence number and time. */
export type ReportBody = Pick<Report, 'decisionsVersion' | 'events' | 'calls' | 'waiting' | 'replicas'>;

export class LocalController implements CallGate {
  private readonly capacity: number;
  private readonly maxReportEvents: number;
  private readonly buffer: FutureEvent[] = [];
  private readonly listeners = new Set<FutureEventListener>();
  private reportEvents: ReportedFutureEvent[] = [];
  /** Where calls wait and which replica they go to. */
  readonly dispatcher: Dispatcher;

  constructor(options: LocalControllerOptions = {}) {
    this.capacity = options.capacity ?? 10_000;
    this.maxReportEvents = options.maxReportEvents ?? 10_000;
    this.dispatcher = new Dispatcher(options.dispatcher);
  }

  /** Takes one event; never throws (a failing listener must not break workflows or activities). */
  record(event: FutureEvent): void {
    this.buffer.push(event);
    // Trim in bulk: trimming at every event once full would shift the whole window per event.
    if (this.buffer.length >= 2 * this.capacity) this.buffer.splice(0, this.buffer.length - this.capacity);
    if (this.reportEvents.length < this.maxReportEvents) this.reportEvents.push(toReported(event));
    else {
      localTelemetryDropped.inc({ kind: 'events' });
    }
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // Telemetry never changes behaviour.
      }
    }
  }

  /** Calls `listener` for every later event; returns the unsubscribe function. */
  subscribe(listener: FutureEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The recent events, oldest first (optionally of one workflow). */
  recent(workflowId?: string): FutureEvent[] {
    const window = this.buffer.slice(-this.capacity);
    return workflowId === undefined ? window : window.filter((e) => e.workflowId === workflowId);
  }

  /** The call gate: waits for the call's slot and replica (see {@link Dispatcher.acquire}). */
  acquire(call: GatedCall, signal: AbortSignal): Promise<CallLease> {
    return this.dispatcher.acquire(call, signal);
  }

  /** Installs decisions unless older than the installed ones; returns whether it did. */
  install(decisions: Decisions): boolean {
    const installed = this.dispatcher.install(decisions);
    if (installed) localDecisionsVersion.set(decisions.version);
    return installed;
  }

  /** Version of the installed decisions (0: none). */
  get decisionsVersion(): number {
    return this.dispatcher.decisions.version;
  }

  /** Takes the telemetry gathered since the last call (events, finished calls) and the state now. */
  takeReport(): ReportBody {
    // Dropped telemetry is counted by nalar_local_telemetry_dropped_total where it is dropped.
    const events = this.reportEvents;
    this.reportEvents = [];
    const { calls } = this.dispatcher.drainCalls();
    return {
      decisionsVersion: this.decisionsVersion,
      events,
      calls,
      waiting: this.dispatcher.waitingCalls(),
      replicas: this.dispatcher.replicaLoads(),
    };
  }
}

function toReported(e: FutureEvent): ReportedFutureEvent {
  const priority = priorityValue.safeParse(e.meta.priority);
  return {
    type: e.type,
    futureId: e.futureId,
    workflowId: e.workflowId,
    sessionId: e.meta.sessionId,
    activityType: e.meta.activityType,
    dependencies: e.meta.dependencies,
    ...(priority.success && { priority: priority.data }),
    at: e.at,
    ...(e.error !== undefined && { error: e.error }),
  };
}
