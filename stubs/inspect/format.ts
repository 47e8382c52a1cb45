/** The terminal table of `nalar futures`: one line per future, aligned columns, short ids (`#n`). */
import { shortFutureId } from '../workflow/summary';
import type { FutureRecord, FuturesReport } from './report';

/** `12.3ms`, `1.25s`, `2m05s`; `-` when unknown. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)}s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

/** Ids as `#n` (they all share the run's workflow id); at most `max` shown, then `+k`. */
function ids(list: readonly string[], max = 6): string {
  if (list.length === 0) return '-';
  const shown = list.slice(0, max).map(shortFutureId).join(',');
  return list.length > max ? `${shown},+${list.length - max}` : shown;
}

function row(f: FutureRecord): string[] {
  const error = f.error ? `${f.error.type ?? 'error'}: ${f.error.message}`.replace(/\s+/g, ' ') : '';
  return [
    shortFutureId(f.id),
    f.activityType,
    f.state,
    ids(f.dependencies),
    ids(f.consumers),
    String(f.attempts),
    formatDuration(f.firstQueueMs),
    formatDuration(f.waitMs),
    formatDuration(f.serviceMs),
    error.length > 80 ? `${error.slice(0, 79)}…` : error,
  ];
}

const header = [
  'FUTURE',
  'METHOD',
  'STATE',
  'DEPENDS ON',
  'CONSUMERS',
  'ATTEMPTS',
  'QUEUE',
  'WAIT',
  'SERVICE',
  'ERROR',
];
/** Columns aligned to the right (numbers). */
const rightAligned = new Set([5, 6, 7, 8]);

/**
 * The report as lines: a heading naming the run, then the table. QUEUE is the first attempt's queue time,
 * WAIT the time from scheduling to the latest attempt's start (queueing, earlier attempts and retry back-off),
 * SERVICE the latest attempt's run time.
 */
export function formatFuturesTable(report: FuturesReport): string[] {
  const lines = [
    `workflow ${report.workflowId}  run ${report.runId}  type ${report.workflowType}  ${report.status}`,
    `${report.futures.length} future${report.futures.length === 1 ? '' : 's'} (ids are #n of ${report.workflowId}/n)`,
  ];
  if (report.futures.length === 0) return lines;
  const rows = [header, ...report.futures.map(row)];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  lines.push('');
  for (const r of rows) {
    const cells = r.map((cell, i) =>
      rightAligned.has(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0),
    );
    lines.push(cells.join('  ').trimEnd());
  }
  return lines;
}
