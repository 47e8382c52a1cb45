/** The markdown report of `npm run bench -- state` (load-tests/results/state/report.md). */
import os from 'node:os';
import type { RunInfo } from '../run-info';
import { round, type LatencySummary } from '../stats';
import type { HistoryResult } from './history';
import { historyMaxima, PLAIN_HISTORY_BUDGET_BYTES, type HistoryModeResult } from './history-stats';
import type { OpsResult } from './ops';
import type { StateBenchOptions } from './options';
import { TURN_BYTES } from './payloads';
import type { NotedTarget } from './targets';

/** The model call a state operation's p99 is compared with, ms. */
const MODEL_CALL_MS = 100;

function kib(bytes: number | undefined): string {
  return bytes === undefined ? '–' : `${round(bytes / 1024)}`;
}

function opsRow(name: string, op: string, s: LatencySummary): string {
  return `| ${name} | ${op} | ${s.count} | ${round(s.mean)} | ${round(s.p50)} | ${round(s.p95)} | ${round(s.p99)} | ${round(s.max)} |`;
}

/** The markdown report of one run: goals, the operations table, the history table, plots, where the raw data is. */
export function stateReport(
  o: StateBenchOptions,
  info: RunInfo,
  ops: OpsResult | undefined,
  history: HistoryResult | undefined,
  historyError: string | undefined,
  targets: Record<string, NotedTarget>,
  plots: string[],
): string {
  const lines: string[] = [
    '# State benchmark: state operations per backend, history size with and without offload',
    '',
    `Commit \`${info.commit}\`${info.dirty ? ' (with uncommitted changes)' : ''}, ${info.date}.`,
    `Machine: ${info.machine.cores} cores (${info.machine.cpu}), ${info.machine.memoryGiB} GiB, ${info.machine.platform}, Node ${info.node}.`,
    `Seed ${o.seed}. Temporal: ${history?.temporalVersion ?? 'not used'}. No simulator, no time scale and no policies are involved: the figures are the state layer's own.`,
    '',
    '## Goals',
    '',
    '| goal | value | target | met |',
    '|---|---|---|---|',
    ...Object.entries(targets).map(
      ([k, t]) =>
        `| ${k} | ${Number.isFinite(t.value) ? t.value : '–'} | ${t.op} ${t.target} | ${t.met ? 'yes' : 'no'}${t.note ? ` (${t.note})` : ''} |`,
    ),
    '',
  ];
  if (ops) {
    const ran = ops.variants.filter((v) => v.ops);
    const fastest = Math.min(...ran.map((v) => v.ops!.readWrite.p99));
    lines.push(
      '## State operations per backend',
      '',
      `One agent call = a read of the last 20 turns of its session's conversation (\`range(session, 'list:conversation', -20)\`)`,
      `and a write of one ${TURN_BYTES}-byte JSON turn (\`append\` with an opId \`<workflowId>/<activityId>/<n>\`, as \`ManagedList\` does);`,
      `a second pair does what \`ManagedMap\` does: \`get\` and \`put\` (with an opId) of a ~1 KB value under \`map:memory:slot-<0..3>\`.`,
      `${o.calls} measured calls per backend after ${o.warmup} warm-up calls, round-robin over ${o.sessions} sessions (each conversation grows to`,
      `${Math.ceil((o.calls + o.warmup) / o.sessions)} turns, so reads return up to 20 KB); ${o.schedule === 'interleaved' ? 'the backends are interleaved call by call, rotating which goes first,' : 'the backends run back to back (each alone on the machine, as a deployment runs one),'} with`,
      `the same values, one operation in flight at a time: these are service times of one`,
      `operation on an otherwise idle store, not latencies under load. Filesystem: a fresh folder under ${os.tmpdir()} (ext4 here, fsync on`,
      `every write); Redis ${o.redisUrl} (a key prefix unique to the run, deleted after); PostgreSQL ${o.postgresUrl.replace(/\/\/[^@]*@/, '//…@')}`,
      `(a schema unique to the run, dropped after). All on this machine, sharing its ${info.machine.cores} cores with this process. ${round(ops.seconds)} s in all;`,
      `1-minute load average ${round(ops.loadAverage.before)} before and ${round(ops.loadAverage.after)} after (other work on this shared machine shows in the tails:`,
      `see the p99 along the run in the plot below). \`<backend>+cache\` is the same backend behind a worker's state cache`,
      `(CachedSessionStore) on sessions that worker owns: a read costs a stamp read, plus the data on a miss.`,
      '',
      `| backend | read+write mean ms | p50 | p95 | p99 | max | p99 / fastest p99 | p99 share of a ${MODEL_CALL_MS} ms model call | failed ops |`,
      '|---|---|---|---|---|---|---|---|---|',
      ...ops.variants.map((v) => {
        if (!v.ops) return `| ${v.name} | skipped: ${v.reason} | | | | | | | |`;
        const s = v.ops.readWrite;
        return `| ${v.name} | ${round(s.mean)} | ${round(s.p50)} | ${round(s.p95)} | ${round(s.p99)} | ${round(s.max)} | ${round(s.p99 / fastest)} | ${round((100 * s.p99) / MODEL_CALL_MS)}% | ${v.ops.failed} |`;
      }),
      '',
      'Every operation (ms):',
      '',
      '| backend | op | count | mean | p50 | p95 | p99 | max |',
      '|---|---|---|---|---|---|---|---|',
      ...ran.flatMap((v) => [
        opsRow(v.name, 'read (range −20)', v.ops!.read),
        opsRow(v.name, 'write (append + opId)', v.ops!.write),
        opsRow(v.name, '**read + write per call**', v.ops!.readWrite),
        opsRow(v.name, 'map get', v.ops!.get),
        opsRow(v.name, 'map put + opId', v.ops!.put),
        opsRow(v.name, 'map get + put per call', v.ops!.getPut),
      ]),
      '',
      ...ops.variants.filter((v) => v.cleanupError).map((v) => `Cleanup of ${v.name} failed: ${v.cleanupError}.`),
      '',
    );
  }
  if (history || historyError) {
    lines.push('## Workflow history per agent step, with and without payload offload', '');
    if (!history) lines.push(`Not run: ${historyError}.`, '');
    else {
      lines.push(
        `A conversation loop on the real dev server (one in-process worker per mode; worker and client share`,
        `\`nalarDataConverter({ payloadOffload, payloadOffloadBytes: ${o.offloadBytes} })\` with a fresh blob folder): every agent step sends`,
        `the whole conversation to an activity that returns it with one ${TURN_BYTES}-byte turn appended. History bytes are the encoded`,
        `\`History\` protobuf of the run; bytes per step = (history of an S-step run − history of a 0-step run of the same`,
        `conversation) / S. Without offload, runs take fewer steps where the history would pass ${PLAIN_HISTORY_BUDGET_BYTES / 1024 / 1024} MiB (Temporal's limit is`,
        `50 MB, with a warning at 10 MB) and are not run where one payload would pass Temporal's 2 MB limit.`,
        '',
        '| conversation | offload | steps | 0-step history KiB | S-step history KiB | bytes per step | events per step | without / with |',
        '|---|---|---|---|---|---|---|---|',
      );
      for (const s of history.sizes) {
        const row = (m: HistoryModeResult, offload: boolean, ratio: string) =>
          m.ran
            ? `| ${s.sizeKiB} KiB | ${offload ? 'on' : 'off'} | ${m.steps} | ${kib(m.baselineBytes)} | ${kib(m.bytes)} | ${round(m.bytesPerStep!)} | ${round(m.eventsPerStep!)} | ${ratio} |`
            : `| ${s.sizeKiB} KiB | ${offload ? 'on' : 'off'} | – | – | – | not run: ${m.reason} | – | – |`;
        lines.push(
          row(s.withOffload, true, ''),
          row(s.withoutOffload, false, s.ratio === undefined ? '–' : `${round(s.ratio)}`),
        );
      }
      const { maxWith, maxAbove } = historyMaxima(history.sizes, o.offloadBytes);
      const below = history.sizes.filter((s) => s.sizeKiB * 1024 <= o.offloadBytes);
      lines.push(
        '',
        `A payload is offloaded only above ${o.offloadBytes} bytes: a conversation that starts below it${below.length ? ` (here: ${below.map((s) => `${s.sizeKiB} KiB`).join(', ')})` : ''}`,
        'is kept in history whole with offload on too until it passes the threshold, so its bytes per step are twice the',
        'conversation (activity input and result), as without offload. Largest bytes per step with offload over the sizes that',
        `start above the threshold: ${Number.isFinite(maxAbove) ? round(maxAbove) : '–'} (over all sizes, the goal's figure: ${Number.isFinite(maxWith) ? round(maxWith) : '–'}).`,
        `${round(history.seconds)} s in all.`,
        '',
      );
    }
  }
  lines.push(...plots.flatMap((p) => [p, '']));
  lines.push(
    'Raw records: `records.jsonl.gz` (one line per measured state operation, `part: "ops"`, and one per workflow run, `part: "history"`,',
    'with its history size after every step); all figures: `result.json`.',
    '',
  );
  return lines.join('\n');
}
