/** Prometheus metrics of capacity management (the global controller's /metrics). */
import { Counter, Gauge } from 'prom-client';
import { getOrCreateMetric } from '../../common/metrics';

/** Capacity primitives carried out, by action and outcome (started, done, refused, failed). */
export const capacityActions = getOrCreateMetric(
  'nalar_capacity_actions_total',
  () =>
    new Counter({
      name: 'nalar_capacity_actions_total',
      help: 'Capacity primitives of policies (provision, kill, reassign, scaleWorkers) by outcome: started, done, refused (a bound or a replica already changing), failed (the backend).',
      labelNames: ['action', 'outcome'],
    }),
);

/** Managed model replicas by agent and state (loading includes provisions asked for and not yet started). */
export const managedReplicas = getOrCreateMetric(
  'nalar_capacity_replicas',
  () =>
    new Gauge({
      name: 'nalar_capacity_replicas',
      help: 'Managed model replicas by agent and state: serving, loading (including provisions under way), draining (leaving the agent).',
      labelNames: ['agent', 'state'],
    }),
);
