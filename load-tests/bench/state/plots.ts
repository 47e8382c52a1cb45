/**
 * The charts of `npm run bench -- state`: p99 of read + write per store variant along the run, and history
 * size per agent step with and without offload. Written next to the report; returns its image lines.
 */
import { lineChart, type Series } from '../plot';
import { writeFile } from '../run-info';
import { round } from '../stats';
import type { HistoryResult } from './history';
import type { HistoryRunRecord } from './history-stats';
import type { OpsResult } from './ops';
import type { StateBenchOptions } from './options';

/** Writes the charts this run has data for into `dir`; returns the markdown image lines for the report. */
export async function writeStatePlots(
  dir: string,
  o: StateBenchOptions,
  ops: OpsResult | undefined,
  history: HistoryResult | undefined,
): Promise<string[]> {
  const plots: string[] = [];
  const ran = (ops?.variants ?? []).filter((v) => v.ops);
  if (ran.length) {
    const series: Series[] = ran.map((v) => ({
      name: v.name,
      points: v.ops!.windows.filter((w) => Number.isFinite(w.p99)).map((w) => ({ x: w.calls, y: round(w.p99) })),
    }));
    const svg = await lineChart(series, {
      title: `Read + write per agent call: p99 per ${Math.round(o.calls / 10)} calls`,
      xLabel: 'measured calls (conversations grow along the run)',
      yLabel: 'p99 ms',
    });
    writeFile(dir, 'state-p99.svg', svg);
    plots.push('![p99 of read + write per backend along the run](state-p99.svg)');
  }
  const historyRuns = (history?.records ?? []).filter((r) => r.ok && r.steps > 0 && r.afterStep);
  if (historyRuns.length) {
    const toSeries = (runs: HistoryRunRecord[], unit: number): Series[] =>
      runs.map((r) => ({
        name: `${r.sizeKiB} KiB, offload ${r.offload ? 'on' : 'off'}`,
        points: r.afterStep!.map((b, step) => ({ x: step, y: round(b / unit) })),
      }));
    // Conversations below the threshold are not offloaded and would flatten this chart; the next one has them.
    const withRuns = historyRuns.filter((r) => r.offload && r.sizeKiB * 1024 > o.offloadBytes);
    if (withRuns.length) {
      const svg = await lineChart(toSeries(withRuns, 1024), {
        title: 'History size per agent step, offload on (offloaded sizes)',
        xLabel: 'agent steps',
        yLabel: 'history KiB',
      });
      writeFile(dir, 'history-offload.svg', svg);
      plots.push('![history size along the run with offload](history-offload.svg)');
    }
    const svg = await lineChart(toSeries(historyRuns, 1024 * 1024), {
      title: 'History size per agent step, offload on and off',
      xLabel: 'agent steps',
      yLabel: 'history MiB',
    });
    writeFile(dir, 'history-all.svg', svg);
    plots.push('![history size along the run, with and without offload](history-all.svg)');
  }
  return plots;
}
