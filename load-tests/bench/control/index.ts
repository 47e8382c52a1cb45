/**
 * `npm run bench -- control`: the control plane at scale (issue 13, point 5; the paper's Figure 10 and
 * Table 4), in one process, without Temporal or the simulator:
 * 1. the global loop against 2^10 … 2^20 live futures with 32 and 64 emulated local controllers (loop.ts),
 * 2. time per routing decision, two-level vs one-level, on the same graphs (decision.ts, one-level.ts),
 * 3. decision propagation to real GlobalLinks over HTTP (propagation.ts).
 * Writes load-tests/results/control/ (report.md, SVG charts, result.json) and ends with the one closing JSON
 * line; a missed target is a result.
 */
import os from 'node:os';
import { closingLine, resultsDir, runInfo, writeFile } from '../run-info';
import { round } from '../stats';
import { measureDecisions, type DecisionResult } from './decision';
import { buildBenchController, fullGc, measureLoop, type LoopResult } from './loop';
import type { ControlBenchOptions } from './options';
import { controlOutcome } from './outcome';
import { measurePropagation, type PropagationResult } from './propagation';
import { controlReport, writeControlPlots } from './report';

export { controlBenchUsage, parseControlBenchOptions, type ControlBenchOptions } from './options';

/**
 * Runs the parts `o.parts` names, writes the results (into `out.dir`, default load-tests/results/control/),
 * prints the closing line; returns the exit code.
 */
export async function runControlBench(
  o: ControlBenchOptions,
  log: (line: string) => void,
  out: { dir?: string } = {},
): Promise<number> {
  const began = performance.now();
  const info = runInfo();
  // The machine is shared: the load around the run says how much of a slow round is other processes'.
  const loadAtStart = os.loadavg()[0] as number;
  if (!fullGc()) log('cannot force a GC here: heap figures are NaN');
  const loops: LoopResult[] = [];
  const decisions: DecisionResult[] = [];
  const runLoop = o.parts.includes('loop');
  const runDecision = o.parts.includes('decision');
  const mostNodes = Math.max(...o.nodeCounts);
  for (const size of o.sizes) {
    for (const nodes of [...o.nodeCounts].sort((a, b) => a - b)) {
      const wantDecision = runDecision && nodes === mostNodes && o.decisionSizes.includes(size);
      if (!runLoop && !wantDecision) continue;
      const built = buildBenchController(size, nodes, o);
      // The decision part needs the churned graph too (pins, weights, waiting calls): the rounds always run.
      const loop = measureLoop(built, size, o);
      if (runLoop) {
        loops.push(loop);
        log(
          `loop ${size} futures, ${nodes} nodes: round p50 ${round(loop.totalMs.p50)} ms, p95 ${round(loop.totalMs.p95)} ms ` +
            `(collection p50 ${round(loop.collectMs.p50)}, policy p50 ${round(loop.policyMs.p50)}); ` +
            `heap ${round(loop.heapMiB)} MiB; built in ${round(loop.buildSeconds)} s`,
        );
      }
      if (wantDecision) {
        const d = await measureDecisions(built.bench, size, o);
        decisions.push(d);
        log(
          `decision ${size} futures: two-level p50 ${round(d.local.p50)} ms, p99 ${round(d.local.p99)} ms; ` +
            `one-level p50 ${round(d.central.p50)} ms, p99 ${round(d.central.p99)} ms`,
        );
      }
    }
  }
  let propagation: PropagationResult | undefined;
  if (o.parts.includes('propagation')) {
    propagation = await measurePropagation(o, log);
    log(
      `propagation to ${propagation.links} links, period ${o.periodMs} ms: max ${round(propagation.summary.max)} ms, ` +
        `p99 ${round(propagation.summary.p99)} ms, p50 ${round(propagation.summary.p50)} ms`,
    );
  }
  const seconds = (performance.now() - began) / 1000;
  const loadAverage = { start: round(loadAtStart), end: round(os.loadavg()[0] as number) };
  const { metrics, targets } = controlOutcome(o, loops, decisions, propagation);
  const dir = out.dir ?? resultsDir('control');
  const plots = await writeControlPlots(dir, loops, decisions);
  writeFile(
    dir,
    'result.json',
    JSON.stringify(
      { info: { ...info, seed: o.seed, seconds }, options: o, metrics, targets, loops, decisions, propagation },
      null,
      2,
    ) + '\n',
  );
  writeFile(
    dir,
    'report.md',
    controlReport(o, info, loops, decisions, propagation, targets, plots, seconds, loadAverage),
  );
  for (const [name, t] of Object.entries(targets)) {
    log(`${name}: ${t.value} ${t.op} ${t.target}: ${t.met ? 'met' : 'missed'}`);
  }
  log(`report: ${dir}/report.md`);
  console.log(closingLine('control', info.commit, metrics, targets));
  return 0;
}
