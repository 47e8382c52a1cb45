/**
 * `npm run bench -- policies`: SRTF's mean completion time and LPT's makespan against the default policies on
 * one workload's Nalar variant (run.ts); writes load-tests/results/policies/ (report.md, jct.svg, makespan.svg,
 * result.json, records.jsonl.gz) and ends with the one closing JSON line. The issue states no goal for these
 * figures, so `targets` is empty. Exits 0 when the benchmark ran.
 */
import { mkdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { barWhiskerChartSpec, lineChart, renderSvg } from '../plot';
import { closingLine, resultsDir, runInfo, writeFile } from '../run-info';
import { loadWorkload } from '../e2e/workloads';
import type { BenchWorkload } from '../workloads/types';
import { policiesMetrics } from './outcome';
import { policySets, policiesSettings, type PoliciesBenchOptions } from './options';
import { policiesReport } from './report';
import { runPolicies } from './run';
import { comparePolicySets, policySetNames, type PolicySegment } from './stats';

export { parsePoliciesBenchOptions, policiesBenchUsage, type PoliciesBenchOptions } from './options';

/** The series name of a segment in the charts: the set, with the seed when there are several. */
const seriesOf = (g: PolicySegment, seeds: number) => (seeds > 1 ? `${g.policySet} (seed ${g.seed})` : g.policySet);

/** Where the results go. @default load-tests/results/policies/ */
export interface PoliciesOutput {
  dir?: string;
}

/** Runs the benchmark on `workload` with `o`, writes its results and prints the closing line; returns the exit code. */
export async function runPoliciesBenchOn(
  workload: BenchWorkload,
  o: PoliciesBenchOptions,
  log: (line: string) => void,
  out: PoliciesOutput = {},
): Promise<number> {
  const info = runInfo();
  const s = policiesSettings(workload, o);
  const sets = policySets(o.basePolicies);
  const segments = o.seeds.length * s.rates.length * policySetNames.length;
  log(
    `policies on ${workload.name}: ${o.seeds.length} seed(s) × ${s.rates.length} rates × ${policySetNames.length} sets × ` +
      `${s.stepSeconds} s (at most ${Math.round((segments * (s.stepSeconds + s.drainSeconds)) / 60)} min with every drain used in full)`,
  );
  const run = await runPolicies(workload, s, sets, o.seeds, log);
  const comparison = comparePolicySets(run.segments);
  const metrics = policiesMetrics(comparison, run.segments);

  const dir = out.dir ?? resultsDir('policies');
  mkdirSync(dir, { recursive: true });
  writeFile(dir, 'records.jsonl.gz', gzipSync(run.records.map((r) => JSON.stringify(r)).join('\n') + '\n'));
  const order = [...new Set(run.segments.map((g) => seriesOf(g, o.seeds.length)))];
  const jct = barWhiskerChartSpec(
    run.segments.map((g) => ({ x: g.summary.rate, series: seriesOf(g, o.seeds.length), ...g.summary.latency })),
    {
      title: `${workload.name}: completion time per rate and policy set (mean bars; p50, p95, p99)`,
      xLabel: 'offered rate (arrivals/s)',
      yLabel: 'completion time of completed jobs (ms)',
      seriesOrder: order.sort((a, b) => a.localeCompare(b)),
    },
  );
  writeFile(dir, 'jct.svg', await renderSvg(jct));
  writeFile(
    dir,
    'makespan.svg',
    await lineChart(
      order.map((name) => ({
        name,
        points: run.segments
          .filter((g) => seriesOf(g, o.seeds.length) === name && Number.isFinite(g.makespanMs))
          .map((g) => ({ x: g.summary.rate, y: g.makespanMs }))
          .sort((a, b) => a.x - b.x),
      })),
      {
        title: `${workload.name}: makespan per rate and policy set`,
        xLabel: 'offered rate (arrivals/s)',
        yLabel: 'first arrival to last completion (ms)',
      },
    ),
  );
  const result = {
    info: { ...info, temporal: run.temporalVersion, runId: run.runId, seconds: run.seconds },
    workload: { name: workload.name, title: workload.title, agentReplicas: workload.agentReplicas() },
    settings: { ...s, seeds: o.seeds },
    policySets: sets,
    metrics,
    comparison,
    segments: run.segments,
  };
  writeFile(dir, 'result.json', JSON.stringify(result, null, 2) + '\n');
  writeFile(
    dir,
    'report.md',
    policiesReport({
      workload,
      settings: s,
      seeds: o.seeds,
      sets,
      info,
      temporalVersion: run.temporalVersion,
      profile: run.profile,
      runId: run.runId,
      seconds: run.seconds,
      segments: run.segments,
      comparison,
      figures: { jct: 'jct.svg', makespan: 'makespan.svg' },
    }),
  );
  log(`report: ${dir}/report.md (${Math.round(run.seconds)} s)`);
  console.log(closingLine('policies', info.commit, metrics, {}));
  return 0;
}

/** `npm run bench -- policies`: loads the chosen workload and runs the benchmark on it. */
export async function runPoliciesBench(o: PoliciesBenchOptions, log: (line: string) => void): Promise<number> {
  return runPoliciesBenchOn(await loadWorkload(o.workload), o, log);
}
