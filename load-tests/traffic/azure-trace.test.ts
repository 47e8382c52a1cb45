import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  AZURE_2023_SHAPE,
  BURST_WINDOW_MS,
  DEFAULT_IMBALANCE,
  TRACE_CAPS,
  formatAzureCsv,
  phaseKind,
  readAzureTrace,
  synthesizeTrace,
  type RequestKind,
  type TraceRequest,
} from './azure-trace';

const fixture = (name: string): string => path.join(__dirname, 'fixtures', name);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Variance / mean of the arrival counts per burst window: 1 for Poisson, more for bursty traffic. */
function dispersion(times: number[], spanMs: number): number {
  const counts = new Array<number>(Math.ceil(spanMs / BURST_WINDOW_MS)).fill(0);
  for (const t of times) counts[Math.floor(t / BURST_WINDOW_MS)]! += 1;
  const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
  const variance = counts.reduce((a, c) => a + (c - mean) ** 2, 0) / counts.length;
  return variance / mean;
}

describe('synthesizeTrace', () => {
  it('is a function of its options: same seed, same trace; another seed, another trace', () => {
    const o = { durationMs: 20_000, meanRate: 30, seed: 7 };
    const a = synthesizeTrace(o);
    expect(synthesizeTrace(o)).toEqual(a);
    expect(synthesizeTrace({ ...o, seed: 8 })).not.toEqual(a);
  });

  it('holds exactly round(meanRate × duration) requests, sorted, inside the trace, lengths within the caps', () => {
    const trace = synthesizeTrace({ durationMs: 12_345, meanRate: 17.3, seed: 1 });
    expect(trace).toHaveLength(Math.round(17.3 * 12.345));
    for (let i = 1; i < trace.length; i++) expect(trace[i]!.atMs).toBeGreaterThanOrEqual(trace[i - 1]!.atMs);
    for (const r of trace) {
      expect(r.atMs).toBeGreaterThanOrEqual(0);
      expect(r.atMs).toBeLessThan(12_345);
      expect(r.promptTokens).toBeGreaterThanOrEqual(1);
      expect(r.promptTokens).toBeLessThanOrEqual(TRACE_CAPS.promptTokens);
      expect(r.outputTokens).toBeGreaterThanOrEqual(1);
      expect(r.outputTokens).toBeLessThanOrEqual(TRACE_CAPS.outputTokens);
      expect(Number.isInteger(r.promptTokens) && Number.isInteger(r.outputTokens)).toBe(true);
    }
  });

  it.each([
    [2, undefined],
    [4, 0.92],
    [3, 0.99],
  ])('with %s phases the dominant kind alternates and holds the imbalance share of each phase', (phases, imb) => {
    const durationMs = 60_000;
    const trace = synthesizeTrace({ durationMs, meanRate: 40, seed: 3, phases, imbalance: imb });
    const imbalance = imb ?? DEFAULT_IMBALANCE;
    const phaseMs = durationMs / phases;
    for (let p = 0; p < phases; p++) {
      const inPhase = trace.filter((r) => Math.floor(r.atMs / phaseMs) === p);
      const dominant = inPhase.filter((r) => r.kind === phaseKind(p)).length;
      expect(inPhase.length).toBeGreaterThan(100);
      // Exact up to the rounding of one request.
      expect(Math.abs(dominant / inPhase.length - imbalance)).toBeLessThanOrEqual(1 / inPhase.length);
    }
    expect(phaseKind(0)).toBe('chat');
    expect(phaseKind(1)).toBe('coding');
  });

  it('has the medians of the 2023 trace files per kind', () => {
    const trace = synthesizeTrace({ durationMs: 600_000, meanRate: 40, seed: 11, imbalance: 0.5 });
    for (const kind of ['chat', 'coding'] as RequestKind[]) {
      const rs = trace.filter((r) => r.kind === kind);
      expect(rs.length).toBeGreaterThan(10_000);
      const shape = AZURE_2023_SHAPE[kind];
      // Within 4% (± one token for the 13-token coding outputs).
      expect(Math.abs(median(rs.map((r) => r.promptTokens)) - shape.prompt.median)).toBeLessThanOrEqual(
        Math.max(1, 0.04 * shape.prompt.median),
      );
      expect(Math.abs(median(rs.map((r) => r.outputTokens)) - shape.output.median)).toBeLessThanOrEqual(
        Math.max(1, 0.04 * shape.output.median),
      );
    }
    // Coding: long prompts, short outputs; chat: shorter prompts, longer outputs.
    expect(AZURE_2023_SHAPE.coding.prompt.median).toBeGreaterThan(AZURE_2023_SHAPE.chat.prompt.median);
    expect(AZURE_2023_SHAPE.coding.output.median).toBeLessThan(AZURE_2023_SHAPE.chat.output.median);
  });

  it('is bursty, coding far more than chat (count dispersion per window > 1 + rate × cv² / 2)', () => {
    const durationMs = 300_000;
    const trace = synthesizeTrace({ durationMs, meanRate: 20, seed: 5, imbalance: 0.5, phases: 1 });
    const times = (kind: RequestKind): number[] => trace.filter((r) => r.kind === kind).map((r) => r.atMs);
    // 10 arrivals per window per kind: a Poisson process has dispersion 1; the Gamma-modulated one 1 + m·cv².
    const coding = dispersion(times('coding'), durationMs);
    const chat = dispersion(times('chat'), durationMs);
    expect(coding).toBeGreaterThan(1 + (10 * AZURE_2023_SHAPE.coding.intensityCv ** 2) / 2);
    expect(chat).toBeGreaterThan(1);
    expect(chat).toBeLessThan(coding / 3);
  });

  it('rejects bad options with a message naming the option', () => {
    expect(() => synthesizeTrace({ durationMs: 0, meanRate: 1, seed: 1 })).toThrow(/durationMs/);
    expect(() => synthesizeTrace({ durationMs: 1000, meanRate: -1, seed: 1 })).toThrow(/meanRate/);
    expect(() => synthesizeTrace({ durationMs: 1000, meanRate: 1, seed: 1, imbalance: 0.3 })).toThrow(/imbalance/);
    expect(() => synthesizeTrace({ durationMs: 1000, meanRate: 1, seed: 1, phases: 1.5 })).toThrow(/phases/);
    expect(synthesizeTrace({ durationMs: 1000, meanRate: 0, seed: 1 })).toEqual([]);
  });
});

describe('readAzureTrace', () => {
  const files = [
    { path: fixture('code-sample.csv'), kind: 'coding' as const },
    { path: fixture('conv-sample.csv'), kind: 'chat' as const },
  ];
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nalar-trace-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string): string => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('reads the files at their own pace with one time origin, kinds per file, sorted', () => {
    const trace = readAzureTrace(files, { durationMs: 3_600_000 });
    // 20 code rows + 30 conversation rows, the whole sample once, then repeats of it.
    const once = trace.slice(0, 50);
    expect(once.filter((r) => r.kind === 'coding')).toHaveLength(20);
    expect(once.filter((r) => r.kind === 'chat')).toHaveLength(30);
    // The conversation file's first row (18:15:10.0000467) is the origin; the code file's (18:15:10.1565259)
    // comes 156.4792 ms later.
    expect(once[0]).toEqual({ atMs: 0, kind: 'chat', promptTokens: 842, outputTokens: 804 });
    expect(once.find((r) => r.kind === 'coding')!.atMs).toBeCloseTo(156.4792, 3);
    for (let i = 1; i < trace.length; i++) expect(trace[i]!.atMs).toBeGreaterThanOrEqual(trace[i - 1]!.atMs);
  });

  it('rescales time to meanRate (same shape, faster), cuts at durationMs and repeats a short trace', () => {
    const own = readAzureTrace(files, { durationMs: 3_600_000 }).slice(0, 50);
    const spanMs = own[49]!.atMs;
    const ownRate = 49 / (spanMs / 1000);
    const meanRate = 4 * ownRate;
    const fast = readAzureTrace(files, { durationMs: 3_600_000, meanRate });
    for (let i = 0; i < 50; i++) expect(fast[i]!.atMs).toBeCloseTo(own[i]!.atMs / 4, 6);
    // Long enough for many copies: the mean rate is meanRate, up to one copy's worth of requests.
    const durationMs = 120_000;
    const repeated = readAzureTrace(files, { durationMs, meanRate: 25 });
    expect(Math.abs(repeated.length - 25 * (durationMs / 1000))).toBeLessThanOrEqual(50);
    expect(repeated.every((r) => r.atMs < durationMs)).toBe(true);
    // Cut: only what arrives before durationMs.
    const cutMs = own[10]!.atMs + 1e-3;
    expect(readAzureTrace(files, { durationMs: cutMs })).toEqual(own.slice(0, 11));
  });

  it('takes the kind from a kind column when there is one and clamps lengths to the caps', () => {
    const mixed = readAzureTrace([{ path: fixture('mixed-kinds-sample.csv'), kind: 'chat' }], { durationMs: 60_000 });
    const once = mixed.slice(0, 12);
    expect(once.filter((r) => r.kind === 'coding')).toHaveLength(4); // every third row says code
    const big = write(
      'big.csv',
      'TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:00.0,14050,1899\n2023-11-16 18:15:01.0,0,0\n',
    );
    const [a, b] = readAzureTrace([{ path: big, kind: 'chat' }], { durationMs: 1500 }) as [TraceRequest, TraceRequest];
    expect(a).toEqual({
      atMs: 0,
      kind: 'chat',
      promptTokens: TRACE_CAPS.promptTokens,
      outputTokens: TRACE_CAPS.outputTokens,
    });
    expect(b).toEqual({ atMs: 1000, kind: 'chat', promptTokens: 1, outputTokens: 1 });
  });

  it.each([
    [
      'bad-count.csv',
      'TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:00.1,10,5\n2023-11-16 18:15:00.2,abc,5\n',
      /bad-count\.csv:3: ContextTokens "abc"/,
    ],
    [
      'bad-time.csv',
      'TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:00.1,10,5\n\n16/11/2023 18:15,10,5\n',
      /bad-time\.csv:4: TIMESTAMP "16\/11\/2023 18:15"/,
    ],
    [
      'bad-cols.csv',
      'TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:00.1,10\n',
      /bad-cols\.csv:2: expected 3 columns, got 2/,
    ],
    [
      'bad-header.csv',
      'TIME,ContextTokens,Generated\n2023-11-16 18:15:00.1,10,5\n',
      /bad-header\.csv:1: header lacks column\(s\) TIMESTAMP, GeneratedTokens/,
    ],
    [
      'bad-kind.csv',
      'TIMESTAMP,ContextTokens,GeneratedTokens,kind\n2023-11-16 18:15:00.1,10,5,video\n',
      /bad-kind\.csv:2: kind "video"/,
    ],
    [
      'bad-negative.csv',
      'TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:00.1,10,-5\n',
      /bad-negative\.csv:2: GeneratedTokens "-5"/,
    ],
    ['empty.csv', 'TIMESTAMP,ContextTokens,GeneratedTokens\n', /no requests in .*empty\.csv/],
  ])('%s: a clear error naming the line', (name, text, message) => {
    expect(() => readAzureTrace([{ path: write(name, text), kind: 'chat' }], { durationMs: 1000 })).toThrow(message);
  });

  it('reads back a synthetic trace written with formatAzureCsv, to the microsecond', () => {
    const trace = synthesizeTrace({ durationMs: 10_000, meanRate: 20, seed: 9 });
    const back = readAzureTrace([{ path: write('synthetic.csv', formatAzureCsv(trace)), kind: 'chat' }], {
      durationMs: 10_000,
    });
    expect(back.slice(0, trace.length).map((r) => r.kind)).toEqual(trace.map((r) => r.kind));
    const first = trace[0]!.atMs;
    trace.forEach((r, i) => {
      expect(back[i]!.atMs).toBeCloseTo(r.atMs - first, 2);
      expect([back[i]!.promptTokens, back[i]!.outputTokens]).toEqual([r.promptTokens, r.outputTokens]);
    });
  });

  it('rejects a non-positive duration or rate', () => {
    expect(() => readAzureTrace(files, { durationMs: 0 })).toThrow(/durationMs/);
    expect(() => readAzureTrace(files, { durationMs: 1000, meanRate: 0 })).toThrow(/meanRate/);
  });
});
