/**
 * `npm run bench -- analyst|router|swe`: a workload end to end, Nalar vs its vanilla Temporal baseline on the
 * same stack, seed and arrivals over a grid of rates (run.ts); writes load-tests/results/<workload>/
 * (report.md, figure9.svg, result.json, records.jsonl.gz) and ends with the one closing JSON line. Exits 0
 * when the benchmark ran (a missed target is a result).
 */
import { mkdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { barWhiskerChartSpec, renderSvg } from '../plot';
import { closingLine, resultsDir, runInfo, writeFile } from '../run-info';
import type { BenchWorkload } from '../workloads/types';
import { allVariants, defaultDrainSeconds, type E2eBenchOptions } from './options';
import { e2eOutcome } from './outcome';
import { e2eReport } from './report';
import { configDefaults, durationMs } from '../../../common/config';
import { runE2e, type E2eRunSettings } from './run';
import type { SegmentSummary } from './stats';
import { loadWorkload, type WorkloadName } from './workloads';

export { e2eBenchOptionsUsage, parseE2eBenchOptions, type E2eBenchOptions } from './options';
export { availableWorkloads, isWorkloadName, workloadNames } from './workloads';

/** A full grid of one workload should take at most this long on the 2-core machine (the budget). */
export const gridBudgetSeconds = 15 * 60;

/** The options with the workload's defaults applied. */
export function e2eSettings(workload: BenchWorkload, o: E2eBenchOptions): E2eRunSettings {
  return {
    rates: o.rates ?? [...workload.defaultRates].sort((a, b) => a - b),
    stepSeconds: o.stepSeconds ?? workload.defaultStepSeconds,
    seed: o.seed,
    timeScale: o.timeScale ?? workload.defaultTimeScale.value,
    variants: o.variants,
    drainSeconds: o.drainSeconds ?? workload.defaultDrainSeconds ?? defaultDrainSeconds,
    workers: o.workers,
    warmup: o.warmup,
    policies: o.policies ?? configDefaults.policies,
    controlPeriodMs: o.controlPeriodMs ?? (durationMs(configDefaults.controlPeriod) as number),
  };
}

/** The Figure 9 chart of the segments. */
export function figure9(workload: string, segments: readonly SegmentSummary[]): Promise<string> {
  const spec = barWhiskerChartSpec(
    segments.map((s) => ({ x: s.rate, series: s.variant, ...s.latency })),
    {
      title: `${workload}: latency per offered rate (mean bars; p50, p95, p99)`,
      xLabel: 'offered rate (arrivals/s)',
      yLabel: 'latency of completed requests (ms)',
      seriesOrder: allVariants.filter((v) => segments.some((s) => s.variant === v)),
    },
  );
  return renderSvg(spec);
}

/** Where the results go. @default load-tests/results/<workload>/ */
export interface E2eOutput {
  dir?: string;
}

/** Runs `workload` with `o`, writes its results and prints the closing line; returns the exit code. */
export async function runWorkloadBench(
  workload: BenchWorkload,
  o: E2eBenchOptions,
  log: (line: string) => void,
  out: E2eOutput = {},
): Promise<number> {
  const info = runInfo();
  const s = e2eSettings(workload, o);
  const boundSeconds = s.rates.length * s.variants.length * (s.stepSeconds + s.drainSeconds);
  log(
    `${workload.name}: ${s.rates.length} rates × ${s.variants.length} variants × ${s.stepSeconds} s ` +
      `(at most ${Math.round(boundSeconds / 60)} min with every drain used in full)`,
  );
  const gridSeconds = s.rates.length * s.variants.length * s.stepSeconds;
  if (gridSeconds > gridBudgetSeconds) {
    log(
      `warning: ${Math.round(gridSeconds / 60)} min of arrivals alone, over the ${gridBudgetSeconds / 60} min budget of a grid`,
    );
  }
  const run = await runE2e(workload, s, log);
  const outcome = e2eOutcome(workload.name, s.variants, run.segments, run.records);

  const dir = out.dir ?? resultsDir(workload.name);
  mkdirSync(dir, { recursive: true });
  writeFile(dir, 'records.jsonl.gz', gzipSync(run.records.map((r) => JSON.stringify(r)).join('\n') + '\n'));
  writeFile(dir, 'figure9.svg', await figure9(workload.name, run.segments));
  const result = {
    info: { ...info, temporal: run.temporalVersion, runId: run.runId, seconds: run.seconds },
    workload: { name: workload.name, title: workload.title, agentReplicas: workload.agentReplicas() },
    settings: s,
    simulator: run.profile,
    policySet: s.policies,
    metrics: outcome.metrics,
    targets: outcome.targets,
    capacities: outcome.capacities,
    segments: run.segments,
  };
  writeFile(dir, 'result.json', JSON.stringify(result, null, 2) + '\n');
  writeFile(
    dir,
    'report.md',
    e2eReport({
      workload,
      settings: s,
      info,
      temporalVersion: run.temporalVersion,
      profile: run.profile,
      runId: run.runId,
      seconds: run.seconds,
      segments: run.segments,
      outcome,
      figure: 'figure9.svg',
    }),
  );
  log(`report: ${dir}/report.md (${Math.round(run.seconds)} s)`);
  console.log(closingLine(workload.name, info.commit, outcome.metrics, outcome.targets));
  return 0;
}

/** `npm run bench -- <workload>`: loads the registered workload (a clear error when it is not available yet). */
export async function runE2eBench(
  name: WorkloadName,
  o: E2eBenchOptions,
  log: (line: string) => void,
): Promise<number> {
  return runWorkloadBench(await loadWorkload(name), o, log);
}
