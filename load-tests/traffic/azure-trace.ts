/**
 * Request traffic in the shape of the public Azure LLM inference traces 2023 (Patel et al., "Splitwise",
 * ISCA 2024; github.com/Azure/AzurePublicDataset, AzureLLMInferenceDataset2023.md): a seeded synthesizer
 * of a two-kind trace (chat = the conversation service, coding = the code-completion service) whose mix
 * alternates between phases dominated by one kind, and a reader of the real trace files.
 *
 * Every parameter, where it comes from and why, is in README.md next to this file.
 */
import { readFileSync } from 'node:fs';
import { Prng, seedFrom } from '../../sim/prng';

/** The two request types of the router workload: conversation traffic and code traffic. */
export type RequestKind = 'chat' | 'coding';

/** One request of a trace. */
export interface TraceRequest {
  /** Arrival offset from the start of the trace, in milliseconds (real time of the benchmark). */
  atMs: number;
  kind: RequestKind;
  /** Prompt (context) tokens, in [1, TRACE_CAPS.promptTokens]. */
  promptTokens: number;
  /** Tokens to generate, in [1, TRACE_CAPS.outputTokens]. */
  outputTokens: number;
}

/** Options of {@link synthesizeTrace}. */
export interface SynthesizeOptions {
  /** Length of the trace (ms); arrivals fall in [0, durationMs). */
  durationMs: number;
  /** Arrivals per second, averaged over the trace: the trace holds round(meanRate × durationMs / 1000) requests. */
  meanRate: number;
  /** Seed: the same options give the same trace, on every platform. */
  seed: number;
  /** share of the dominant kind in each phase; >= 0.9 per the issue. @default 0.95 */
  imbalance?: number;
  /** phases: the dominant kind alternates chat → coding → chat …; @default 2 (first half chat-heavy, second half coding-heavy) */
  phases?: number;
}

/** Default share of the dominant kind in a phase (the issue asks for an imbalance above 90%). */
export const DEFAULT_IMBALANCE = 0.95;
/** Default number of phases: the first half of the trace is chat-heavy, the second coding-heavy. */
export const DEFAULT_PHASES = 2;

/**
 * Length caps, so that every request fits one simulator replica: prompt + output ≤ 8192 tokens, the context
 * length of the 8B model the simulator's default profile models (Llama-3-8B), far below its 400K-token KV
 * cache. The 2023 code trace itself never exceeds 7437 prompt tokens (an 8K-context model); the conversation
 * trace has a few prompts up to 14050 and outputs up to 1000.
 */
export const TRACE_CAPS = { promptTokens: 7168, outputTokens: 1024 } as const;

/** Lognormal length distribution: `median × exp(sigma × N(0,1))`, rounded, clamped to [1, cap]. */
export interface LengthShape {
  median: number;
  sigma: number;
}

/** Per-kind shape of the synthetic trace, fitted to the 2023 trace files (README.md: "Parameters"). */
export interface KindShape {
  prompt: LengthShape;
  output: LengthShape;
  /**
   * Burstiness: the arrival intensity of this kind is redrawn every {@link BURST_WINDOW_MS} from a Gamma
   * distribution with mean 1 and this coefficient of variation (0 = plain Poisson).
   */
  intensityCv: number;
}

/** Length of a window of constant arrival intensity (the 1-second windows the burstiness was measured on). */
export const BURST_WINDOW_MS = 1000;

/**
 * The shape of each kind. Medians: the trace files' medians; sigma: fitted on the interquartile range
 * (ln(q75/q25) / 1.349, robust to the caps); intensityCv: sqrt((D − 1) / m) of the 1-second arrival counts
 * (D their variance/mean, m their mean), measured over the active part of each file.
 */
export const AZURE_2023_SHAPE: Readonly<Record<RequestKind, KindShape>> = {
  chat: { prompt: { median: 1020, sigma: 0.815 }, output: { median: 129, sigma: 1.139 }, intensityCv: 0.26 },
  coding: { prompt: { median: 1469, sigma: 1.155 }, output: { median: 13, sigma: 0.727 }, intensityCv: 1.2 },
};

/** The dominant kind of phase `index` (0-based): chat, coding, chat, … */
export function phaseKind(index: number): RequestKind {
  return index % 2 === 0 ? 'chat' : 'coding';
}

/**
 * A synthetic trace, sorted by `atMs`. Same options → same trace (seeded mulberry32 streams derived with
 * FNV-1a from the seed, one per phase and kind and purpose).
 *
 * How: the trace holds N = round(meanRate × durationMs / 1000) requests, split evenly over `phases` equal
 * phases (the remainder to the first ones); in each phase round(imbalance × n) are of the dominant kind and
 * the rest of the other. The arrival times of one kind in one phase follow a Gamma-modulated (doubly
 * stochastic) Poisson process conditioned on its count: every 1-second window gets an intensity drawn from
 * Gamma(mean 1, CV = the kind's `intensityCv`), and each arrival falls in a window with probability
 * proportional to it, uniformly inside it. Lengths are lognormal per kind, capped by {@link TRACE_CAPS}.
 *
 * @throws RangeError for a non-positive duration, a negative rate, an imbalance outside [0.5, 1] or a
 *   number of phases that is not a positive integer.
 */
export function synthesizeTrace(o: SynthesizeOptions): TraceRequest[] {
  const imbalance = o.imbalance ?? DEFAULT_IMBALANCE;
  const phases = o.phases ?? DEFAULT_PHASES;
  if (!(o.durationMs > 0 && Number.isFinite(o.durationMs))) {
    throw new RangeError(`synthesizeTrace: durationMs must be a positive number, got ${o.durationMs}`);
  }
  if (!(o.meanRate >= 0 && Number.isFinite(o.meanRate))) {
    throw new RangeError(`synthesizeTrace: meanRate must be a non-negative number, got ${o.meanRate}`);
  }
  if (!(imbalance >= 0.5 && imbalance <= 1)) {
    throw new RangeError(
      `synthesizeTrace: imbalance must be in [0.5, 1] (share of the dominant kind), got ${imbalance}`,
    );
  }
  if (!Number.isInteger(phases) || phases < 1) {
    throw new RangeError(`synthesizeTrace: phases must be a positive integer, got ${phases}`);
  }
  const total = Math.round((o.meanRate * o.durationMs) / 1000);
  const phaseMs = o.durationMs / phases;
  const out: TraceRequest[] = [];
  for (let p = 0; p < phases; p++) {
    const n = Math.floor(total / phases) + (p < total % phases ? 1 : 0);
    const dominant = phaseKind(p);
    const other: RequestKind = dominant === 'chat' ? 'coding' : 'chat';
    const nDominant = Math.round(imbalance * n);
    for (const [kind, count] of [
      [dominant, nDominant],
      [other, n - nDominant],
    ] as const) {
      const start = p * phaseMs;
      const times = burstyTimes(
        new Prng(seedFrom(o.seed, 'arrivals', p, kind)),
        count,
        phaseMs,
        AZURE_2023_SHAPE[kind],
      );
      const lengths = new Prng(seedFrom(o.seed, 'lengths', p, kind));
      for (const t of times) {
        out.push({ atMs: start + t, kind, ...drawLengths(lengths, AZURE_2023_SHAPE[kind]) });
      }
    }
  }
  return out.sort(byArrival);
}

function byArrival(a: TraceRequest, b: TraceRequest): number {
  return a.atMs - b.atMs || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0);
}

/** `count` arrival offsets in [0, spanMs) from a Gamma-modulated Poisson process conditioned on the count. */
function burstyTimes(rng: Prng, count: number, spanMs: number, shape: KindShape): number[] {
  if (count === 0) return [];
  const windows = Math.max(1, Math.ceil(spanMs / BURST_WINDOW_MS));
  const cumulative: number[] = [];
  let sum = 0;
  for (let w = 0; w < windows; w++) {
    const width = Math.min(BURST_WINDOW_MS, spanMs - w * BURST_WINDOW_MS);
    sum += gammaMeanOne(rng, shape.intensityCv) * width;
    cumulative.push(sum);
  }
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const w = firstAbove(cumulative, rng.next() * sum);
    const width = Math.min(BURST_WINDOW_MS, spanMs - w * BURST_WINDOW_MS);
    times.push(w * BURST_WINDOW_MS + rng.next() * width);
  }
  return times;
}

/** Index of the first element of the ascending `cumulative` greater than `x` (the last one if none). */
function firstAbove(cumulative: readonly number[], x: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((cumulative[mid] as number) > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Gamma sample with mean 1 and coefficient of variation `cv` (shape 1/cv²); exactly 1 when cv is 0. */
function gammaMeanOne(rng: Prng, cv: number): number {
  if (cv <= 0) return 1;
  const k = 1 / (cv * cv);
  return gamma(rng, k) / k;
}

/** Gamma(shape k, scale 1) by Marsaglia and Tsang; for k < 1 boosted with Gamma(k + 1) × U^(1/k). */
function gamma(rng: Prng, k: number): number {
  if (k < 1) return gamma(rng, k + 1) * Math.pow(1 - rng.next(), 1 / k);
  const d = k - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = rng.normal();
    const v0 = 1 + c * x;
    if (v0 <= 0) continue;
    const v = v0 * v0 * v0;
    const u = 1 - rng.next();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

function drawLengths(rng: Prng, shape: KindShape): Pick<TraceRequest, 'promptTokens' | 'outputTokens'> {
  return {
    promptTokens: capTokens(rng.lognormal(shape.prompt.median, shape.prompt.sigma), TRACE_CAPS.promptTokens),
    outputTokens: capTokens(rng.lognormal(shape.output.median, shape.output.sigma), TRACE_CAPS.outputTokens),
  };
}

function capTokens(x: number, cap: number): number {
  return Math.min(cap, Math.max(1, Math.round(x)));
}

// ---------------------------------------------------------------------------------------------------------
// Real trace files
// ---------------------------------------------------------------------------------------------------------

const KIND_NAMES: Readonly<Record<string, RequestKind>> = {
  chat: 'chat',
  conv: 'chat',
  conversation: 'chat',
  coding: 'coding',
  code: 'coding',
};

/** One row of a trace file, before rescaling. */
export interface TraceFileRow {
  /** Arrival, epoch ms (UTC). */
  epochMs: number;
  kind: RequestKind;
  promptTokens: number;
  outputTokens: number;
}

/**
 * Reads a real Azure LLM inference trace CSV (TIMESTAMP,ContextTokens,GeneratedTokens; the 2023 code and
 * conversation files; a kind per file or a column), rescaled to meanRate and cut to durationMs.
 *
 * - Columns are found by name in the header (any order; extra columns ignored). An optional `kind` column
 *   (chat|coding, or conv|conversation|code) overrides the file's kind row by row.
 * - TIMESTAMP: `YYYY-MM-DD HH:MM:SS[.fraction]` (the files' format, read as UTC; `T` and a trailing `Z`
 *   accepted). All files share one time origin, the earliest request of any of them, so files recorded at
 *   the same time keep their interleaving.
 * - Rescaling: the trace's own rate is (requests − 1) / (last − first arrival); with `meanRate`, time is
 *   stretched or compressed by ownRate / meanRate (burst shape kept, only faster or slower). Without it,
 *   the trace plays at its own pace.
 * - Cutting: requests at `atMs < durationMs` are kept; a trace shorter than `durationMs` repeats (the next
 *   copy starts one mean inter-arrival gap after the last request).
 * - Lengths are clamped to [1, {@link TRACE_CAPS}] like synthetic ones.
 *
 * @throws Error naming the file and line of a bad row (wrong column count, bad timestamp, a token count
 *   that is not a non-negative integer, an unknown kind), a header lacking a column, or no requests at all.
 */
export function readAzureTrace(
  files: { path: string; kind: RequestKind }[],
  o: { durationMs: number; meanRate?: number },
): TraceRequest[] {
  if (!(o.durationMs > 0 && Number.isFinite(o.durationMs))) {
    throw new RangeError(`readAzureTrace: durationMs must be a positive number, got ${o.durationMs}`);
  }
  if (o.meanRate !== undefined && !(o.meanRate > 0 && Number.isFinite(o.meanRate))) {
    throw new RangeError(`readAzureTrace: meanRate must be a positive number, got ${o.meanRate}`);
  }
  const rows = files.flatMap((f) => parseTraceCsv(readFileSync(f.path, 'utf8'), f.path, f.kind));
  if (rows.length === 0) {
    throw new Error(`readAzureTrace: no requests in ${files.map((f) => f.path).join(', ') || '(no files)'}`);
  }
  rows.sort((a, b) => a.epochMs - b.epochMs);
  const first = (rows[0] as TraceFileRow).epochMs;
  const spanMs = (rows[rows.length - 1] as TraceFileRow).epochMs - first;
  // One period of the trace is its span plus one mean gap, so that repeating it keeps its rate. A trace of
  // one request, or whose requests all arrive at once, has no rate of its own: its period is one second.
  const periodMs = spanMs > 0 && rows.length >= 2 ? (spanMs * rows.length) / (rows.length - 1) : 1000;
  const ownRate = rows.length / (periodMs / 1000);
  const scale = o.meanRate === undefined ? 1 : ownRate / o.meanRate;
  const out: TraceRequest[] = [];
  for (let copy = 0; ; copy++) {
    const offset = copy * periodMs * scale;
    if (offset >= o.durationMs) break;
    for (const r of rows) {
      const atMs = offset + (r.epochMs - first) * scale;
      if (atMs >= o.durationMs) break;
      out.push({
        atMs,
        kind: r.kind,
        promptTokens: capTokens(r.promptTokens, TRACE_CAPS.promptTokens),
        outputTokens: capTokens(r.outputTokens, TRACE_CAPS.outputTokens),
      });
    }
  }
  return out;
}

/** Parses one trace file's text; `label` names it in errors. Exported for tests. */
export function parseTraceCsv(text: string, label: string, fileKind: RequestKind): TraceFileRow[] {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '')
    .replace(/^\uFEFF/, '')
    .split(',')
    .map((h) => h.trim());
  const col = (name: string): number => header.findIndex((h) => h.toLowerCase() === name.toLowerCase());
  const iTime = col('TIMESTAMP');
  const iPrompt = col('ContextTokens');
  const iOutput = col('GeneratedTokens');
  const iKind = col('kind');
  const missing = [
    ['TIMESTAMP', iTime],
    ['ContextTokens', iPrompt],
    ['GeneratedTokens', iOutput],
  ].filter(([, i]) => i === -1);
  if (missing.length > 0) {
    throw new Error(
      `${label}:1: header lacks column(s) ${missing.map(([n]) => n).join(', ')} ` +
        `(expected TIMESTAMP,ContextTokens,GeneratedTokens[,kind]; got "${lines[0] ?? ''}")`,
    );
  }
  const rows: TraceFileRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '') continue;
    const where = `${label}:${i + 1}`;
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length !== header.length) {
      throw new Error(`${where}: expected ${header.length} columns, got ${cells.length}: "${line}"`);
    }
    const epochMs = parseTimestamp(cells[iTime] as string);
    if (epochMs === undefined) {
      throw new Error(`${where}: TIMESTAMP "${cells[iTime]}" is not YYYY-MM-DD HH:MM:SS[.fraction]`);
    }
    let kind = fileKind;
    if (iKind !== -1) {
      const named = KIND_NAMES[(cells[iKind] as string).toLowerCase()];
      if (named === undefined) {
        throw new Error(`${where}: kind "${cells[iKind]}" is not one of ${Object.keys(KIND_NAMES).join(', ')}`);
      }
      kind = named;
    }
    rows.push({
      epochMs,
      kind,
      promptTokens: parseCount(cells[iPrompt] as string, where, 'ContextTokens'),
      outputTokens: parseCount(cells[iOutput] as string, where, 'GeneratedTokens'),
    });
  }
  return rows;
}

function parseCount(cell: string, where: string, column: string): number {
  if (!/^\d+$/.test(cell)) throw new Error(`${where}: ${column} "${cell}" is not a non-negative integer`);
  return Number(cell);
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z?$/;

/** Epoch ms (fractional, to the microsecond) of a trace timestamp read as UTC, or undefined if malformed. */
function parseTimestamp(cell: string): number | undefined {
  const m = TIMESTAMP.exec(cell);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac] = m;
  const whole = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(whole) || Number(mo) > 12 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) {
    return undefined;
  }
  // Microsecond precision is plenty and keeps epoch ms exact in a double.
  return whole + (frac ? Math.round(Number(`0.${frac}`) * 1e6) / 1e3 : 0);
}

/** Where {@link formatAzureCsv} puts time 0 by default: the day the 2023 traces were recorded, 00:00 UTC. */
export const CSV_ORIGIN_EPOCH_MS = Date.UTC(2023, 10, 16);

/**
 * A trace as a CSV in the Azure format with a `kind` column (`TIMESTAMP,ContextTokens,GeneratedTokens,kind`,
 * timestamps `YYYY-MM-DD HH:MM:SS.fffffff` UTC from `originEpochMs`), so a synthetic trace can be inspected,
 * edited, and replayed through {@link readAzureTrace} (to the microsecond).
 */
export function formatAzureCsv(trace: readonly TraceRequest[], originEpochMs = CSV_ORIGIN_EPOCH_MS): string {
  const lines = ['TIMESTAMP,ContextTokens,GeneratedTokens,kind'];
  for (const r of trace) {
    lines.push(`${formatTimestamp(originEpochMs + r.atMs)},${r.promptTokens},${r.outputTokens},${r.kind}`);
  }
  return lines.join('\n') + '\n';
}

function formatTimestamp(epochMs: number): string {
  const micros = Math.round(epochMs * 1000);
  const d = new Date(Math.floor(micros / 1e6) * 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  // Seven fractional digits as in the files; the last one is always 0 (microsecond precision).
  return `${date} ${time}.${pad(micros % 1e6, 6)}0`;
}
