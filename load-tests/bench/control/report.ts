/** The markdown report and the charts of `npm run bench -- control`. */
import type { RunInfo } from '../run-info';
import { writeFile } from '../run-info';
import { lineChart, type Series } from '../plot';
import { round } from '../stats';
import type { DecisionResult } from './decision';
import type { LoopResult } from './loop';
import type { ControlBenchOptions } from './options';
import type { NotedTarget } from './outcome';
import type { PropagationResult } from './propagation';
import { benchRetentionPeriods, benchVipSessions } from './loop';

const f = (x: number) => String(round(x));
const sizesOf = (loops: readonly LoopResult[]) => [...new Set(loops.map((l) => l.size))].sort((a, b) => a - b);

/** Writes the SVG charts into `dir`; returns their file names. */
export async function writeControlPlots(
  dir: string,
  loops: readonly LoopResult[],
  decisions: readonly DecisionResult[],
): Promise<string[]> {
  const files: string[] = [];
  const nodeCounts = [...new Set(loops.map((l) => l.nodes))].sort((a, b) => a - b);
  if (loops.length > 0) {
    const series: Series[] = [];
    for (const n of nodeCounts) {
      const of = loops.filter((l) => l.nodes === n);
      series.push({ name: `round p95, ${n} nodes`, points: of.map((l) => ({ x: l.size, y: l.totalMs.p95 })) });
      series.push({ name: `round median, ${n} nodes`, points: of.map((l) => ({ x: l.size, y: l.totalMs.p50 })) });
      series.push({
        name: `collection median, ${n} nodes`,
        points: of.map((l) => ({ x: l.size, y: l.collectMs.p50 })),
      });
      series.push({ name: `policy median, ${n} nodes`, points: of.map((l) => ({ x: l.size, y: l.policyMs.p50 })) });
    }
    writeFile(
      dir,
      'loop.svg',
      await lineChart(series, {
        title: 'Global control loop time against live futures (Figure 10)',
        xLabel: 'live futures',
        yLabel: 'ms per round',
        logX: true,
      }),
    );
    const memory = nodeCounts.map((n) => ({
      name: `controller heap, ${n} nodes`,
      points: loops
        .filter((l) => l.nodes === n && Number.isFinite(l.heapMiB))
        .map((l) => ({ x: l.size, y: l.heapMiB })),
    }));
    writeFile(
      dir,
      'memory.svg',
      await lineChart(memory, { title: 'Global controller heap', xLabel: 'live futures', yLabel: 'MiB', logX: true }),
    );
    files.push('loop.svg', 'memory.svg');
  }
  if (decisions.length > 0) {
    const pts = (pick: (d: DecisionResult) => number) => decisions.map((d) => ({ x: d.size, y: pick(d) }));
    writeFile(
      dir,
      'decision-central.svg',
      await lineChart(
        [
          { name: 'one-level p50', points: pts((d) => d.central.p50) },
          { name: 'one-level p99', points: pts((d) => d.central.p99) },
        ],
        {
          title: 'One-level: every call asks the global controller',
          xLabel: 'live futures',
          yLabel: 'ms per decision',
          logX: true,
        },
      ),
    );
    writeFile(
      dir,
      'decision-local.svg',
      await lineChart(
        [
          { name: 'two-level p50', points: pts((d) => d.local.p50) },
          { name: 'two-level p99', points: pts((d) => d.local.p99) },
        ],
        {
          title: 'Two-level: the local controller decides',
          xLabel: 'live futures',
          yLabel: 'ms per decision',
          logX: true,
        },
      ),
    );
    files.push('decision-central.svg', 'decision-local.svg');
  }
  return files;
}

export function controlReport(
  o: ControlBenchOptions,
  info: RunInfo,
  loops: readonly LoopResult[],
  decisions: readonly DecisionResult[],
  propagation: PropagationResult | undefined,
  targets: Record<string, NotedTarget>,
  plots: readonly string[],
  seconds: number,
  loadAverage: { start: number; end: number },
): string {
  const lines: string[] = [];
  lines.push('# Control plane at scale (`npm run bench -- control`)', '');
  lines.push(
    `Commit \`${info.commit}\`${info.dirty ? ' (with uncommitted changes)' : ''}, ${info.date}; ${info.machine.cores} cores ` +
      `(${info.machine.cpu}), ${info.machine.memoryGiB} GiB, Node ${info.node}. Seed ${o.seed}, control period ` +
      `${o.periodMs} ms, policies: the defaults (load-balance, hol-migration, high-priority with sessions ` +
      `${benchVipSessions.join(', ')}). No Temporal server and no simulator: the global controller is fed emulated ` +
      `local controllers' reports. Run time ${f(seconds)} s; 1-minute load average ${loadAverage.start} at the start, ` +
      `${loadAverage.end} at the end (other processes share the ${info.machine.cores} cores: a slow round may be theirs).`,
    '',
  );
  lines.push('## Targets', '', '| goal | value | target | met |', '| --- | --- | --- | --- |');
  for (const [name, t] of Object.entries(targets)) {
    lines.push(
      `| ${name} | ${f(t.value)} | ${t.op} ${t.target} | ${t.met ? 'yes' : 'no'}${t.note ? ` (${t.note})` : ''} |`,
    );
  }
  lines.push('');
  if (loops.length > 0) {
    lines.push(
      '## 1. Global loop time against live futures',
      '',
      `Each size is a seeded synthetic cluster: workflows of 8-16 futures in dependency layers (fan-out, fan-in), ` +
        `two workflows per session, 4 agents with 8 replicas each (capacity 64), every 100th session a vip one. ` +
        `The real GlobalController gets one report per node (JSON text, \`JSON.parse\` + the protocol's zod schema, ` +
        `as its server does) that brings every future in; then ${o.warmupRounds} warm-up and ${o.rounds} measured rounds, in each ` +
        `of which every node reports a churn batch: events for about ${o.churnShare * 100}% of the futures (a layer ` +
        `completing with its finished calls, the next starting, a finished workflow replaced by a new one), its ` +
        `waiting calls (about ${o.waitingShare * 100}% of the futures, with their waits) and its replica loads. ` +
        `**Collection** = parse + validate of the round's reports + the controller's merge and expiry; **policy** = ` +
        `the round's policy phase (the three default policies and the decisions). Finished workflows are kept ` +
        `${benchRetentionPeriods} periods (so the graph keeps its size under churn). The round is timed on one ` +
        `thread; the target statistic is the p95 over rounds of collection + policy at the largest node count. ` +
        `Heap: the controller's heap for the graph after a full GC.`,
      '',
      '| futures | nodes | live at start / end | events per round | waiting calls | report MiB per round | collection p50 (parse + merge) | policy p50 | round p50 | round p95 | heap MiB | policy skips | pins |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const l of loops) {
      lines.push(
        `| ${l.size} | ${l.nodes} | ${l.liveFutures} / ${l.liveFuturesAtEnd} | ${f(l.eventsPerRound)} | ${l.waitingCalls} | ` +
          `${f(l.reportBytesPerRound / 2 ** 20)} | ${f(l.collectMs.p50)} (${f(l.parseMs.p50)} + ${f(l.mergeMs.p50)}) | ` +
          `${f(l.policyMs.p50)} | ${f(l.totalMs.p50)} | ${f(l.totalMs.p95)} | ${f(l.heapMiB)} | ${l.policySkips} | ${l.pins} |`,
      );
    }
    const skipped = loops
      .filter((l) => l.policySkips > 0)
      .map((l) => `${l.size} futures on ${l.nodes} nodes (${l.policySkips})`);
    lines.push(
      '',
      'A policy skip is a round where one policy ran past its budget (20% of the period): its actions were ' +
        'discarded for that round, but its time is in the figures. ' +
        (skipped.length > 0 ? `Skips in this run: ${skipped.join(', ')}.` : 'No policy was skipped in this run.'),
      '',
      '| futures | ' + sizesOf(loops).join(' | ') + ' |',
      '| --- | ' +
        sizesOf(loops)
          .map(() => '---')
          .join(' | ') +
        ' |',
    );
    for (const n of [...new Set(loops.map((l) => l.nodes))].sort((a, b) => a - b)) {
      const of = loops.filter((l) => l.nodes === n);
      const base = of[0]?.totalMs.p95 ?? NaN;
      lines.push(
        `| round p95 vs the smallest size, ${n} nodes | ` + of.map((l) => f(l.totalMs.p95 / base)).join(' | ') + ' |',
      );
    }
    lines.push('');
  }
  if (decisions.length > 0) {
    lines.push(
      '## 2. Time per routing decision: two-level vs one-level',
      '',
      `**Two-level**: a real LocalController whose dispatcher installed the global controller's decisions at that ` +
        `size (its decisions JSON, zod-validated as the link does); one decision is acquire (a random session of the ` +
        `graph, a random agent, room on the replica) until the lease, then release; ${o.localCalls} measured calls. ` +
        `**One-level**: every call is a POST to the real controller server on loopback (a bench-only route, ` +
        `load-tests/bench/control/one-level.ts) where the controller runs the default policies over its live view ` +
        `for that call and answers its replica and priority; ${o.centralCalls} measured calls, one at a time. Same ` +
        `controller and graph as part 1 at the largest node count.`,
      '',
      '| futures | two-level p50 ms | two-level p99 ms | one-level p50 ms | one-level p99 ms | one-level / two-level (p50) | pins installed |',
      '| --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const d of decisions) {
      lines.push(
        `| ${d.size} | ${f(d.local.p50)} | ${f(d.local.p99)} | ${f(d.central.p50)} | ${f(d.central.p99)} | ` +
          `${f(d.central.p50 / d.local.p50)} | ${d.installed.pins} |`,
      );
    }
    lines.push(
      '',
      'Paper (Table 4): 1.2 → 72.3 ms per decision centralised (1K → 131K futures); 0.1-0.4 ms two-level.',
      '',
    );
  }
  if (propagation) {
    const s = propagation.summary;
    lines.push(
      '## 3. Policy propagation',
      '',
      `A real controller server (its own loop every ${propagation.periodMs} ms) and ${propagation.links} real ` +
        `GlobalLinks (reports every period, decisions by HTTP long poll, loopback). A trial records on node 0 a ` +
        `future of a new vip session; high-priority gives it priority 1 at the next round. Time from node 0's POST ` +
        `of that report to the last link's install of the new version (it includes waiting for the next round, up ` +
        `to one period). ${propagation.trials} trials, ${propagation.timedOut} timed out.`,
      '',
      '| period ms | links | mean | p50 | p95 | p99 | max |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      `| ${propagation.periodMs} | ${propagation.links} | ${f(s.mean)} | ${f(s.p50)} | ${f(s.p95)} | ${f(s.p99)} | ${f(s.max)} |`,
      '',
    );
  }
  if (plots.length > 0) {
    lines.push('## Charts', '');
    for (const p of plots) lines.push(`![${p}](${p})`, '');
  }
  return lines.join('\n');
}
