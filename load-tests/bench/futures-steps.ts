/**
 * The step-overhead part of `npm run bench -- futures`: what one sequential agent step costs on the dev
 * server, with Temporal's defaults for the history queue readers ("before") and with the stack's dynamic
 * config ("after"), two dev servers measured interleaved in one run. A step is one awaited stub call that
 * does almost nothing, or one short durable timer (`sequentialStepsBenchWorkflow`).
 *
 * Step overhead of one repetition = (duration(N_max) − duration(N_min)) / (N_max − N_min), from workflows of
 * N_min and N_max steps run back to back on the same server; the figure is the p50 over repetitions. The
 * fixed part (start, first workflow task, result) cancels out. A least-squares fit over every (N, duration)
 * is reported beside it.
 */
import path from 'node:path';
import {
  devServerDynamicConfig,
  devServerHistoryQueueConfig,
  devServerSqlitePragmas,
} from '../../data-plane/supervisor/temporal-dev-server';
import type { BenchDevServer } from './harness/dev-server';
import { lineChart, type Series } from './plot';
import { linearFit, percentile, round } from './stats';
import type { sequentialStepsBenchWorkflow } from './workflows/sequential-steps';

export interface StepBenchOptions {
  /** Repetitions per server of the stub-call workflows (one of each step count per repetition). */
  stepRuns: number;
  /** Step counts of the stub-call workflows (at least two distinct). */
  steps: number[];
  /** Repetitions per server of the timer workflows. */
  timerRuns: number;
  /** Step counts of the timer workflows. */
  timerSteps: number[];
  /** Length of each timer, ms (a think time of a time-scaled workload). */
  timerMs: number;
}

export const defaultStepBenchOptions: StepBenchOptions = {
  stepRuns: 40,
  steps: [1, 3, 10],
  timerRuns: 8,
  timerSteps: [1, 3],
  timerMs: 20,
};

export type ServerSettings = 'before' | 'after';
export type StepKind = 'stub' | 'timer';

/** One workflow run of this part (a line of records.jsonl.gz). */
export interface StepRecord {
  part: 'steps';
  settings: ServerSettings;
  kind: StepKind;
  rep: number;
  steps: number;
  durationMs: number;
}

/** Settings of a dev server of this part. */
export interface StepServerSettings {
  dynamicConfig: readonly string[];
  sqlitePragmas: readonly string[];
}

/**
 * "after" is the stack's dev server; "before" leaves out what takes the per-step floor off (the history queue
 * settings and the SQLite pragmas): Temporal's defaults, with the same priority and fairness settings.
 */
export const stepBenchServers: Record<ServerSettings, StepServerSettings> = {
  before: {
    dynamicConfig: devServerDynamicConfig.filter(
      (kv) => !(devServerHistoryQueueConfig as readonly string[]).includes(kv),
    ),
    sqlitePragmas: [],
  },
  after: { dynamicConfig: devServerDynamicConfig, sqlitePragmas: devServerSqlitePragmas },
};

export const stepsWorkflowsPath = path.resolve(__dirname, 'workflows', 'sequential-steps.ts');
const taskQueue = 'bench-steps';

/**
 * Runs every workflow of this part on both servers, one at a time (low load): per repetition, each server
 * in turn (alternating which goes first) runs one workflow of every step count (alternating ascending and
 * descending). In-process Nalar workers on both servers poll throughout.
 */
export async function measureSteps(
  servers: Record<ServerSettings, BenchDevServer>,
  o: StepBenchOptions,
  log: (line: string) => void,
): Promise<StepRecord[]> {
  const worker = { taskQueue, workflowsPath: stepsWorkflowsPath };
  const clients = { before: servers.before.client(), after: servers.after.client() };
  const records: StepRecord[] = [];
  const runOne = async (settings: ServerSettings, kind: StepKind, rep: number, steps: number): Promise<void> => {
    const t0 = performance.now();
    await clients[settings].workflow.execute<typeof sequentialStepsBenchWorkflow>('sequentialStepsBenchWorkflow', {
      taskQueue,
      workflowId: `steps-${settings}-${kind}-${rep}-${steps}`,
      args: [{ steps, ...(kind === 'timer' && { timerMs: o.timerMs }) }],
    });
    if (rep >= 0) records.push({ part: 'steps', settings, kind, rep, steps, durationMs: performance.now() - t0 });
  };
  const repetition = async (kind: StepKind, rep: number, counts: readonly number[]) => {
    const order: ServerSettings[] = rep % 2 === 0 ? ['before', 'after'] : ['after', 'before'];
    const ns = rep % 2 === 0 ? counts : [...counts].reverse();
    for (const settings of order) for (const n of ns) await runOne(settings, kind, rep, n);
  };
  return servers.before.runWorkers([worker], () =>
    servers.after.runWorkers([worker], async () => {
      log(`step overhead: warm-up, then ${o.stepRuns} repetitions of ${o.steps.join(', ')} sequential stub calls`);
      for (let i = 0; i < 3; i++) await repetition('stub', -1 - i, [Math.min(...o.steps)]);
      for (let rep = 0; rep < o.stepRuns; rep++) {
        await repetition('stub', rep, o.steps);
        if ((rep + 1) % 10 === 0) log(`  ${rep + 1}/${o.stepRuns}`);
      }
      log(`timer steps: ${o.timerRuns} repetitions of ${o.timerSteps.join(', ')} sequential ${o.timerMs} ms timers`);
      for (let rep = 0; rep < o.timerRuns; rep++) await repetition('timer', rep, o.timerSteps);
      return records;
    }),
  );
}

/** The figures of one kind of step on one server. */
export interface StepSummary {
  /** p50 workflow duration per step count, ms. */
  p50ByStepsMs: Record<number, number>;
  /** p50 over repetitions of the per-repetition slope, ms per step (see the module comment). */
  perStepP50Ms: number;
  perStepP95Ms: number;
  /** Least-squares line over every run. */
  fitSlopeMs: number;
  fitInterceptMs: number;
  repetitions: number;
}

/** Summarizes the records of one server and kind; `counts` are the step counts that were run. */
export function summarizeSteps(records: readonly StepRecord[], counts: readonly number[]): StepSummary {
  const lo = Math.min(...counts);
  const hi = Math.max(...counts);
  const p50ByStepsMs: Record<number, number> = {};
  for (const n of counts) {
    p50ByStepsMs[n] = percentile(
      records
        .filter((r) => r.steps === n)
        .map((r) => r.durationMs)
        .sort((a, b) => a - b),
      0.5,
    );
  }
  const byRep = new Map<number, Map<number, number>>();
  for (const r of records) byRep.set(r.rep, (byRep.get(r.rep) ?? new Map<number, number>()).set(r.steps, r.durationMs));
  const slopes: number[] = [];
  for (const runs of byRep.values()) {
    const a = runs.get(lo);
    const b = runs.get(hi);
    if (a !== undefined && b !== undefined && hi > lo) slopes.push((b - a) / (hi - lo));
  }
  slopes.sort((a, b) => a - b);
  const fit = linearFit(records.map((r) => ({ x: r.steps, y: r.durationMs })));
  return {
    p50ByStepsMs,
    perStepP50Ms: percentile(slopes, 0.5),
    perStepP95Ms: percentile(slopes, 0.95),
    fitSlopeMs: fit.slope,
    fitInterceptMs: fit.intercept,
    repetitions: slopes.length,
  };
}

export type StepSummaries = Record<StepKind, Record<ServerSettings, StepSummary>>;

export function summarizeAllSteps(records: readonly StepRecord[], o: StepBenchOptions): StepSummaries {
  const of = (kind: StepKind, settings: ServerSettings) =>
    summarizeSteps(
      records.filter((r) => r.kind === kind && r.settings === settings),
      kind === 'stub' ? o.steps : o.timerSteps,
    );
  return {
    stub: { before: of('stub', 'before'), after: of('stub', 'after') },
    timer: { before: of('timer', 'before'), after: of('timer', 'after') },
  };
}

/** The closing-line metrics of this part. */
export function stepMetrics(s: StepSummaries, o: StepBenchOptions): Record<string, number> {
  return {
    step_overhead_ms_p50: round(s.stub.after.perStepP50Ms),
    step_overhead_ms_p50_before: round(s.stub.before.perStepP50Ms),
    step_overhead_speedup: round(s.stub.before.perStepP50Ms / s.stub.after.perStepP50Ms),
    timer_step_ms_p50: round(s.timer.after.perStepP50Ms),
    timer_step_ms_p50_before: round(s.timer.before.perStepP50Ms),
    timer_ms: o.timerMs,
  };
}

/** The plot of this part: p50 workflow duration over the number of sequential stub calls, per server. */
export function stepsChart(s: StepSummaries, o: StepBenchOptions): Promise<string> {
  const series = (settings: ServerSettings, name: string): Series => ({
    name,
    points: o.steps.map((n) => ({ x: n, y: round(s.stub[settings].p50ByStepsMs[n] ?? NaN) })),
  });
  return lineChart(
    [series('before', "Temporal's defaults (before)"), series('after', "the stack's settings (after)")],
    {
      title: 'Workflow of N sequential stub calls: p50 duration',
      xLabel: 'sequential stub calls (N)',
      yLabel: 'p50 workflow duration, ms',
    },
  );
}

/** The report section of this part (markdown). */
export function stepsReport(s: StepSummaries, o: StepBenchOptions): string {
  const knobs = [...devServerHistoryQueueConfig, ...devServerSqlitePragmas.map((p) => `--sqlite-pragma ${p}`)]
    .map((kv) => `\`${kv}\``)
    .join(', ');
  const row = (kind: StepKind, settings: ServerSettings, label: string, counts: readonly number[]) => {
    const x = s[kind][settings];
    const cells = counts.map((n) => round(x.p50ByStepsMs[n] ?? NaN));
    return `| ${label} | ${cells.join(' | ')} | **${round(x.perStepP50Ms)}** | ${round(x.perStepP95Ms)} | ${round(x.fitSlopeMs)} | ${round(x.fitInterceptMs)} |`;
  };
  const head = (counts: readonly number[], what: string) =>
    `| dev server settings | ${counts.map((n) => `N=${n} p50 ms`).join(' | ')} | ${what} p50 | p95 | fit slope ms | fit intercept ms |\n|---|${counts.map(() => '---|').join('')}---|---|---|---|`;
  const before = "Temporal's defaults (before)";
  const after = "the stack's settings (after)";
  return `## Step overhead: Temporal's own floor per sequential step

Two dev servers in one run, measured interleaved (per repetition each server in turn, alternating which goes
first): **before** runs with Temporal's defaults for the history queue readers and SQLite, **after** with the
stack's settings (${knobs}; both have the priority and fairness settings). Workflow
\`sequentialStepsBenchWorkflow\` (load-tests/bench/workflows/sequential-steps.ts) on an in-process Nalar
worker per server, one workflow at a time (low load).

**Step overhead** of a repetition = (duration(N=${Math.max(...o.steps)}) − duration(N=${Math.min(...o.steps)})) / ${Math.max(...o.steps) - Math.min(...o.steps)}, from the two
workflows of that repetition; the table gives its p50 and p95 over ${s.stub.after.repetitions} repetitions, and a least-squares
line over every run beside it. A step is one awaited stub call (\`textTools.countWords\`, a no-op tool).

${head(o.steps, 'ms per step')}
${row('stub', 'before', before, o.steps)}
${row('stub', 'after', after, o.steps)}

With Temporal's defaults the per-step figure of a repetition depends on what the shard did just before (a
token bucket that had time to refill lets a few hops through without waiting), hence its wide spread; that
is why the two servers alternate. The closing line's \`step_overhead_ms_p50\` is the **after** p50.

Speedup per step: **${round(s.stub.before.perStepP50Ms / s.stub.after.perStepP50Ms)}×** (target: ≤ 25 ms per step after).

![p50 workflow duration over sequential stub calls](steps.svg)

Timers (think times, \`value(timeoutMs)\` deadlines): the same with every step a ${o.timerMs} ms durable timer,
${s.timer.after.repetitions} repetitions; per step = (duration(N=${Math.max(...o.timerSteps)}) − duration(N=${Math.min(...o.timerSteps)})) / ${Math.max(...o.timerSteps) - Math.min(...o.timerSteps)}, which includes the ${o.timerMs} ms itself.

${head(o.timerSteps, 'ms per timer step')}
${row('timer', 'before', before, o.timerSteps)}
${row('timer', 'after', after, o.timerSteps)}
`;
}
