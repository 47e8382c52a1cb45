/** Prometheus metrics of the KEDA external scaler (default prom-client registry, on the controller's /metrics). */
import { Counter } from 'prom-client';
import { getOrCreateMetric } from '../../common/metrics';

/**
 * gRPC calls by method (`IsActive`, `StreamIsActive`, `GetMetricSpec`, `GetMetrics`) and status code name
 * (`OK`, `INVALID_ARGUMENT`, `UNAUTHENTICATED`, `NOT_FOUND`, `INTERNAL`). A stream counts once, when it is
 * accepted or refused.
 */
export const kedaRequests = getOrCreateMetric(
  'nalar_keda_requests_total',
  () =>
    new Counter({
      name: 'nalar_keda_requests_total',
      help: 'KEDA external scaler gRPC calls by method and status code (a stream counts once, when accepted or refused).',
      labelNames: ['method', 'code'],
    }),
);
