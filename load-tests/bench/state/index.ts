/**
 * `npm run bench -- state`: what managed state costs an agent call, and what payload offload saves in
 * workflow history.
 *
 * 1. State operations per backend (ops.ts; filesystem, Redis, PostgreSQL on real servers, each also behind
 *    a worker's state cache): the read of the last 20 turns plus the write of one ~1 KB turn of an agent
 *    call, and a map get and put, with the same seeded values for every backend, one operation in flight.
 * 2. History size on the real dev server (history.ts): a conversation loop that passes the whole
 *    conversation through an activity every step, with payload offload on and off; bytes of history per
 *    agent step are the history of an S-step run minus that of a 0-step run of the same conversation, over S.
 *
 * Writes load-tests/results/state/ (report.md, plots, result.json, records.jsonl.gz) and ends with the one
 * closing JSON line. Exits 1 only when the history part could not run at all.
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { closingLine, resultsDir, runInfo, writeFile } from '../run-info';
import { round } from '../stats';
import { errorText } from './error-text';
import { runHistory, type HistoryResult } from './history';
import { runOps, type OpsResult } from './ops';
import type { StateBenchOptions } from './options';
import { writeStatePlots } from './plots';
import { stateReport } from './report';
import { stateBenchOutcome } from './targets';

export { parseStateBenchOptions, stateBenchUsage, type StateBenchOptions } from './options';

/** Runs the parts `o.parts` names, writes the results, prints the closing line; returns the exit code. */
export async function runStateBench(o: StateBenchOptions, log: (line: string) => void): Promise<number> {
  const info = runInfo();
  const runId = randomBytes(4).toString('hex');
  let ops: OpsResult | undefined;
  let history: HistoryResult | undefined;
  let historyError: string | undefined;
  if (o.parts.includes('ops')) ops = await runOps(o, runId, log);
  if (o.parts.includes('history')) {
    try {
      history = await runHistory(o, runId, log);
    } catch (err) {
      historyError = errorText(err);
      log(`history: could not run (${historyError})`);
    }
  }
  const { metrics, targets } = stateBenchOutcome(o, ops, history, historyError);

  const dir = resultsDir('state');
  const records = [...(ops?.records ?? []), ...(history?.records ?? [])];
  writeFile(dir, 'records.jsonl.gz', gzipSync(records.map((r) => JSON.stringify(r)).join('\n') + '\n'));
  const plots = await writeStatePlots(dir, o, ops, history);
  const result = {
    info: { ...info, temporal: history?.temporalVersion ?? null, seed: o.seed, runId },
    options: o,
    metrics,
    targets,
    ops: ops && { seconds: ops.seconds, loadAverage: ops.loadAverage, variants: ops.variants },
    history: history && { seconds: history.seconds, sizes: history.sizes },
    ...(historyError && { historyError }),
  };
  writeFile(dir, 'result.json', JSON.stringify(result, null, 2) + '\n');
  writeFile(dir, 'report.md', stateReport(o, info, ops, history, historyError, targets, plots));

  for (const v of ops?.variants ?? []) {
    if (v.ops) {
      log(
        `${v.name}: read+write per call p50 ${round(v.ops.readWrite.p50)} ms, p99 ${round(v.ops.readWrite.p99)} ms ` +
          `(read p99 ${round(v.ops.read.p99)}, write p99 ${round(v.ops.write.p99)}); ${v.ops.failed} failed`,
      );
    } else log(`${v.name}: skipped (${v.reason})`);
  }
  for (const s of history?.sizes ?? []) {
    const withOffload = s.withOffload.bytesPerStep === undefined ? '–' : round(s.withOffload.bytesPerStep);
    const without =
      s.withoutOffload.bytesPerStep === undefined
        ? `– (${s.withoutOffload.reason})`
        : round(s.withoutOffload.bytesPerStep);
    log(
      `${s.sizeKiB} KiB conversation: ${withOffload} history bytes per step with offload, ${without} without` +
        (s.ratio === undefined ? '' : ` (ratio ${round(s.ratio)})`),
    );
  }
  log(`report: ${dir}/report.md`);
  console.log(closingLine('state', info.commit, metrics, targets));
  return historyError ? 1 : 0;
}
