/** report.md of a workload benchmark: run info, the table per (rate, variant), capacity, overhead, the figure. */
import type { PoolProfile } from '../../../sim/profile';
import type { RunInfo, Target } from '../run-info';
import { round } from '../stats';
import type { BenchWorkload } from '../workloads/types';
import { capacityBound, type Capacity, type SegmentSummary } from './stats';
import type { E2eOutcome } from './outcome';
import type { E2eRunSettings } from './run';

const fmt = (x: number) => (Number.isFinite(x) ? String(round(x)) : '–');
const rateOf = (x: number | null | undefined) => (x == null ? '–' : `${x}/s`);

function failedText(s: SegmentSummary): string {
  const codes = Object.entries(s.failedBy).sort(([, a], [, b]) => b - a);
  return codes.length ? `${s.failed} (${codes.map(([c, n]) => `${c} ${n}`).join(', ')})` : '0';
}

function capacityLine(c: Capacity | undefined, top: number): string {
  if (!c) return '–';
  if (c.capacityRate === null) return `below the grid (the lowest rate misses the bound of ${fmt(c.boundMs)} ms)`;
  const bound = `bound ${fmt(c.boundMs)} ms = ${capacityBound.meanFactor} × low-load mean ${fmt(c.lowLoadMeanMs)} ms`;
  return c.firstMissRate === null
    ? `≥ ${c.capacityRate}/s (every rate up to the grid's top, ${top}/s, meets the ${bound})`
    : `${c.capacityRate}/s (first miss: ${c.firstMissRate}/s; ${bound})`;
}

/** Per request kind, when a workload has more than one. */
function kindTable(segments: readonly SegmentSummary[]): string[] {
  const kinds = [...new Set(segments.flatMap((g) => Object.keys(g.kinds)))].sort();
  if (kinds.length < 2) return [];
  return [
    '',
    '### Per request kind',
    '',
    '| rate/s | variant | kind | requests | completed | failed | mean ms | p50 | p95 | p99 |',
    '| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...segments.flatMap((g) =>
      kinds
        .filter((k) => g.kinds[k])
        .map((k) => {
          const s = g.kinds[k] as SegmentSummary['kinds'][string];
          return (
            `| ${g.rate} | ${g.variant} | ${k} | ${s.requests} | ${s.completed} | ${s.failed} | ${fmt(s.latency.mean)} | ` +
            `${fmt(s.latency.p50)} | ${fmt(s.latency.p95)} | ${fmt(s.latency.p99)} |`
          );
        }),
    ),
  ];
}

/** Load imbalance per agent (max/mean busy time over its replicas), when a workload has more than one agent. */
function agentTable(segments: readonly SegmentSummary[]): string[] {
  const agents = [...new Set(segments.flatMap((g) => Object.keys(g.imbalance.perAgent)))];
  if (agents.length < 2) return [];
  return [
    '',
    '### Load imbalance per agent',
    '',
    `| rate/s | variant | ${agents.join(' | ')} |`,
    `| ---: | --- | ${agents.map(() => '---:').join(' | ')} |`,
    ...segments.map(
      (g) => `| ${g.rate} | ${g.variant} | ${agents.map((a) => fmt(g.imbalance.perAgent[a] ?? NaN)).join(' | ')} |`,
    ),
  ];
}

/** The software-engineering workload's measure: completion time of each job set, and what no system could beat. */
function completionTable(workload: string, outcome: E2eOutcome): string[] {
  const rows = outcome.speedups.perRate;
  if (workload !== 'swe' || rows.length === 0) return [];
  return [
    '## Completion time of the job sets',
    '',
    '| rate/s | speedup (baseline / Nalar) | imbalance ratio | set with no wait (s) | speedup bound | imbalance ratio bound |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (x) =>
        `| ${x.rate} | ${fmt(x.speedup)} | ${fmt(x.imbalanceRatio)} | ${fmt(x.noWaitSeconds ?? NaN)} | ` +
        `${fmt(x.speedupBound ?? NaN)} | ` +
        `${fmt(x.imbalanceRatioBound)} |`,
    ),
    '',
    "A set with no wait: the latest arrival offset plus that job's critical path (model and tool time, the shorter of",
    "the two variants' reports), no framework overhead: no system on these engines completes the set sooner, so the",
    "speedup bound (the baseline's completion time over it) is the most any system could win on that set. Nalar's",
    "max/mean busy time is at least 1, so the imbalance ratio cannot exceed the baseline's own imbalance (its bound).",
    '',
  ];
}

export interface E2eReportInput {
  workload: BenchWorkload;
  settings: E2eRunSettings;
  info: RunInfo;
  temporalVersion: string;
  profile: PoolProfile;
  runId: string;
  seconds: number;
  segments: readonly SegmentSummary[];
  outcome: E2eOutcome;
  figure: string;
}

/** The markdown report. */
export function e2eReport(r: E2eReportInput): string {
  const { workload, settings: s, info, outcome } = r;
  const top = Math.max(...s.rates);
  const target: Target | undefined = outcome.targets.framework_overhead_share_p50;
  const replicas = r.profile.replicas.map((p, i) => `${i}: ${p.name} (${p.model})`).join(', ');
  const agents = Object.entries(workload.agentReplicas())
    .map(([a, rs]) => `${a} → ${rs.join(', ')}`)
    .join('; ');
  const lines = [
    `# ${workload.name}: Nalar vs vanilla Temporal, end to end`,
    '',
    workload.title,
    '',
    '## Run',
    '',
    `- commit ${info.commit}${info.dirty ? ' (with uncommitted changes)' : ''}, ${info.date}, run ${r.runId}, ${fmt(r.seconds)} s`,
    `- machine: ${info.machine.cores} cores (${info.machine.cpu}), ${info.machine.memoryGiB} GiB, ${info.machine.platform}, Node ${info.node}`,
    `- Temporal: ${r.temporalVersion.split('\n').join('; ')} (dev server, one per run)`,
    `- seed ${s.seed}; time scale ${s.timeScale} real ms per model ms (workload default ${workload.defaultTimeScale.value}: ${workload.defaultTimeScale.why})`,
    `- simulator profile: ${r.profile.replicas.length} replicas (${replicas}); agents → replicas: ${agents}`,
    `- policy set: ${s.policies} every ${s.controlPeriodMs} ms (Nalar: each call passes its worker's local controller, at most \`maxInFlight\` = the replica's batch size in flight per replica, the rest waiting there by priority; baseline: the static split above, straight to the engines)`,
    `- grid: rates ${s.rates.join(', ')} arrivals/s, ${s.stepSeconds} s of arrivals per rate, open loop; variants ${s.variants.join(', ')} back to back per rate (first alternates); drain ${s.drainSeconds} s (then ${'`TIMEOUT`'}); ${s.workers} worker process(es); ${s.warmup} unrecorded warm-up request(s) per variant first`,
    '',
    '## Figure 9',
    '',
    `![Mean latency per rate and variant, with p50, p95 and p99](${r.figure})`,
    '',
    'Bars: mean latency of completed requests; the whisker runs from p50 to p99, with a point at p50, p95 and p99.',
    '',
    '## Per rate and variant',
    '',
    '| rate/s | variant | arrivals | requests | completed | failed | thr/s | mean ms | p50 | p95 | p99 | max | imbalance (all) | imbalance (max agent) |',
    '| ---: | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.segments.map(
      (g) =>
        `| ${g.rate} | ${g.variant} | ${g.arrivals} | ${g.requests} | ${g.completed} | ${failedText(g)} | ${fmt(g.throughput)} | ` +
        `${fmt(g.latency.mean)} | ${fmt(g.latency.p50)} | ${fmt(g.latency.p95)} | ${fmt(g.latency.p99)} | ${fmt(g.latency.max)} | ` +
        `${fmt(g.imbalance.overall)} | ${fmt(g.imbalance.maxOverAgents)} |`,
    ),
    '',
    ...kindTable(r.segments),
    ...agentTable(r.segments),
    '',
    'Imbalance is max/mean of replica busy time (model time with a sequence in the batch) during the segment, over all',
    'replicas and over the replicas of each agent (the largest in the main table). `–`: no replica was busy.',
    '',
    '## Capacity',
    '',
    `The highest rate up to which every rate of the grid keeps mean latency ≤ ${capacityBound.meanFactor}× the variant's own`,
    `lowest-rate mean with ≥ ${capacityBound.minCompletedShare * 100}% of requests completed.`,
    '',
    ...s.variants.map((v) => `- ${v}: ${capacityLine(outcome.capacities[v], top)}`),
    `- ratio Nalar / baseline: ${fmt(outcome.capacityRatio)}`,
    '',
    ...completionTable(workload.name, outcome),
    '## Framework overhead at low load',
    '',
    `p50 over the Nalar variant's completed requests at ${rateOf(Math.min(...s.rates))} of (latency − critical path) / latency,`,
    'where the critical path is the model and tool time the simulator and tools report:',
    `**${fmt(outcome.overheadShareP50)}** (target ≤ ${target?.target ?? '–'}: ${target?.met ? 'met' : 'not met'}).`,
    '',
    'Raw records: `records.jsonl.gz` (one JSON line per request: the workload record, rate, variant, arrival). All figures: `result.json`.',
    '',
  ];
  return lines.join('\n');
}
