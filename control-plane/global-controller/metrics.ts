/** Prometheus metrics of the global controller (default prom-client registry, served on its /metrics). */
import { Counter, Gauge, Histogram } from 'prom-client';
import { getOrCreateMetric } from '../../common/metrics';

/** Seconds of one control round by phase: `collect` (merging reports), `policy` (running policies), `total`. */
export const roundSeconds = getOrCreateMetric(
  'nalar_controller_round_seconds',
  () =>
    new Histogram({
      name: 'nalar_controller_round_seconds',
      help: 'Time of one global control round by phase: collect (merge reports, expire), policy (run policies, build decisions), total.',
      labelNames: ['phase'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    }),
);

/** What the view holds now, by kind: futures, workflows, sessions, nodes, replicas. */
export const viewSize = getOrCreateMetric(
  'nalar_controller_live',
  () =>
    new Gauge({
      name: 'nalar_controller_live',
      help: 'Entries in the global controller view by kind: futures, workflows, sessions, nodes (local controllers), replicas.',
      labelNames: ['kind'],
    }),
);

/** Rounds a policy was skipped in, by policy and reason (`error`: it threw; `overrun`: past its budget). */
export const policySkips = getOrCreateMetric(
  'nalar_controller_policy_skips_total',
  () =>
    new Counter({
      name: 'nalar_controller_policy_skips_total',
      help: 'Rounds in which a policy was skipped (its actions discarded), by policy and reason: error (it threw) or overrun (past its time budget).',
      labelNames: ['policy', 'reason'],
    }),
);

/** The version of the decisions in force. */
export const decisionsVersionGauge = getOrCreateMetric(
  'nalar_controller_decisions_version',
  () => new Gauge({ name: 'nalar_controller_decisions_version', help: 'Version of the decisions in force.' }),
);

/** Reports received by outcome: accepted, restarted (a node came back at seq 0), duplicate, rejected (bad body). */
export const reportsReceived = getOrCreateMetric(
  'nalar_controller_reports_total',
  () =>
    new Counter({
      name: 'nalar_controller_reports_total',
      help: 'Reports from local controllers by outcome: accepted, restarted (seq back to 0), duplicate (an old seq, ignored), rejected (bad body or token).',
      labelNames: ['outcome'],
    }),
);

/** Nodes dropped after staying silent. */
export const nodesDropped = getOrCreateMetric(
  'nalar_controller_nodes_dropped_total',
  () =>
    new Counter({
      name: 'nalar_controller_nodes_dropped_total',
      help: 'Local controllers dropped from the view after staying silent for 3 periods (their waiting calls and loads with them).',
    }),
);
