/**
 * The link from a worker's local controller to the global controller: every period it POSTs a report
 * (protocol.ts) to `<url>/v1/reports`, and it long-polls `<url>/v1/decisions` and installs what comes back.
 * Never on the request path: when the global controller is unreachable the worker keeps serving on the last
 * installed decisions, keeps telemetry up to a bound (dropping and counting the rest), and retries with a
 * capped back-off; it logs once when the link is lost and once when it is back.
 */
import type { NalarConfig } from '../../common/config';
import type { Logger } from '../../common/log';
import {
  decisions as decisionsSchema,
  decisionsPath,
  maxDecisionsWaitMs,
  reportsPath,
  type CallRecord,
  type Report,
  type ReportedFutureEvent,
} from '../protocol';
import type { LocalController } from './local-controller';
import { localLinkUp, localTelemetryDropped } from './metrics';

export interface GlobalLinkOptions {
  /** Base URL of the global controller (NALAR_CONTROLLER_URL). */
  url: string;
  /** Bearer token (NALAR_CONTROL_TOKEN). @default none: no authorization header */
  token?: string;
  /** Report period (NALAR_CONTROL_PERIOD). */
  periodMs: number;
  /** This worker's stable id (its Temporal identity). */
  node: string;
  /** Task queues the worker polls. */
  taskQueues: readonly string[];
  controller: LocalController;
  log: Logger;
  /** Events and finished calls kept while reports cannot be sent; older ones are dropped first. @default 50000 */
  maxBuffered?: number;
  /** Longest pause between two attempts while the controller is unreachable. @default 5000 */
  maxBackoffMs?: number;
  /** How long one decisions long poll is held by the server. @default min(10000, maxDecisionsWaitMs) */
  pollWaitMs?: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** State of the link: `connecting` until the first answer, then `up` or `down`. */
export type LinkState = 'connecting' | 'up' | 'down';

/** A running link; {@link GlobalLink.stop} ends both loops. */
export class GlobalLink {
  private readonly o: Required<Omit<GlobalLinkOptions, 'token'>> & { token?: string };
  private readonly stopping = new AbortController();
  private linkState: LinkState = 'connecting';
  private seq = 0;
  private events: ReportedFutureEvent[] = [];
  private calls: CallRecord[] = [];
  private loops: Promise<void>[] = [];

  constructor(options: GlobalLinkOptions) {
    this.o = {
      maxBuffered: 50_000,
      maxBackoffMs: 5000,
      pollWaitMs: Math.min(10_000, maxDecisionsWaitMs),
      fetch: globalThis.fetch,
      ...options,
      url: options.url.replace(/\/+$/, ''),
    };
  }

  /** Starts reporting and polling. */
  start(): this {
    this.loops = [this.reportLoop(), this.pollLoop()];
    return this;
  }

  /** Stops both loops (an in-flight request is aborted) and waits for them. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all(this.loops);
  }

  get state(): LinkState {
    return this.linkState;
  }

  private get headers(): Record<string, string> {
    return {
      'content-type': 'application/json',
      ...(this.o.token !== undefined && { authorization: `Bearer ${this.o.token}` }),
    };
  }

  private async reportLoop(): Promise<void> {
    let backoff = this.o.periodMs;
    while (!this.stopping.signal.aborted) {
      await this.sleep(this.linkState === 'down' ? backoff : this.o.periodMs);
      if (this.stopping.signal.aborted) break;
      const sent = await this.sendReport();
      backoff = sent ? this.o.periodMs : Math.min(this.o.maxBackoffMs, backoff * 2);
    }
  }

  /** Sends what the controller gathered plus what earlier failed reports could not deliver. */
  private async sendReport(): Promise<boolean> {
    const body = this.o.controller.takeReport();
    this.events = this.bounded(this.events.concat(body.events), 'events');
    this.calls = this.bounded(this.calls.concat(body.calls), 'calls');
    const report: Report = {
      node: this.o.node,
      seq: this.seq++,
      decisionsVersion: body.decisionsVersion,
      taskQueues: [...this.o.taskQueues],
      events: this.events,
      calls: this.calls,
      waiting: body.waiting,
      replicas: body.replicas,
      at: Date.now(),
    };
    try {
      const res = await this.o.fetch(`${this.o.url}${reportsPath}`, {
        method: 'POST',
        headers: this.headers,
        body: JSON.stringify(report),
        signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(Math.max(2000, 4 * this.o.periodMs))]),
      });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`POST ${reportsPath} answered ${res.status}`);
      this.events = [];
      this.calls = [];
      this.up();
      return true;
    } catch (err) {
      this.down(err);
      return false;
    }
  }

  private async pollLoop(): Promise<void> {
    let backoff = Math.min(this.o.periodMs, this.o.maxBackoffMs);
    while (!this.stopping.signal.aborted) {
      const after = this.o.controller.decisionsVersion;
      try {
        const url = `${this.o.url}${decisionsPath}?after=${after}&waitMs=${this.o.pollWaitMs}`;
        const res = await this.o.fetch(url, {
          headers: this.headers,
          signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(this.o.pollWaitMs + 5000)]),
        });
        if (res.status === 200) {
          const parsed = decisionsSchema.safeParse(await res.json());
          if (!parsed.success) throw new Error(`GET ${decisionsPath}: malformed decisions: ${parsed.error.message}`);
          this.o.controller.install(parsed.data);
        } else {
          await res.body?.cancel();
          if (res.status !== 204) throw new Error(`GET ${decisionsPath} answered ${res.status}`);
        }
        this.up();
        backoff = Math.min(this.o.periodMs, this.o.maxBackoffMs);
      } catch (err) {
        if (this.stopping.signal.aborted) break;
        this.down(err);
        await this.sleep(backoff);
        backoff = Math.min(this.o.maxBackoffMs, backoff * 2);
      }
    }
  }

  /** Keeps the newest `maxBuffered` items, counting the rest as dropped. */
  private bounded<T>(items: T[], kind: 'events' | 'calls'): T[] {
    const excess = items.length - this.o.maxBuffered;
    if (excess <= 0) return items;
    localTelemetryDropped.inc({ kind }, excess);
    return items.slice(excess);
  }

  private up(): void {
    if (this.linkState === 'up') return;
    if (this.linkState === 'down') this.o.log.info('global controller link back', { url: this.o.url });
    this.linkState = 'up';
    localLinkUp.set(1);
  }

  private down(err: unknown): void {
    if (this.stopping.signal.aborted || this.linkState === 'down') return;
    this.linkState = 'down';
    localLinkUp.set(0);
    this.o.log.warn('global controller link lost; serving on the last installed decisions', {
      url: this.o.url,
      decisionsVersion: this.o.controller.decisionsVersion,
      error: err instanceof Error ? err.message : String(err),
    });
  }

  /** Resolves after `ms`, or at once when the link stops. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopping.signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        this.stopping.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.stopping.signal.addEventListener('abort', done, { once: true });
    });
  }
}

/**
 * The link of a worker configured with NALAR_CONTROLLER_URL (period NALAR_CONTROL_PERIOD, token
 * NALAR_CONTROL_TOKEN), started; undefined without a URL: the worker runs standalone.
 */
export function globalLinkFromConfig(
  config: Pick<NalarConfig, 'controllerUrl' | 'controlToken' | 'controlPeriod'>,
  o: Pick<GlobalLinkOptions, 'controller' | 'node' | 'taskQueues' | 'log'>,
): GlobalLink | undefined {
  if (config.controllerUrl === undefined) return undefined;
  return new GlobalLink({
    ...o,
    url: config.controllerUrl,
    periodMs: config.controlPeriod,
    ...(config.controlToken !== undefined && { token: config.controlToken }),
  }).start();
}
