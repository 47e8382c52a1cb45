/** Prometheus metrics of the worker's local controller (default prom-client registry). */
import { Counter, Gauge, Histogram } from 'prom-client';
import { getOrCreateMetric } from '../../common/metrics';

export const localQueueWait = getOrCreateMetric(
  'nalar_local_queue_wait_seconds',
  () =>
    new Histogram({
      name: 'nalar_local_queue_wait_seconds',
      help: 'Time model calls waited in the local controller before being sent, by agent.',
      labelNames: ['agent'],
      buckets: [0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    }),
);

export const localWaitingCalls = getOrCreateMetric(
  'nalar_local_waiting_calls',
  () =>
    new Gauge({
      name: 'nalar_local_waiting_calls',
      help: 'Model calls waiting in the local controller now, by agent and the replica they wait for.',
      labelNames: ['agent', 'replica'],
    }),
);

export const localInFlightCalls = getOrCreateMetric(
  'nalar_local_in_flight_calls',
  () =>
    new Gauge({
      name: 'nalar_local_in_flight_calls',
      help: 'Model calls this worker has in flight now, by agent and replica.',
      labelNames: ['agent', 'replica'],
    }),
);

export const localDecisionsVersion = getOrCreateMetric(
  'nalar_local_decisions_version',
  () =>
    new Gauge({
      name: 'nalar_local_decisions_version',
      help: 'Version of the global controller decisions installed in this worker (0: none).',
    }),
);

export const localLinkUp = getOrCreateMetric(
  'nalar_local_controller_link_up',
  () =>
    new Gauge({
      name: 'nalar_local_controller_link_up',
      help: 'Whether the link to the global controller works (1) or is lost (0); absent when no controller is configured.',
    }),
);

export const localTelemetryDropped = getOrCreateMetric(
  'nalar_local_telemetry_dropped_total',
  () =>
    new Counter({
      name: 'nalar_local_telemetry_dropped_total',
      help: 'Telemetry the local controller dropped because its report buffer was full (kind: events, calls).',
      labelNames: ['kind'],
    }),
);

export const localDecisionSeconds = getOrCreateMetric(
  'nalar_local_decision_seconds',
  () =>
    new Histogram({
      name: 'nalar_local_decision_seconds',
      help: 'CPU time of one local decision (op: acquire, release, install).',
      labelNames: ['op'],
      buckets: [1e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 1e-3, 1e-2],
    }),
);
