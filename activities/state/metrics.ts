/**
 * Prometheus metrics of the managed state layer (default prom-client registry; workers serve them on
 * /metrics). Counters and histograms are updated where the work happens; the size gauges are read from
 * the stores when scraped (see `registerStateGauges`).
 */
import { Counter, Gauge, Histogram, register } from 'prom-client';

function getOrCreate<T>(name: string, create: () => T): T {
  // Jest and hot reload may load this module twice; prom-client refuses duplicate names.
  return (register.getSingleMetric(name) as T | undefined) ?? create();
}

export const stateOpDuration = getOrCreate(
  'nalar_state_op_duration_seconds',
  () =>
    new Histogram({
      name: 'nalar_state_op_duration_seconds',
      help: 'Duration of session-state operations by backend, operation and whether the worker cache served it.',
      labelNames: ['backend', 'op', 'cache'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    }),
);

export const stateCacheEvents = getOrCreate(
  'nalar_state_cache_events_total',
  () =>
    new Counter({
      name: 'nalar_state_cache_events_total',
      help: 'Worker state cache: hit, miss, invalidation (stamp changed), eviction (memory bound), warm (moveSession).',
      labelNames: ['event'],
    }),
);

export const stateCacheBytes = getOrCreate(
  'nalar_state_cache_bytes',
  () => new Gauge({ name: 'nalar_state_cache_bytes', help: 'Bytes of session state held in this worker cache.' }),
);

export const sessionsExpired = getOrCreate(
  'nalar_state_sessions_expired_total',
  () =>
    new Counter({
      name: 'nalar_state_sessions_expired_total',
      help: 'Sessions whose state was deleted after NALAR_SESSION_TTL without writes.',
    }),
);

export const blobsOffloaded = getOrCreate(
  'nalar_blob_offloaded_total',
  () =>
    new Counter({
      name: 'nalar_blob_offloaded_total',
      help: 'Payloads the claim-check codec moved to the blob store (handles written to history).',
    }),
);

export const blobBytesOffloaded = getOrCreate(
  'nalar_blob_offloaded_bytes_total',
  () => new Counter({ name: 'nalar_blob_offloaded_bytes_total', help: 'Bytes of payloads moved to the blob store.' }),
);

export const blobsCollected = getOrCreate(
  'nalar_blob_gc_deleted_total',
  () => new Counter({ name: 'nalar_blob_gc_deleted_total', help: 'Unreferenced blobs deleted by blob GC.' }),
);

export const blobBytesCollected = getOrCreate(
  'nalar_blob_gc_freed_bytes_total',
  () => new Counter({ name: 'nalar_blob_gc_freed_bytes_total', help: 'Bytes freed by blob GC.' }),
);
