/**
 * The statistics of the state operations part: from the raw per-operation records to the per-call figures
 * the goal is judged on (read + write of one agent call).
 */
import { summarize, type LatencySummary } from '../stats';

/** The four store operations of one agent call. */
export type OpName = 'range' | 'append' | 'get' | 'put';

/** One measured store operation (a line of records.jsonl.gz). */
export interface OpRecord {
  part: 'ops';
  variant: string;
  /** Measured call number (0-based; warm-up calls are not recorded). */
  call: number;
  session: number;
  op: OpName;
  ms: number;
  ok: boolean;
  /** range: items returned; append: list length after. */
  n?: number;
  error?: string;
}

/** Latency summaries of one variant, ms. */
export interface VariantOps {
  read: LatencySummary;
  write: LatencySummary;
  readWrite: LatencySummary;
  get: LatencySummary;
  put: LatencySummary;
  getPut: LatencySummary;
  failed: number;
  /** p99 of read + write per window of calls, for the plot. */
  windows: { calls: number; p99: number }[];
}

/**
 * The latency summaries of variant `name` over its measured calls `0..calls-1`: each operation alone, and
 * the read + write (and get + put) of one call added up, counted only for calls where both succeeded; failed
 * operations are counted, not timed; and the p99 of read + write in ten windows along the run.
 */
export function summarizeOps(records: readonly OpRecord[], name: string, calls: number): VariantOps {
  const mine = records.filter((r) => r.variant === name);
  const byCall = (op: OpName) => {
    const m = new Map<number, number>();
    for (const r of mine) if (r.op === op && r.ok) m.set(r.call, r.ms);
    return m;
  };
  const [range, append, get, put] = (['range', 'append', 'get', 'put'] as const).map(byCall) as [
    Map<number, number>,
    Map<number, number>,
    Map<number, number>,
    Map<number, number>,
  ];
  const pairSums = (a: Map<number, number>, b: Map<number, number>) => {
    const sums = new Map<number, number>();
    for (const [call, ms] of a) {
      const other = b.get(call);
      if (other !== undefined) sums.set(call, ms + other);
    }
    return sums;
  };
  const readWrite = pairSums(range, append);
  const windowCount = Math.min(10, calls);
  const windows = Array.from({ length: windowCount }, (_, w) => {
    const lo = Math.floor((w * calls) / windowCount);
    const hi = Math.floor(((w + 1) * calls) / windowCount);
    const values = [...readWrite].filter(([c]) => c >= lo && c < hi).map(([, ms]) => ms);
    return { calls: hi, p99: summarize(values).p99 };
  });
  return {
    read: summarize([...range.values()]),
    write: summarize([...append.values()]),
    readWrite: summarize([...readWrite.values()]),
    get: summarize([...get.values()]),
    put: summarize([...put.values()]),
    getPut: summarize([...pairSums(get, put).values()]),
    failed: mine.filter((r) => !r.ok).length,
    windows,
  };
}
