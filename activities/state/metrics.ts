/**
 * Prometheus metrics of the managed state layer (default prom-client registry; workers serve them on
 * /metrics). Counters and histograms are updated where the work happens; the size gauges are read from
 * the stores when scraped (see `registerStateGauges`).
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import { getOrCreateMetric } from '../../common/metrics';
import type { BlobStore } from './blob-store';
import type { SessionStore } from './session-store';

export const stateOpDuration = getOrCreateMetric(
  'nalar_state_op_duration_seconds',
  () =>
    new Histogram({
      name: 'nalar_state_op_duration_seconds',
      help: 'Duration of session-state operations by backend, operation and whether the worker cache served it.',
      labelNames: ['backend', 'op', 'cache'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    }),
);

export const stateCacheEvents = getOrCreateMetric(
  'nalar_state_cache_events_total',
  () =>
    new Counter({
      name: 'nalar_state_cache_events_total',
      help: 'Worker state cache: hit, miss, invalidation (stamp changed), eviction (memory bound), warm (moveSession).',
      labelNames: ['event'],
    }),
);

export const stateCacheBytes = getOrCreateMetric(
  'nalar_state_cache_bytes',
  () => new Gauge({ name: 'nalar_state_cache_bytes', help: 'Bytes of session state held in this worker cache.' }),
);

export const sessionsExpired = getOrCreateMetric(
  'nalar_state_sessions_expired_total',
  () =>
    new Counter({
      name: 'nalar_state_sessions_expired_total',
      help: 'Sessions whose state was deleted after NALAR_SESSION_TTL without writes.',
    }),
);

export const blobsOffloaded = getOrCreateMetric(
  'nalar_blob_offloaded_total',
  () =>
    new Counter({
      name: 'nalar_blob_offloaded_total',
      help: 'Payloads the claim-check codec moved to the blob store (handles written to history).',
    }),
);

export const blobBytesOffloaded = getOrCreateMetric(
  'nalar_blob_offloaded_bytes_total',
  () => new Counter({ name: 'nalar_blob_offloaded_bytes_total', help: 'Bytes of payloads moved to the blob store.' }),
);

export const blobsCollected = getOrCreateMetric(
  'nalar_blob_gc_deleted_total',
  () => new Counter({ name: 'nalar_blob_gc_deleted_total', help: 'Unreferenced blobs deleted by blob GC.' }),
);

export const blobBytesCollected = getOrCreateMetric(
  'nalar_blob_gc_freed_bytes_total',
  () => new Counter({ name: 'nalar_blob_gc_freed_bytes_total', help: 'Bytes freed by blob GC.' }),
);

/** Where the size gauges read from when scraped. */
export interface StateGaugeSources {
  sessionStore: () => Promise<Pick<SessionStore, 'stats'>>;
  blobStore?: Pick<BlobStore, 'usage'>;
}

let gaugeSources: StateGaugeSources | undefined;

/** Reads a gauge's value at scrape time; a failing source leaves the gauge unset instead of failing /metrics. */
function sizeGauge(name: string, help: string, read: (s: StateGaugeSources) => Promise<number | undefined>): Gauge {
  return getOrCreateMetric(
    name,
    () =>
      new Gauge({
        name,
        help,
        async collect() {
          if (!gaugeSources) return;
          try {
            const value = await read(gaugeSources);
            if (value !== undefined) this.set(value);
          } catch {
            this.reset();
          }
        },
      }),
  );
}

sizeGauge(
  'nalar_state_sessions',
  'Sessions holding managed state in the configured backend.',
  async (s) => (await (await s.sessionStore()).stats()).namespaces,
);
sizeGauge(
  'nalar_state_bytes',
  'Bytes of managed session state in the configured backend.',
  async (s) => (await (await s.sessionStore()).stats()).bytes,
);
sizeGauge(
  'nalar_blobs',
  'Blobs (offloaded payloads) in the blob store.',
  async (s) => (await s.blobStore?.usage())?.count,
);
sizeGauge('nalar_blob_bytes', 'Bytes of blobs in the blob store.', async (s) => (await s.blobStore?.usage())?.bytes);

/** Sets where the state size gauges read from (a worker calls it once at start). */
export function registerStateGauges(sources: StateGaugeSources): void {
  gaugeSources = sources;
}
