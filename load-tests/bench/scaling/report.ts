/** report.md and the timeline chart of `npm run bench -- scaling`. */
import type { TopLevelSpec } from 'vega-lite';
import type { CapacityEvent } from '../../../control-plane/capacity/manager';
import type { RecordStats } from '../e2e/stats';
import type { RunInfo, Target } from '../run-info';
import { round } from '../stats';
import { scalingPhases, type PhaseTimes, type Reaction, type TimelinePoint } from './outcome';

/**
 * Two panels over the same time axis: offered and served requests per second above, serving and loading
 * replicas below (steps), with the step up and the fall marked.
 */
export function timelineChartSpec(
  points: readonly TimelinePoint[],
  marks: { stepS: number; fallS: number },
): TopLevelSpec {
  const rates = points.flatMap((p) => [
    { t: p.t, series: 'offered (req/s)', value: p.offered },
    { t: p.t, series: 'served (req/s)', value: p.served },
  ]);
  const replicas = points.flatMap((p) => [
    { t: p.t, series: 'serving replicas', value: p.serving },
    { t: p.t, series: 'loading replicas', value: p.loading },
  ]);
  const rules = [
    { t: marks.stepS, label: 'step up' },
    { t: marks.fallS, label: 'fall' },
  ];
  const x = { field: 't', type: 'quantitative' as const, title: 'seconds from the first arrival' };
  const panel = (values: object[], yTitle: string, interpolate: 'linear' | 'step-after') => ({
    width: 620,
    height: 200,
    layer: [
      {
        data: { values },
        mark: { type: 'line' as const, interpolate },
        encoding: {
          x,
          y: { field: 'value', type: 'quantitative' as const, title: yTitle },
          color: { field: 'series', type: 'nominal' as const, title: null, legend: { orient: 'right' as const } },
        },
      },
      {
        data: { values: rules },
        mark: { type: 'rule' as const, strokeDash: [4, 4], color: 'gray' },
        encoding: { x },
      },
    ],
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Capacity following load: offered and served rate, serving replicas',
    background: 'white',
    resolve: { scale: { color: 'independent' } },
    vconcat: [panel(rates, 'requests per second', 'linear'), panel(replicas, 'replicas', 'step-after')],
  };
}

/** What report.md is made of. */
export interface ScalingReportInput {
  info: RunInfo;
  temporalVersion: string;
  runId: string;
  seconds: number;
  settings: Record<string, unknown>;
  simulator: string;
  policies: readonly string[];
  upWaiting: number;
  upQueueMs: number;
  times: PhaseTimes;
  reaction: Reaction;
  phases: Record<(typeof scalingPhases)[number], RecordStats>;
  events: readonly CapacityEvent[];
  targets: Record<string, Target>;
}

const fmt = (x: number) => (Number.isFinite(x) ? String(round(x)) : '–');

/** report.md of a run. */
export function scalingReport(r: ScalingReportInput): string {
  const rel = (at: number) => `${((at - r.times.startedAt) / 1000).toFixed(1)} s`;
  const x = r.reaction;
  const lines = [
    '# scaling: capacity that follows load',
    '',
    'Issue 14: "capacity that follows load". One managed agent (`writer`; the workflow is a one-topic article, two ' +
      'sequential writer calls through stubs and futures) starts with one simulator replica. The global controller ' +
      'runs the policies below; the capacity manager carries out their provisions and kills on the simulator pool ' +
      'through its admin API (SimProvisioner). Offered load: a low phase one replica serves, a step to a high rate ' +
      "held for a while, then low again for autoscale's down window and the kills. A provisioned replica loads " +
      'its model for a fixed real time before it serves.',
    '',
    '## Run',
    '',
    `- commit ${r.info.commit}${r.info.dirty ? ' (dirty)' : ''}, ${r.info.date}, run ${r.runId}, ${Math.round(r.seconds)} s`,
    `- machine: ${r.info.machine.cores} cores (${r.info.machine.cpu}), ${r.info.machine.memoryGiB} GiB, ${r.info.machine.platform}, Node ${r.info.node}`,
    `- Temporal: ${r.temporalVersion} (dev server, one per run)`,
    `- settings: ${JSON.stringify(r.settings)}`,
    `- simulator: ${r.simulator}`,
    `- policies: ${r.policies.join(', ')}; "short" below is autoscale's rule: waiting calls above upWaiting (${r.upWaiting}) × serving replicas, or a call waiting longer than upQueueMs (${r.upQueueMs} ms)`,
    `- phases: step up at ${rel(r.times.stepAt)}, fall at ${rel(r.times.fallAt)}, last arrival before ${rel(r.times.endAt)}`,
    '',
    '## Reaction',
    '',
    '| figure | seconds | from → to |',
    '| --- | ---: | --- |',
    `| detection | ${fmt(x.detectionS)} | step → first controller round whose snapshot shows the agent short |`,
    `| decision | ${fmt(x.decisionS)} | detection → the capacity manager's first provision-requested |`,
    `| actuation | ${fmt(x.actuationS)} | provision-requested → first call served (ok) by a new replica (includes the model load) |`,
    `| **scale-up reaction** | **${fmt(x.scaleUpReactionS)}** | step → first call served by a replica provisioned after it (${x.firstNewReplica ?? 'none'}) |`,
    `| scale-down | ${fmt(x.scaleDownS)} | fall → first replica removed (out of routing, drained, gone) |`,
    '',
    `Calls lost from the fall to the end: ${x.callsLostOnScaleDown} (${x.failedRequestsAfterFall} failed requests, ` +
      `${x.failedCallsAfterFall} failed model calls in the workers' call records, which include any 503 ` +
      '`replica_draining` answer). Most replicas serving at once: ' +
      `${x.maxServing}; at the end: ${x.servingAtEnd}.`,
    '',
    '## Per phase (requests by the time they were sent)',
    '',
    '| phase | requests | completed | failed | mean ms | p50 | p95 | p99 | max |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...scalingPhases.map((p) => {
      const s = r.phases[p];
      const l = s.latency;
      return `| ${p} | ${s.requests} | ${s.completed} | ${s.failed} | ${fmt(l.mean)} | ${fmt(l.p50)} | ${fmt(l.p95)} | ${fmt(l.p99)} | ${fmt(l.max)} |`;
    }),
    '',
    '![serving replicas and load over time](timeline.svg)',
    '',
    '## Capacity events',
    '',
    '| at | event | replica | detail |',
    '| ---: | --- | --- | --- |',
    ...r.events
      .filter((e) => e.at >= r.times.startedAt && e.kind !== 'refused')
      .map((e) => `| ${rel(e.at)} | ${e.kind} | ${e.replica ?? ''} | ${e.detail ?? ''} |`),
    '',
    `Refused actions (a bound, a replica already changing; counted, not errors): ${r.events.filter((e) => e.kind === 'refused').length}.`,
    '',
    '## Targets',
    '',
    '| metric | value | target | met |',
    '| --- | ---: | --- | --- |',
    ...Object.entries(r.targets).map(
      ([k, t]) => `| ${k} | ${fmt(t.value)} | ${t.op} ${t.target} | ${t.met ? 'yes' : 'no'} |`,
    ),
    '',
    'Latency is per request as the client sees it (start to result of the workflow). Raw files: records.jsonl.gz ' +
      "(requests), rounds.jsonl.gz (what each controller round showed of the agent), calls.jsonl.gz (the workers' " +
      'call records of the agent).',
    '',
  ];
  return lines.join('\n');
}
