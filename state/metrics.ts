/**
 * Prometheus metrics of the managed state layer (default prom-client registry; workers serve them on
 * /metrics). Counters and histograms are updated where the work happens; the size gauges are read from
 * the stores when scraped (see `registerStateGauges`).
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import { getOrCreateMetric } from '../common/metrics';
import type { BlobStore } from './payloads/blob-store';
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

/** What the gauges read: each source's figures, at most `maxAgeMs` old. */
interface GaugeReaders {
  stats: () => Promise<{ namespaces: number; bytes: number }>;
  usage: () => Promise<{ count: number; bytes: number } | undefined>;
}

let gaugeSources: GaugeReaders | undefined;

/**
 * `fn`, called at most once per `maxAgeMs`: counting a store may scan every session or blob, and several
 * gauges (and scrapers) ask for the same figures. A failed call is not kept.
 */
function atMostEvery<T>(maxAgeMs: number, fn: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (!last || now - last.at >= maxAgeMs) {
      const value = fn();
      const entry = { at: now, value };
      last = entry;
      value.catch(() => {
        if (last === entry) last = undefined;
      });
    }
    return last.value;
  };
}

/**
 * Reads a gauge's value at scrape time. A source that is not set, or that fails, shows NaN (unknown)
 * rather than a stale or zero value — and never fails the whole scrape.
 */
function sizeGauge(name: string, help: string, read: (s: GaugeReaders) => Promise<number | undefined>): Gauge {
  return getOrCreateMetric(
    name,
    () =>
      new Gauge({
        name,
        help,
        async collect() {
          try {
            this.set((gaugeSources && (await read(gaugeSources))) ?? Number.NaN);
          } catch {
            this.set(Number.NaN);
          }
        },
      }),
  );
}

sizeGauge(
  'nalar_state_sessions',
  'Sessions holding managed state in the configured backend.',
  async (s) => (await s.stats()).namespaces,
);
sizeGauge(
  'nalar_state_bytes',
  'Bytes of managed session state in the configured backend.',
  async (s) => (await s.stats()).bytes,
);
sizeGauge('nalar_blobs', 'Blobs (offloaded payloads) in the blob store.', async (s) => (await s.usage())?.count);
sizeGauge('nalar_blob_bytes', 'Bytes of blobs in the blob store.', async (s) => (await s.usage())?.bytes);

/**
 * Sets where the state size gauges read from (a worker calls it once at start). The figures are
 * recounted at most every `maxAgeMs` (default 30 s), so frequent scrapes do not rescan the stores.
 */
export function registerStateGauges(sources: StateGaugeSources, maxAgeMs = 30_000): void {
  const { blobStore } = sources;
  gaugeSources = {
    stats: atMostEvery(maxAgeMs, async () => (await sources.sessionStore()).stats()),
    usage: atMostEvery(maxAgeMs, async () => blobStore?.usage()),
  };
}
