/** Prometheus metrics of the gateway (default prom-client registry, served on its `/metrics`). */
import { Counter, Gauge, Histogram } from 'prom-client';
import { getOrCreateMetric } from '../../common/metrics';

/** Requests by route pattern (`/v1/runs/:id`, or `unmatched`), method and status. */
export const gatewayRequests = getOrCreateMetric(
  'nalar_gateway_requests_total',
  () =>
    new Counter({
      name: 'nalar_gateway_requests_total',
      help: 'Gateway HTTP requests by route pattern (unmatched for unknown paths), method and status code.',
      labelNames: ['route', 'method', 'status'],
    }),
);

/** Time from request to response by route pattern. */
export const gatewayRequestSeconds = getOrCreateMetric(
  'nalar_gateway_request_duration_seconds',
  () =>
    new Histogram({
      name: 'nalar_gateway_request_duration_seconds',
      help: 'Gateway HTTP request duration (wait-mode starts include the run) by route pattern.',
      labelNames: ['route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    }),
);

/** Runs the gateway started, by workflow type (an idempotent repeat is not a start). */
export const gatewayRunsStarted = getOrCreateMetric(
  'nalar_gateway_runs_started_total',
  () =>
    new Counter({
      name: 'nalar_gateway_runs_started_total',
      help: 'Workflow runs started through the gateway, by workflow type.',
      labelNames: ['workflow'],
    }),
);

/** Runs started through this gateway that it has not yet seen close. */
export const gatewayRunsInFlight = getOrCreateMetric(
  'nalar_gateway_runs_in_flight',
  () =>
    new Gauge({
      name: 'nalar_gateway_runs_in_flight',
      help: 'Runs started through this gateway process that have not closed yet.',
    }),
);

/** Requests refused by a tenant limit, by limit (`rate`, `runs`). */
export const gatewayRateLimited = getOrCreateMetric(
  'nalar_gateway_rate_limited_total',
  () =>
    new Counter({
      name: 'nalar_gateway_rate_limited_total',
      help: 'Gateway requests answered 429, by limit (rate: request rate, runs: runs in flight).',
      labelNames: ['limit'],
    }),
);
