/**
 * `npm run bench -- futures`: what stubs and futures cost next to plain `proxyActivities`, at low load on
 * the real dev server. The same pipeline (`textPipelineWorkflow`, fan-out/fan-in over the textTools tool)
 * runs with stubs and as its vanilla twin, interleaved in one run (order alternating), on one real worker
 * process; the client measures end-to-end latency, /proc measures the worker's CPU. Before that, the
 * step-overhead part (futures-steps.ts) measures Temporal's own floor per sequential step on a second dev
 * server with Temporal's defaults next to the stack's settings.
 */
import os from 'node:os';
import { gzipSync } from 'node:zlib';
import { textPipelineVanillaWorkflow, textPipelineWorkflow } from '../../workflows';
import {
  defaultStepBenchOptions,
  measureSteps,
  stepBenchServers,
  stepMetrics,
  stepsChart,
  stepsReport,
  summarizeAllSteps,
  type StepBenchOptions,
} from './futures-steps';
import { withBenchDevServer, type BenchDevServer } from './harness/dev-server';
import { cpuMs } from './process-cpu';
import { closingLine, resultsDir, runInfo, target, writeFile } from './run-info';
import { round, summarize } from './stats';

export interface FuturesBenchOptions extends StepBenchOptions {
  /** Measured workflow runs per variant. */
  runs: number;
  /** Unmeasured runs per variant first (bundles, connections and JIT warm up). */
  warmup: number;
  /** Sentences per workflow: futures per run = sentences + 2. */
  sentences: number;
}

export const defaultFuturesBenchOptions: FuturesBenchOptions = {
  runs: 200,
  warmup: 20,
  sentences: 4,
  ...defaultStepBenchOptions,
};

type Variant = 'stubs' | 'vanilla';

interface RunRecord {
  variant: Variant;
  i: number;
  latencyMs: number;
  workerCpuMs: number;
}

export async function runFuturesBench(o: FuturesBenchOptions, log: (line: string) => void): Promise<number> {
  const info = runInfo();
  // The machine may be shared: the report states how busy it was.
  const loadAtStart = os.loadavg()[0] ?? NaN;
  log("dev server 1 of 2: Temporal's defaults for the history queue readers and SQLite (before)");
  return withBenchDevServer({ log, ...stepBenchServers.before }, (before) => {
    log('dev server 2 of 2: the settings of the stack (after)');
    return withBenchDevServer({ log, ...stepBenchServers.after }, (server) =>
      runOnServers(o, log, info, loadAtStart, before, server),
    );
  });
}

async function runOnServers(
  o: FuturesBenchOptions,
  log: (line: string) => void,
  info: ReturnType<typeof runInfo>,
  loadAtStart: number,
  before: BenchDevServer,
  server: BenchDevServer,
): Promise<number> {
  const taskQueue = 'bench-futures';
  const stepRecords = await measureSteps({ before, after: server }, o, log);
  const steps = summarizeAllSteps(stepRecords, o);
  const loadAfterSteps = os.loadavg()[0] ?? NaN;
  log(
    `step overhead p50: ${round(steps.stub.before.perStepP50Ms)} ms per step before, ${round(steps.stub.after.perStepP50Ms)} ms after; ` +
      `${o.timerMs} ms timer step: ${round(steps.timer.before.perStepP50Ms)} ms before, ${round(steps.timer.after.perStepP50Ms)} ms after`,
  );
  log(`starting one worker process`);
  // Its own process, so /proc gives the worker's CPU apart from this client's.
  const workerProc = await server.startWorkerProcess({ taskQueue });
  const client = server.client();
  const sentences = Array.from({ length: o.sentences }, (_, i) => `sentence number ${i} of the benchmark`);
  const futuresPerRun = o.sentences + 2;
  const records: RunRecord[] = [];
  const runOne = async (variant: Variant, i: number): Promise<RunRecord> => {
    const cpu0 = cpuMs(workerProc.pid);
    const t0 = performance.now();
    const workflowId = `bench-${variant}-${i}`;
    if (variant === 'stubs') {
      await client.workflow.execute(textPipelineWorkflow, { taskQueue, workflowId, args: [{ sentences }] });
    } else {
      await client.workflow.execute(textPipelineVanillaWorkflow, { taskQueue, workflowId, args: [{ sentences }] });
    }
    return { variant, i, latencyMs: performance.now() - t0, workerCpuMs: cpuMs(workerProc.pid) - cpu0 };
  };
  log(`warm-up: ${o.warmup} runs per variant`);
  for (let i = 0; i < o.warmup; i++) {
    await runOne('stubs', -1 - i);
    await runOne('vanilla', -1 - i);
  }
  log(`measuring: ${o.runs} runs per variant, interleaved, ${futuresPerRun} calls per run`);
  for (let i = 0; i < o.runs; i++) {
    // Alternate which variant goes first, so neither always follows the other.
    const order: Variant[] = i % 2 === 0 ? ['stubs', 'vanilla'] : ['vanilla', 'stubs'];
    for (const v of order) records.push(await runOne(v, i));
    if ((i + 1) % 50 === 0) log(`  ${i + 1}/${o.runs}`);
  }

  const of = (v: Variant) => records.filter((r) => r.variant === v);
  const latency = {
    stubs: summarize(of('stubs').map((r) => r.latencyMs)),
    vanilla: summarize(of('vanilla').map((r) => r.latencyMs)),
  };
  const cpuPerRun = {
    stubs: of('stubs').reduce((a, r) => a + r.workerCpuMs, 0) / o.runs,
    vanilla: of('vanilla').reduce((a, r) => a + r.workerCpuMs, 0) / o.runs,
  };
  const p50Ratio = latency.stubs.p50 / latency.vanilla.p50;
  const metrics = {
    runs_per_variant: o.runs,
    calls_per_run: futuresPerRun,
    stubs_ms: {
      mean: round(latency.stubs.mean),
      p50: round(latency.stubs.p50),
      p95: round(latency.stubs.p95),
      p99: round(latency.stubs.p99),
    },
    vanilla_ms: {
      mean: round(latency.vanilla.mean),
      p50: round(latency.vanilla.p50),
      p95: round(latency.vanilla.p95),
      p99: round(latency.vanilla.p99),
    },
    p50_ratio: round(p50Ratio),
    mean_ratio: round(latency.stubs.mean / latency.vanilla.mean),
    worker_cpu_ms_per_future: round(cpuPerRun.stubs / futuresPerRun),
    worker_cpu_ms_per_vanilla_call: round(cpuPerRun.vanilla / futuresPerRun),
    worker_cpu_overhead_ms_per_future: round((cpuPerRun.stubs - cpuPerRun.vanilla) / futuresPerRun),
  };
  const loadAtEnd = os.loadavg()[0] ?? NaN;
  const allMetrics = {
    ...metrics,
    ...stepMetrics(steps, o),
    load_average_1m: { start: round(loadAtStart), after_steps: round(loadAfterSteps), end: round(loadAtEnd) },
  };
  const targets = {
    p50_latency_ratio: target(round(p50Ratio), '<=', 1.05),
    step_overhead_ms_p50: target(round(steps.stub.after.perStepP50Ms), '<=', 25),
  };
  const dir = resultsDir('futures');
  const lines = [...records.map((r) => ({ part: 'pipeline', ...r })), ...stepRecords];
  writeFile(dir, 'records.jsonl.gz', gzipSync(lines.map((r) => JSON.stringify(r)).join('\n') + '\n'));
  writeFile(dir, 'steps.svg', await stepsChart(steps, o));
  writeFile(
    dir,
    'result.json',
    JSON.stringify({ info, options: o, servers: stepBenchServers, metrics: allMetrics, steps, targets }, null, 2) +
      '\n',
  );
  writeFile(
    dir,
    'report.md',
    `# Futures benchmark: stubs vs plain proxyActivities, and Temporal's floor per step

Commit \`${info.commit}\`${info.dirty ? ' (with uncommitted changes)' : ''}, ${info.date}; ${info.machine.cores} cores, ${info.machine.memoryGiB} GiB; Temporal dev server (CLI v1.5.1, server 1.29); Node ${info.node}.
Machine load (1-minute load average, ${info.machine.cores} cores shared with other work): ${round(loadAtStart)} at the start, ${round(loadAfterSteps)} after the step-overhead part, ${round(loadAtEnd)} at the end.
Workflow: \`textPipelineWorkflow\` (${o.sentences} parallel \`textTools.shout\`, a \`join\` depending on all of them, a \`countWords\` depending on the join: ${futuresPerRun} calls) vs its vanilla twin with plain \`proxyActivities\`.
${o.runs} runs each after ${o.warmup} warm-up runs, one at a time (low load), interleaved with alternating order; one worker process; the dev server with the
stack's settings ("after" below).

| variant | mean ms | p50 ms | p95 ms | p99 ms | worker CPU ms per call |
|---|---|---|---|---|---|
| stubs + futures | ${metrics.stubs_ms.mean} | ${metrics.stubs_ms.p50} | ${metrics.stubs_ms.p95} | ${metrics.stubs_ms.p99} | ${metrics.worker_cpu_ms_per_future} |
| vanilla proxyActivities | ${metrics.vanilla_ms.mean} | ${metrics.vanilla_ms.p50} | ${metrics.vanilla_ms.p95} | ${metrics.vanilla_ms.p99} | ${metrics.worker_cpu_ms_per_vanilla_call} |

p50 ratio stubs/vanilla: **${metrics.p50_ratio}** (target ≤ 1.05); mean ratio ${metrics.mean_ratio}.
Worker CPU overhead of a future over a plain activity call: ${metrics.worker_cpu_overhead_ms_per_future} ms
(metadata, the header, sink events into the local controller, the activity interceptor).

${stepsReport(steps, o)}
Raw per-run records: \`records.jsonl.gz\` (\`part\`: \`pipeline\` for the comparison above, \`steps\` for the step
overhead).
`,
  );
  log(
    `stubs p50 ${metrics.stubs_ms.p50} ms vs vanilla p50 ${metrics.vanilla_ms.p50} ms (ratio ${metrics.p50_ratio}); ` +
      `worker CPU per future ${metrics.worker_cpu_ms_per_future} ms vs ${metrics.worker_cpu_ms_per_vanilla_call} ms per plain call`,
  );
  log(`report: ${dir}/report.md`);
  console.log(closingLine('futures', info.commit, allMetrics, targets));
  return 0;
}
