/** report.md of the policies benchmark: the run, what each set was, the table per segment, the ratios. */
import type { PoolProfile } from '../../../sim/profile';
import type { RunInfo } from '../run-info';
import { round } from '../stats';
import type { E2eRunSettings } from '../e2e/run';
import type { SegmentSummary } from '../e2e/stats';
import type { BenchWorkload } from '../workloads/types';
import { changePct, policySetNames, type PolicyComparison, type PolicySegment, type PolicySetName } from './stats';

const fmt = (x: number) => (Number.isFinite(x) ? String(round(x)) : '–');
/** A ratio as a signed change, with a real minus sign as the paper writes it: 0.976 → "−2.4%". */
function pct(ratio: number): string {
  if (!Number.isFinite(ratio)) return '–';
  const change = round(changePct(ratio));
  return `${change > 0 ? '+' : change < 0 ? '−' : ''}${Math.abs(change)}%`;
}

/** What each set is for, in one line. */
const setWhy: Record<PolicySetName, string> = {
  default: "NALAR_POLICIES' default list",
  srtf: 'the default list, then `srtf` (a session whose workflow reached a later stage gets a lower, earlier priority)',
  lpt: 'the default list, then `lpt` (a session with re-entering work, failed subtasks re-planned, goes first)',
};

function failedText(s: SegmentSummary): string {
  const codes = Object.entries(s.failedBy).sort(([, a], [, b]) => b - a);
  return codes.length ? `${s.failed} (${codes.map(([c, n]) => `${c} ${n}`).join(', ')})` : '0';
}

export interface PoliciesReportInput {
  workload: BenchWorkload;
  settings: E2eRunSettings;
  seeds: readonly number[];
  sets: Record<PolicySetName, string>;
  info: RunInfo;
  temporalVersion: string;
  profile: PoolProfile;
  runId: string;
  seconds: number;
  segments: readonly PolicySegment[];
  comparison: PolicyComparison;
  figures: { jct: string; makespan: string };
}

/** The markdown report. */
export function policiesReport(r: PoliciesReportInput): string {
  const { workload, settings: s, info, comparison: c } = r;
  const agents = Object.entries(workload.agentReplicas())
    .map(([a, rs]) => `${a} → ${rs.join(', ')}`)
    .join('; ');
  return [
    `# Policies: SRTF and LPT against the default policies (${workload.name})`,
    '',
    workload.title,
    '',
    '## Result',
    '',
    `- SRTF, mean completion time srtf / default, mean over rates: **${fmt(c.srtfMeanJctRatio)}** (${pct(c.srtfMeanJctRatio)}; paper: −2.4%)`,
    `- LPT, makespan lpt / default, mean over rates: **${fmt(c.lptMakespanRatio)}** (${pct(c.lptMakespanRatio)}; paper: −5.8%)`,
    '',
    '| rate/s | srtf mean JCT ratio | change | lpt makespan ratio | change |',
    '| ---: | ---: | ---: | ---: | ---: |',
    ...c.perRate.map(
      (p) =>
        `| ${p.rate} | ${fmt(p.srtfMeanJctRatio)} | ${pct(p.srtfMeanJctRatio)} | ${fmt(p.lptMakespanRatio)} | ${pct(p.lptMakespanRatio)} |`,
    ),
    '',
    'The issue states no goal for these figures: they are reported. A ratio below 1 means the set did better than the',
    'default set on the same arrivals. Completion time (JCT) is the latency of a completed job as its client saw it;',
    "makespan runs from the segment's first arrival to its last completion (wall ms), so it includes the arrival",
    'window itself and moves only with the last jobs. Failed jobs count in neither figure: compare the failed column.',
    '',
    '## Run',
    '',
    `- commit ${info.commit}${info.dirty ? ' (with uncommitted changes)' : ''}, ${info.date}, run ${r.runId}, ${fmt(r.seconds)} s`,
    `- machine: ${info.machine.cores} cores (${info.machine.cpu}), ${info.machine.memoryGiB} GiB, ${info.machine.platform}, Node ${info.node}`,
    `- Temporal: ${r.temporalVersion.split('\n').join('; ')} (dev server, one per run)`,
    `- one stack: the simulator pool (${r.profile.replicas.length} replicas; agents → replicas: ${agents}), ${s.workers} Nalar worker process(es), one global controller every ${s.controlPeriodMs} ms`,
    `- the workload's Nalar variant only; seeds ${r.seeds.join(', ')} (the simulator's: ${s.seed}); time scale ${s.timeScale}; rates ${s.rates.join(', ')} arrivals/s, ${s.stepSeconds} s of arrivals per segment, open loop; drain ${s.drainSeconds} s (then \`TIMEOUT\`); ${s.warmup} unrecorded warm-up request(s) first`,
    '- per seed and rate, the same arrivals under every set back to back, the order alternating (default, srtf, lpt, then reversed); the set is swapped on the running controller (`setPolicies`) and the next segment starts once its decisions are published under the new list, after the replicas went idle',
    '',
    '### Policy sets',
    '',
    ...policySetNames.map((set) => `- \`${set}\`: \`${r.sets[set]}\` — ${setWhy[set]}`),
    '',
    '## Per segment',
    '',
    `![Mean completion time per rate and set, with p50, p95 and p99](${r.figures.jct})`,
    '',
    `![Makespan per rate and set](${r.figures.makespan})`,
    '',
    '| seed | rate/s | set | requests | completed | failed | mean ms | p50 | p95 | p99 | makespan ms | GET /v1/policy | sessions given a priority |',
    '| ---: | ---: | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
    ...r.segments.map(
      (g) =>
        `| ${g.seed} | ${g.summary.rate} | ${g.policySet} | ${g.summary.requests} | ${g.summary.completed} | ${failedText(g.summary)} | ` +
        `${fmt(g.summary.latency.mean)} | ${fmt(g.summary.latency.p50)} | ${fmt(g.summary.latency.p95)} | ${fmt(g.summary.latency.p99)} | ` +
        `${fmt(g.makespanMs)} | ${g.servedPolicies.join(', ')} | ${g.prioritizedSessions} |`,
    ),
    '',
    '"GET /v1/policy": the list the global controller served when the segment started. "Sessions given a priority": sessions',
    'with a priority in any decisions version published during the segment (the default list sets none unless',
    '`high-priority` names sessions).',
    '',
    'Raw records: `records.jsonl.gz` (one JSON line per job: the workload record, rate, seed, policy set, arrival). All figures: `result.json`.',
    '',
  ].join('\n');
}
