/**
 * The trace CLI (`npx tsx load-tests/traffic/main.ts`): options with their defaults (written once here),
 * `--help`, parsing with zod (a bad option is a `NALAR_ERR_USAGE` error naming it), and the summary it prints.
 */
import { z } from 'zod';
import { ErrorCode, NalarError } from '../../common/errors';
import {
  DEFAULT_IMBALANCE,
  DEFAULT_PHASES,
  phaseKind,
  readAzureTrace,
  synthesizeTrace,
  type RequestKind,
  type TraceRequest,
} from './azure-trace';

/** Options of the trace CLI. */
export interface TraceCliOptions {
  /** Arrivals per second over the trace (with `--from`: none keeps the files' own pace). @default 10 */
  rate?: number;
  /** Seconds of trace. @default 60 */
  durationS: number;
  /** @default 42 */
  seed: number;
  /** @default DEFAULT_IMBALANCE (0.95) */
  imbalance: number;
  /** @default DEFAULT_PHASES (2) */
  phases: number;
  /** Real trace files instead of a synthetic trace. @default none */
  from?: { path: string; kind: RequestKind }[];
  /** Write the trace here as an Azure-format CSV with a kind column. @default none */
  csv?: string;
}

const DEFAULT_RATE = 10;
const DEFAULT_DURATION_S = 60;
const DEFAULT_SEED = 42;

export function traceUsage(): string {
  return `Usage: npx tsx load-tests/traffic/main.ts [options]

Synthesizes a seeded chat/coding trace in the shape of the Azure LLM inference traces 2023 (or reads real
trace files) and prints, per phase, the requests, their rate, the dominant kind's share and the length
medians per kind. load-tests/traffic/README.md documents every parameter.

Options:
  --rate N          arrivals per second over the trace (default ${DEFAULT_RATE}; with --from: the files' own pace)
  --duration S      seconds of trace (default ${DEFAULT_DURATION_S})
  --seed N          seed (default ${DEFAULT_SEED}); the same options give the same trace
  --imbalance X     share of the dominant kind per phase, 0.5-1 (default ${DEFAULT_IMBALANCE})
  --phases N        phases; the dominant kind alternates chat, coding, ... (default ${DEFAULT_PHASES})
  --from LIST       read trace CSVs instead: path:kind[,path:kind...], kind chat|coding
                    (e.g. AzureLLMInferenceTrace_code.csv:coding,AzureLLMInferenceTrace_conv.csv:chat)
  --csv FILE        also write the trace as CSV (TIMESTAMP,ContextTokens,GeneratedTokens,kind)
  --help            this text`;
}

const fileSpec = z
  .string()
  .transform((s) => s.split(','))
  .pipe(
    z.array(
      z
        .string()
        .regex(/^.+:(chat|coding)$/, 'each entry is path:kind with kind chat or coding')
        .transform((entry) => {
          const i = entry.lastIndexOf(':');
          return { path: entry.slice(0, i), kind: entry.slice(i + 1) as RequestKind };
        }),
    ),
  );

const flagsSchema = z.object({
  rate: z.coerce.number().positive('must be a positive number').optional(),
  duration: z.coerce.number().positive('must be a positive number of seconds').default(DEFAULT_DURATION_S),
  seed: z.coerce.number().int('must be an integer').default(DEFAULT_SEED),
  imbalance: z.coerce.number().min(0.5, 'must be in [0.5, 1]').max(1, 'must be in [0.5, 1]').default(DEFAULT_IMBALANCE),
  phases: z.coerce.number().int('must be an integer').min(1, 'must be at least 1').default(DEFAULT_PHASES),
  from: fileSpec.optional(),
  csv: z.string().min(1).optional(),
});

const flagNames = Object.keys(flagsSchema.shape);

/** Parses the CLI's arguments; undefined for `--help`. @throws NalarError NALAR_ERR_USAGE naming the bad option */
export function parseTraceArgs(args: readonly string[]): TraceCliOptions | undefined {
  if (args.includes('--help') || args.includes('-h')) return undefined;
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (!arg.startsWith('--')) throw usageError(`unexpected argument ${arg}`);
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (!flagNames.includes(name)) throw usageError(`unknown option --${name}`);
    const value = inline ?? args[++i];
    if (value === undefined) throw usageError(`--${name} needs a value`);
    flags[name] = value;
  }
  const parsed = flagsSchema.safeParse(flags);
  if (!parsed.success) {
    throw usageError(parsed.error.issues.map((i) => `--${String(i.path[0])}: ${i.message}`).join('; '));
  }
  const { duration, from, rate, csv, ...rest } = parsed.data;
  return {
    ...rest,
    durationS: duration,
    ...(rate !== undefined ? { rate } : from === undefined && { rate: DEFAULT_RATE }),
    ...(from && { from }),
    ...(csv && { csv }),
  };
}

function usageError(message: string): NalarError {
  return new NalarError(ErrorCode.USAGE, `${message}\n\n${traceUsage()}`);
}

/** The trace the options describe. */
export function traceOf(o: TraceCliOptions): TraceRequest[] {
  const durationMs = o.durationS * 1000;
  if (o.from) return readAzureTrace(o.from, { durationMs, ...(o.rate !== undefined && { meanRate: o.rate }) });
  return synthesizeTrace({
    durationMs,
    meanRate: o.rate ?? DEFAULT_RATE,
    seed: o.seed,
    imbalance: o.imbalance,
    phases: o.phases,
  });
}

/** One row of {@link summarizeTrace}: a phase (or 'all'). */
export interface PhaseSummary {
  phase: number | 'all';
  /** The kind that should dominate the phase ('all': none). */
  dominant?: RequestKind;
  requests: number;
  /** Requests per second over the phase. */
  rate: number;
  /** Share of the dominant kind (NaN without requests or for 'all'). */
  dominantShare: number;
  /** Median prompt / output tokens per kind (NaN when the kind has no requests). */
  medians: Record<RequestKind, { prompt: number; output: number; requests: number }>;
}

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Per equal phase of `durationMs`, then for the whole trace: counts, rate, mix and length medians. */
export function summarizeTrace(trace: readonly TraceRequest[], durationMs: number, phases: number): PhaseSummary[] {
  const phaseMs = durationMs / phases;
  const row = (phase: number | 'all', rs: readonly TraceRequest[], spanMs: number): PhaseSummary => {
    const dominant = phase === 'all' ? undefined : phaseKind(phase);
    const of = (kind: RequestKind) => rs.filter((r) => r.kind === kind);
    const medians = Object.fromEntries(
      (['chat', 'coding'] as const).map((kind) => {
        const k = of(kind);
        return [
          kind,
          {
            prompt: median(k.map((r) => r.promptTokens)),
            output: median(k.map((r) => r.outputTokens)),
            requests: k.length,
          },
        ];
      }),
    ) as PhaseSummary['medians'];
    return {
      phase,
      ...(dominant && { dominant }),
      requests: rs.length,
      rate: rs.length / (spanMs / 1000),
      dominantShare: dominant && rs.length ? of(dominant).length / rs.length : NaN,
      medians,
    };
  };
  const rows: PhaseSummary[] = [];
  for (let p = 0; p < phases; p++) {
    rows.push(
      row(
        p,
        trace.filter((r) => Math.min(phases - 1, Math.floor(r.atMs / phaseMs)) === p),
        phaseMs,
      ),
    );
  }
  rows.push(row('all', trace, durationMs));
  return rows;
}

/** The summary as a plain-text table. */
export function formatSummary(rows: readonly PhaseSummary[]): string {
  const n = (x: number, digits = 0) => (Number.isNaN(x) ? '-' : x.toFixed(digits));
  const lines = [
    'phase  dominant  requests  rate/s  share  chat n / prompt p50 / output p50   coding n / prompt p50 / output p50',
  ];
  for (const r of rows) {
    const m = (k: RequestKind) => `${r.medians[k].requests} / ${n(r.medians[k].prompt)} / ${n(r.medians[k].output)}`;
    lines.push(
      [
        String(r.phase).padEnd(5),
        (r.dominant ?? '-').padEnd(8),
        String(r.requests).padStart(8),
        n(r.rate, 2).padStart(6),
        n(r.dominantShare, 3).padStart(5),
        m('chat').padEnd(34),
        m('coding'),
      ].join('  '),
    );
  }
  return lines.join('\n');
}
