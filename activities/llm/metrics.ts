/** Prometheus metrics of model calls made by this worker process (default prom-client registry). */
import { Counter, Histogram } from 'prom-client';
import { getOrCreateMetric } from '../../common/metrics';

export const llmRequests = getOrCreateMetric(
  'nalar_llm_requests_total',
  () =>
    new Counter({
      name: 'nalar_llm_requests_total',
      help: 'Model requests by agent and outcome (ok or a NALAR_ERR_… failure type).',
      labelNames: ['agent', 'outcome'],
    }),
);

export const llmTokens = getOrCreateMetric(
  'nalar_llm_tokens_total',
  () =>
    new Counter({
      name: 'nalar_llm_tokens_total',
      help: 'Tokens by agent and kind (prompt, cached, completion).',
      labelNames: ['agent', 'kind'],
    }),
);

export const llmDuration = getOrCreateMetric(
  'nalar_llm_request_duration_seconds',
  () =>
    new Histogram({
      name: 'nalar_llm_request_duration_seconds',
      help: 'Duration of successful model requests.',
      labelNames: ['agent'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80],
    }),
);
