/**
 * The state janitor: a background loop in a long-running process (a worker) that, every interval, expires
 * idle sessions (`NALAR_SESSION_TTL`) and collects unreferenced blobs (`NALAR_BLOB_GC_GRACE`).
 */
import type { Client } from '@temporalio/client';
import type { NalarConfig } from '../../common/config';
import { errorMessage } from '../../common/errors';
import { createLogger, type Logger } from '../../common/log';
import type { BlobStore } from '../payloads/blob-store';
import { blobStoreOf } from '../payloads/data-converter';
import { expireIdleSessions } from './session-expiry';
import { sessionsExpired } from '../metrics';
import type { SessionStore } from '../session-store';
import { collectBlobGarbage, type BlobGcOptions, type BlobGcReport } from './blob-gc';

export interface StateJanitorOptions {
  /** Session state to expire. */
  store: SessionStore;
  /** Blob store to collect. */
  blobs: BlobStore;
  /** Client whose executions hold blob handles (see {@link collectBlobGarbage}). */
  client: BlobGcOptions['client'];
  /** Namespace(s) whose workers share the blob store. @default the client's namespace */
  namespace?: BlobGcOptions['namespace'];
  /** Time between the end of one round and the start of the next, in milliseconds. */
  intervalMs: number;
  /** Sessions not written for this many milliseconds are deleted. */
  sessionTtlMs: number;
  /** Blobs used within this many milliseconds are never collected. */
  blobGcGraceMs: number;
  /** One line per round, errors included. @default a logger named `state-janitor` at level info */
  log?: Logger;
  /** Clock (epoch milliseconds) for blob GC. @default Date.now */
  now?: () => number;
}

/** What one round did; a part that failed has its error instead of its result. */
export interface StateJanitorRound {
  /** Sessions whose state was deleted. */
  expired?: string[];
  expireError?: unknown;
  gc?: BlobGcReport;
  gcError?: unknown;
}

/**
 * Runs {@link StateJanitor.runOnce} every `intervalMs` after `start()`. A round never overlaps the next one,
 * errors are logged (the next round still runs), and the timer does not keep the process alive.
 */
export class StateJanitor {
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<StateJanitorRound> | undefined;
  private started = false;

  constructor(private readonly options: StateJanitorOptions) {
    if (!(options.intervalMs > 0)) throw new RangeError(`intervalMs must be positive, got ${options.intervalMs}`);
    this.log = options.log ?? createLogger('state-janitor');
  }

  /** Schedules the first round after one interval; calling it again does nothing. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule();
  }

  /** Stops scheduling rounds and waits for a running one to end (it is not interrupted). */
  async stop(): Promise<void> {
    this.started = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** True between `start()` and `stop()`. */
  get isRunning(): boolean {
    return this.started;
  }

  /**
   * Runs one round now (or joins the round already running): expiry, then blob GC. Never rejects: each
   * part's error is logged and returned.
   */
  runOnce(): Promise<StateJanitorRound> {
    this.running ??= this.round().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private schedule(): void {
    if (!this.started || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.runOnce().finally(() => this.schedule());
    }, this.options.intervalMs);
    // A janitor alone must not keep a process from exiting.
    this.timer.unref();
  }

  private async round(): Promise<StateJanitorRound> {
    const { store, blobs, client, namespace, sessionTtlMs, blobGcGraceMs, now } = this.options;
    const begun = Date.now();
    const result: StateJanitorRound = {};
    try {
      result.expired = await expireIdleSessions(store, sessionTtlMs);
      sessionsExpired.inc(result.expired.length);
    } catch (err) {
      result.expireError = err;
      this.log.error('session expiry failed', { error: errorMessage(err) });
    }
    try {
      result.gc = await collectBlobGarbage({
        client,
        blobs,
        graceMs: blobGcGraceMs,
        ...(namespace !== undefined && { namespace }),
        ...(now && { now }),
      });
    } catch (err) {
      result.gcError = err;
      this.log.error('blob GC failed', { error: errorMessage(err) });
    }
    const gc = result.gc;
    this.log.info('state janitor round', {
      sessionsExpired: result.expired?.length,
      blobs: gc?.blobs,
      blobsDeleted: gc?.deleted,
      freedBytes: gc?.freedBytes,
      blobsReferenced: gc?.referenced,
      blobsYoung: gc?.young,
      workflowsScanned: gc?.workflowsScanned,
      failed: result.expireError !== undefined || result.gcError !== undefined || undefined,
      ms: Date.now() - begun,
    });
    return result;
  }
}

/** Extra options of {@link startStateJanitorFromConfig}. */
export interface StartStateJanitorOptions {
  /** @default a logger named `state-janitor` at NALAR_LOG_LEVEL */
  log?: Logger;
  /** @default `blobStoreOf(config)`: `<dataDir>/blobs`, where nalarDataConverter stores them */
  blobs?: BlobStore;
}

/**
 * Starts the janitor configured by NALAR_STATE_GC_INTERVAL, NALAR_SESSION_TTL and NALAR_BLOB_GC_GRACE on the
 * blob folder of `config.dataDir` and the namespace TEMPORAL_NAMESPACE; returns undefined (starts nothing)
 * when the interval is 0. `store` must be ready; the caller closes it (and the client) after `stop()`.
 */
export function startStateJanitorFromConfig(
  config: Pick<
    NalarConfig,
    'stateGcInterval' | 'sessionTtl' | 'blobGcGrace' | 'dataDir' | 'temporalNamespace' | 'logLevel'
  >,
  client: Pick<Client, 'workflowService' | 'options'>,
  store: SessionStore,
  options: StartStateJanitorOptions = {},
): StateJanitor | undefined {
  if (config.stateGcInterval === 0) return undefined;
  const janitor = new StateJanitor({
    store,
    blobs: options.blobs ?? blobStoreOf(config),
    client,
    namespace: config.temporalNamespace,
    intervalMs: config.stateGcInterval,
    sessionTtlMs: config.sessionTtl,
    blobGcGraceMs: config.blobGcGrace,
    log: options.log ?? createLogger('state-janitor', config.logLevel),
  });
  janitor.start();
  return janitor;
}
