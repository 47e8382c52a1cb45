/**
 * `npm run bench -- state`: what managed state costs an agent call, and what payload offload saves in
 * workflow history.
 *
 * 1. State operations per backend (filesystem, Redis, PostgreSQL on real servers): an agent call reads the
 *    last 20 turns of its session's conversation (`range(ns, 'list:conversation', -20)`) and appends one
 *    ~1 KB turn with an opId, as `ManagedList` does; a second pair does a `ManagedMap` get and put. Calls
 *    go round-robin over many sessions (each conversation grows), with the same seed and the same values
 *    for every backend, one operation in flight. Backends run back to back by default (each alone on the
 *    machine, as deployed); `--schedule interleaved` alternates them call by call instead. Each backend
 *    also runs behind a worker's state cache (`<backend>+cache`), on sessions that worker owns.
 * 2. History size on the real dev server: a conversation loop that passes the whole conversation through
 *    an activity every step, with payload offload on and off; bytes of history per agent step are the
 *    history of an S-step run minus that of a 0-step run of the same conversation, over S.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { Pool } from 'pg';
import { createClient } from 'redis';
import { nalarDataConverter } from '../../state/payloads/data-converter';
import { CachedSessionStore, createCachedSessionStore } from '../../state/placement/cached-store';
import { createSessionStore, type SessionStore } from '../../state/session-store';
import { configDefaults, loadConfig } from '../../common/config';
import { errorMessage } from '../../common/errors';
import { createLogger } from '../../common/log';
import { ensureTool } from '../../common/toolchain';
import type { ManagedProcess } from '../../data-plane/supervisor/managed-process';
import { freePort } from '../../data-plane/supervisor/ports';
import { startQuietly } from '../../data-plane/supervisor/start-quietly';
import { temporalDevServer } from '../../data-plane/supervisor/temporal-dev-server';
import { closingLine, resultsDir, runInfo, target, writeFile, type Target } from './run-info';
import { round, summarize, type LatencySummary } from './stats';
import { lineChart, type Series } from './svg-plot';
import type { stateHistoryBenchWorkflow } from './workflows/state-history';

/** The state backends; each also runs as `<backend>+cache` (a worker's cache of sessions it owns, on top). */
const backendNames = ['filesystem', 'redis', 'postgres'] as const;
type BackendName = (typeof backendNames)[number];

/** Store variants the benchmark knows; `--backends` picks among them. */
export const stateVariantNames = [...backendNames, ...backendNames.map((b) => `${b}+cache`)] as const;

/** The worker id the cached variants own their sessions as. */
const BENCH_WORKER_ID = 'bench-worker';

export type StatePart = 'ops' | 'history';

export interface StateBenchOptions {
  /** Which parts run. @default ['ops', 'history'] */
  parts: StatePart[];
  /** Store variants of the operations part, by name (see {@link stateVariantNames}). @default all six */
  backends: string[];
  /** Measured agent calls per variant. @default 2000 */
  calls: number;
  /** Unmeasured calls per variant first (connections, JIT, files). @default 200 */
  warmup: number;
  /** Sessions the calls go round-robin over. @default 100 */
  sessions: number;
  /** Seed of every generated text. @default 42 */
  seed: number;
  /** Agent steps of the measured history runs (with offload; runs without offload may use fewer). @default 50 */
  steps: number;
  /** Starting conversation sizes of the history runs, KiB. @default [10, 1024, 5120] */
  sizesKiB: number[];
  /** Offload threshold of the data converter. @default NALAR_PAYLOAD_OFFLOAD_BYTES's default */
  offloadBytes: number;
  /** Backends back to back (each alone on the machine) or interleaved call by call. @default 'sequential' */
  schedule: 'sequential' | 'interleaved';
  /** @default NALAR_REDIS_URL's default */
  redisUrl: string;
  /** @default NALAR_POSTGRES_URL's default */
  postgresUrl: string;
}

export const defaultStateBenchOptions: StateBenchOptions = {
  parts: ['ops', 'history'],
  backends: [...stateVariantNames],
  calls: 2000,
  warmup: 200,
  sessions: 100,
  seed: 42,
  steps: 50,
  sizesKiB: [10, 1024, 5120],
  offloadBytes: configDefaults.payloadOffloadBytes,
  schedule: 'sequential',
  redisUrl: configDefaults.redisUrl,
  postgresUrl: configDefaults.postgresUrl,
};

/** The `state` lines of `npm run bench -- --help`. */
export const stateBenchUsage = `  state  state operations per store backend (read + write per agent call), and workflow history size per
         agent step with vs without payload offload on the real dev server
         options: --backends ${stateVariantNames.join(',')}  --calls N  --warmup N  --sessions N  --seed N
                  --steps N  --sizes KiB,KiB,...  --offload-bytes N  --parts ops,history
                  --schedule sequential|interleaved
                  --redis-url URL  --postgres-url URL
         (defaults: ${defaultStateBenchOptions.calls} calls per backend after ${defaultStateBenchOptions.warmup} warm-up calls over ${defaultStateBenchOptions.sessions} sessions, seed ${defaultStateBenchOptions.seed};
          ${defaultStateBenchOptions.steps} steps from ${defaultStateBenchOptions.sizesKiB.join(', ')} KiB conversations, offload above ${defaultStateBenchOptions.offloadBytes} bytes)`;

export function parseStateBenchOptions(args: string[]): StateBenchOptions {
  const o: StateBenchOptions = { ...defaultStateBenchOptions };
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i] as string;
    const value = args[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    const whole = (min: number) => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < min) throw new Error(`${flag} needs a whole number >= ${min}, got ${value}`);
      return n;
    };
    const list = () => value.split(',').filter((v) => v !== '');
    switch (flag) {
      case '--backends':
        o.backends = list();
        for (const b of o.backends) {
          if (!(stateVariantNames as readonly string[]).includes(b)) {
            throw new Error(`--backends: unknown backend '${b}' (known: ${stateVariantNames.join(', ')})`);
          }
        }
        break;
      case '--calls':
        o.calls = whole(1);
        break;
      case '--warmup':
        o.warmup = whole(0);
        break;
      case '--sessions':
        o.sessions = whole(1);
        break;
      case '--seed':
        o.seed = whole(0);
        break;
      case '--steps':
        o.steps = whole(1);
        break;
      case '--sizes':
        o.sizesKiB = list().map((v) => {
          const n = Number(v);
          if (!Number.isInteger(n) || n < 1) throw new Error(`--sizes: ${v} is not a positive whole number of KiB`);
          return n;
        });
        break;
      case '--offload-bytes':
        o.offloadBytes = whole(0);
        break;
      case '--parts':
        o.parts = list().map((p) => {
          if (p !== 'ops' && p !== 'history') throw new Error(`--parts: unknown part '${p}' (ops, history)`);
          return p;
        });
        break;
      case '--schedule':
        if (value !== 'sequential' && value !== 'interleaved') {
          throw new Error(`--schedule: '${value}' is neither sequential nor interleaved`);
        }
        o.schedule = value;
        break;
      case '--redis-url':
        o.redisUrl = value;
        break;
      case '--postgres-url':
        o.postgresUrl = value;
        break;
      default:
        throw new Error(`unknown option ${flag}`);
    }
  }
  return o;
}

// ---------------------------------------------------------------------------------------------------------
// Seeded text: the same values for every backend and every run with the same seed.

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const vocabulary = (
  'the market outlook for sector revenue grew while margins fell as analysts expected guidance on costs ' +
  'customer demand supply chain risk quarter earnings forecast model agent tool result summary plan next ' +
  'step because however therefore report table chart filing growth rate interest inflation currency'
).split(' ');

/** ASCII words (no JSON escapes), exactly `bytes` long. */
function words(rand: () => number, bytes: number): string {
  const parts: string[] = [];
  let length = 0;
  while (length <= bytes) {
    const w = vocabulary[Math.floor(rand() * vocabulary.length)] as string;
    parts.push(w);
    length += w.length + 1;
  }
  return parts.join(' ').slice(0, bytes);
}

/** Bytes of one conversation turn. */
export const TURN_BYTES = 1024;

/** Turn number `turn` of a conversation: a JSON text of exactly {@link TURN_BYTES} bytes. */
export function turnJson(seed: number, turn: number): string {
  const role = turn % 2 === 0 ? 'assistant' : 'user';
  const overhead = JSON.stringify({ role, turn, content: '' }).length;
  const content = words(mulberry32(seed * 1_000_003 + turn), TURN_BYTES - overhead);
  return JSON.stringify({ role, turn, content });
}

/** A map value of about 1 KB (an agent's running summary of the session). */
function memoryJson(seed: number, call: number): string {
  return JSON.stringify({ updatedAtCall: call, summary: words(mulberry32(seed * 7_919 + call + 1), 980) });
}

// ---------------------------------------------------------------------------------------------------------
// Part 1: state operations.

/**
 * One store configuration under test. Adding one (a cache in front of a backend, another server) is one
 * entry of {@link stateVariants}: `create` returns a ready store or rejects when its server is unreachable
 * (the variant is then reported as skipped); `cleanup` removes everything the run wrote, after `close`.
 */
export interface StateVariant {
  name: string;
  create(): Promise<SessionStore>;
  cleanup(): Promise<void>;
}

/** One backend's variant, writing only under names unique to this run and variant. */
function backendVariant(o: StateBenchOptions, backend: BackendName, id: string): StateVariant {
  switch (backend) {
    case 'filesystem': {
      let fileDir: string | undefined;
      return {
        name: backend,
        async create() {
          fileDir = await mkdtemp(path.join(os.tmpdir(), 'nalar-bench-state-'));
          const store = createSessionStore({ backend: 'filesystem', dir: fileDir });
          await store.waitUntilReady();
          return store;
        },
        async cleanup() {
          if (fileDir) await rm(fileDir, { recursive: true, force: true });
        },
      };
    }
    case 'redis': {
      const redisPrefix = `nalar-bench-state:${id}:`;
      return {
        name: backend,
        async create() {
          const store = createSessionStore({ backend: 'redis', redis: { url: o.redisUrl, prefix: redisPrefix } });
          await store.waitUntilReady().catch(async (err: unknown) => {
            await store.close().catch(() => undefined);
            throw err;
          });
          return store;
        },
        async cleanup() {
          const client = createClient({ url: o.redisUrl, socket: { connectTimeout: 5_000, reconnectStrategy: false } });
          client.on('error', () => undefined);
          await client.connect();
          try {
            const keys: string[] = [];
            for await (const batch of client.scanIterator({ MATCH: `${redisPrefix}*`, COUNT: 1000 }))
              keys.push(...batch);
            for (let i = 0; i < keys.length; i += 1000) await client.del(keys.slice(i, i + 1000));
          } finally {
            await client.close();
          }
        },
      };
    }
    case 'postgres': {
      const schema = `nalar_bench_state_${id}`;
      return {
        name: backend,
        async create() {
          const store = createSessionStore({
            backend: 'postgres',
            postgres: { connectionString: o.postgresUrl, schema },
          });
          await store.waitUntilReady().catch(async (err: unknown) => {
            await store.close().catch(() => undefined);
            throw err;
          });
          return store;
        },
        async cleanup() {
          const admin = new Pool({ connectionString: o.postgresUrl, connectionTimeoutMillis: 5_000, max: 1 });
          try {
            await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          } finally {
            await admin.end();
          }
        },
      };
    }
  }
}

/** The variants named in `o.backends`, each writing only under names unique to this run (`runId`). */
export function stateVariants(o: StateBenchOptions, runId: string): StateVariant[] {
  return o.backends.map((name) => {
    const [backend, layer] = name.split('+') as [string, string | undefined];
    if (!(backendNames as readonly string[]).includes(backend) || (layer !== undefined && layer !== 'cache')) {
      throw new Error(`unknown state variant '${name}'`);
    }
    const inner = backendVariant(o, backend as BackendName, layer ? `${runId}_cache` : runId);
    if (!layer) return inner;
    return {
      name,
      // What a worker uses for the sessions it owns: the store behind its cache.
      create: async () => createCachedSessionStore(await inner.create(), { workerId: BENCH_WORKER_ID }),
      cleanup: () => inner.cleanup(),
    };
  });
}

type OpName = 'range' | 'append' | 'get' | 'put';

interface OpRecord {
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
interface VariantOps {
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

interface VariantResult {
  name: string;
  status: 'ran' | 'skipped';
  reason?: string;
  ops?: VariantOps;
  cleanupError?: string;
}

interface OpsResult {
  variants: VariantResult[];
  records: OpRecord[];
  seconds: number;
  /** 1-minute load average of the machine before and after: other work on it shows in the tails. */
  loadAverage: { before: number; after: number };
}

function errorText(err: unknown): string {
  return errorMessage(err).split('\n')[0]!.slice(0, 300);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function runOps(o: StateBenchOptions, runId: string, log: (line: string) => void): Promise<OpsResult> {
  const started = performance.now();
  const loadBefore = os.loadavg()[0]!;
  const variants = stateVariants(o, runId);
  const results = new Map<string, VariantResult>();
  const live: { name: string; store: SessionStore; cleanup: () => Promise<void> }[] = [];
  for (const v of variants) {
    try {
      const store = await withTimeout(v.create(), 20_000, `${v.name} store`);
      live.push({ name: v.name, store, cleanup: () => v.cleanup() });
      results.set(v.name, { name: v.name, status: 'ran' });
    } catch (err) {
      const reason = errorText(err);
      log(`${v.name}: skipped (${reason})`);
      results.set(v.name, { name: v.name, status: 'skipped', reason });
      await withTimeout(v.cleanup(), 10_000, `${v.name} cleanup`).catch(() => undefined);
    }
  }
  const records: OpRecord[] = [];
  try {
    if (live.length > 0) {
      log(
        `state operations: ${live.map((l) => l.name).join(', ')} ${o.schedule === 'interleaved' ? 'interleaved call by call' : 'back to back'}; ` +
          `${o.warmup} warm-up + ${o.calls} measured calls each over ${o.sessions} sessions`,
      );
    }
    // The cached variants serve sessions this "worker" owns, as a worker does after a session was placed on it.
    for (const { store } of live) {
      if (!(store instanceof CachedSessionStore)) continue;
      for (let s = 0; s < o.sessions; s++) await store.setOwner(`bench-${runId}-session-${s}`, BENCH_WORKER_ID, 0);
    }
    const total = o.warmup + o.calls;
    /** Agent call k (k < warmup: not recorded) of one variant. */
    const agentCall = async ({ name, store }: { name: string; store: SessionStore }, k: number) => {
      const call = k - o.warmup;
      const s = k % o.sessions;
      const session = `bench-${runId}-session-${s}`;
      // The opIds ManagedList/ManagedMap give the writes of activity k of the session's workflow.
      const opBase = `conversation-${runId}-${s}/${k}`;
      const turn = turnJson(o.seed, k);
      const memory = memoryJson(o.seed, k);
      const mapKey = `map:memory:slot-${Math.floor(k / o.sessions) % 4}`;
      const time = async (op: OpName, f: () => Promise<number>) => {
        const t0 = performance.now();
        let outcome: { ok: true; n: number } | { ok: false; error: string };
        try {
          outcome = { ok: true, n: await f() };
        } catch (err) {
          outcome = { ok: false, error: errorText(err) };
        }
        const ms = performance.now() - t0;
        if (call >= 0) records.push({ part: 'ops', variant: name, call, session: s, op, ms, ...outcome });
      };
      await time('range', async () => (await store.range(session, 'list:conversation', -20)).length);
      await time('append', () => store.append(session, 'list:conversation', turn, { opId: `${opBase}/1` }));
      await time('get', async () => (await store.get(session, mapKey))?.version ?? 0);
      await time('put', () => store.put(session, mapKey, memory, { opId: `${opBase}/2` }));
    };
    const progress = (k: number, prefix = '') => {
      const call = k - o.warmup;
      if (call === -1) log(`  ${prefix}warm-up done`);
      if (call >= 0 && (call + 1) % Math.max(1, Math.round(o.calls / 5)) === 0)
        log(`  ${prefix}${call + 1}/${o.calls} calls`);
    };
    if (o.schedule === 'interleaved') {
      for (let k = 0; k < total && live.length > 0; k++) {
        // Rotate which backend goes first, so none always runs first (or right after another's writes).
        for (let i = 0; i < live.length; i++) await agentCall(live[(i + k) % live.length]!, k);
        progress(k);
      }
    } else {
      // Back to back: each backend alone on the machine, as a deployment runs one; interleaved, every
      // backend's tail would also hold the others' disk flushes (PostgreSQL's WAL, the filesystem's fsyncs).
      for (const variant of live) {
        for (let k = 0; k < total; k++) {
          await agentCall(variant, k);
          progress(k, `${variant.name}: `);
        }
      }
    }
  } finally {
    for (const l of live) {
      const result = results.get(l.name)!;
      try {
        await withTimeout(l.store.close(), 10_000, `${l.name} close`);
        await withTimeout(l.cleanup(), 30_000, `${l.name} cleanup`);
      } catch (err) {
        result.cleanupError = errorText(err);
        log(`${l.name}: cleanup failed (${result.cleanupError})`);
      }
    }
  }
  for (const l of live) results.get(l.name)!.ops = summarizeOps(records, l.name, o.calls);
  return {
    variants: variants.map((v) => results.get(v.name)!),
    records,
    seconds: (performance.now() - started) / 1000,
    loadAverage: { before: loadBefore, after: os.loadavg()[0]! },
  };
}

function summarizeOps(records: readonly OpRecord[], name: string, calls: number): VariantOps {
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

// ---------------------------------------------------------------------------------------------------------
// Part 2: history size with and without offload.

/** Temporal's limits that decide which runs without offload can run at all. */
const PAYLOAD_LIMIT_BYTES = 2 * 1024 * 1024;
/** History budget of a run without offload: well under the 50 MB limit (and the 10 MB warning x 2). */
const PLAIN_HISTORY_BUDGET_BYTES = 20 * 1024 * 1024;

interface HistoryMeasure {
  bytes: number;
  events: number;
  /** History bytes after each agent step (index 0: before the first step). */
  afterStep: number[];
}

interface HistoryRunRecord {
  part: 'history';
  sizeKiB: number;
  offload: boolean;
  steps: number;
  ok: boolean;
  seconds: number;
  historyBytes?: number;
  events?: number;
  afterStep?: number[];
  error?: string;
}

interface HistoryModeResult {
  steps: number;
  ran: boolean;
  reason?: string;
  baselineBytes?: number;
  bytes?: number;
  events?: number;
  baselineEvents?: number;
  bytesPerStep?: number;
  eventsPerStep?: number;
}

interface HistorySizeResult {
  sizeKiB: number;
  withOffload: HistoryModeResult;
  withoutOffload: HistoryModeResult;
  /** bytes per step without / with offload. */
  ratio?: number;
}

interface HistoryResult {
  temporalVersion: string;
  sizes: HistorySizeResult[];
  records: HistoryRunRecord[];
  seconds: number;
}

/** Encoded size of one length-delimited field holding `len` bytes (tag of field 1 + varint length). */
function fieldBytes(len: number): number {
  let varint = 1;
  while (len >= 128) {
    len = Math.floor(len / 128);
    varint++;
  }
  return 1 + varint;
}

/** The history of a workflow, fetched in small pages (events of megabytes each stay under gRPC limits). */
async function measureHistory(client: Client, workflowId: string): Promise<HistoryMeasure> {
  const { History, HistoryEvent } = temporal.api.history.v1;
  const events: temporal.api.history.v1.IHistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.getWorkflowExecutionHistory({
      namespace: 'default',
      execution: { workflowId },
      maximumPageSize: 2,
      nextPageToken,
    });
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  const bytes = History.encode(History.create({ events })).finish().length;
  // Per event, so the size after every step comes from the same run; the parts add up to `bytes`.
  const afterStep: number[] = [];
  let sum = 0;
  let firstTaskDone = false;
  for (const e of events) {
    const len = HistoryEvent.encode(e).finish().length;
    sum += len + fieldBytes(len);
    const type = e.eventType;
    if (!firstTaskDone && type === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) {
      firstTaskDone = true;
      afterStep.push(sum);
    }
    if (type === temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) afterStep.push(sum);
  }
  if (sum !== bytes) throw new Error(`history of ${workflowId}: per-event sizes add up to ${sum}, not ${bytes}`);
  return { bytes, events: events.length, afterStep };
}

/** Steps a run without offload can take: its largest payload under 2 MB, its history under the budget. */
function plainSteps(sizeBytes: number, steps: number): { steps: number } | { reason: string } {
  const largest = sizeBytes + steps * (TURN_BYTES + 1);
  if (largest + 1024 > PAYLOAD_LIMIT_BYTES) {
    return { reason: `a ${Math.round(sizeBytes / 1024)} KiB payload does not fit Temporal's 2 MB payload limit` };
  }
  // Each step records the conversation twice (activity input and result).
  return { steps: Math.max(1, Math.min(steps, Math.floor(PLAIN_HISTORY_BUDGET_BYTES / (2 * largest)))) };
}

async function runHistory(o: StateBenchOptions, runId: string, log: (line: string) => void): Promise<HistoryResult> {
  const started = performance.now();
  const config = loadConfig();
  const bin = await ensureTool('temporal', {
    toolsDir: config.toolsDir,
    explicitPath: config.temporalBin,
    log: createLogger('toolchain', 'warn'),
  });
  let temporalVersion = 'unknown';
  try {
    temporalVersion = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // The version is information for the report; the run does not depend on it.
  }
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nalar-bench-state-temporal-'));
  const blobDirs: string[] = [];
  const address = `127.0.0.1:${await freePort()}`;
  const procs: ManagedProcess[] = [];
  let nativeConnection: NativeConnection | undefined;
  let connection: Connection | undefined;
  try {
    log(`history: starting the dev server (${temporalVersion}) and an in-process worker`);
    procs.push(
      await startQuietly(temporalDevServer({ bin, address, namespace: 'default', dataDir }), {
        timeoutMs: 90_000,
        onFailure: log,
      }),
    );
    // Core's own warnings (the 512 KB payload warning of every run without offload) would flood the output.
    Runtime.install({
      logger: new DefaultLogger('WARN'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
    });
    nativeConnection = await NativeConnection.connect({ address });
    connection = await Connection.connect({ address });
    const noop = (): void => undefined;
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: path.join(__dirname, 'workflows', 'state-history.ts'),
      logger: { trace: noop, debug: noop, info: noop, warn: noop, error: log, log: noop },
    });
    const activities = {
      async addTurn(input: { conversation: string; turn: number }): Promise<string> {
        return `${input.conversation}\n${turnJson(o.seed, input.turn)}`;
      },
    };
    const modes = [true, false].map((offload) => {
      const blobDir = mkdtempSync(path.join(os.tmpdir(), 'nalar-bench-state-blobs-'));
      blobDirs.push(blobDir);
      const dataConverter = nalarDataConverter({
        payloadOffload: offload,
        payloadOffloadBytes: o.offloadBytes,
        dataDir: blobDir,
      });
      return {
        offload,
        taskQueue: `bench-state-${offload ? 'offload' : 'plain'}-${runId}`,
        client: new Client({ connection: connection!, dataConverter }),
        dataConverter,
      };
    });
    const workers = await Promise.all(
      modes.map((m) =>
        Worker.create({
          connection: nativeConnection!,
          taskQueue: m.taskQueue,
          workflowBundle,
          activities,
          dataConverter: m.dataConverter,
        }),
      ),
    );
    const records: HistoryRunRecord[] = [];
    const runOne = async (mode: (typeof modes)[number], sizeKiB: number, conversation: string, steps: number) => {
      const workflowId = `bench-state-${runId}-${sizeKiB}k-${mode.offload ? 'offload' : 'plain'}-${steps}`;
      const t0 = performance.now();
      const record: HistoryRunRecord = {
        part: 'history',
        sizeKiB,
        offload: mode.offload,
        steps,
        ok: false,
        seconds: 0,
      };
      try {
        const result = await mode.client.workflow.execute<typeof stateHistoryBenchWorkflow>(
          'stateHistoryBenchWorkflow',
          {
            taskQueue: mode.taskQueue,
            workflowId,
            args: [{ conversation, steps }],
            workflowExecutionTimeout: '5 minutes',
          },
        );
        const expected = conversation.length + steps * (TURN_BYTES + 1);
        if (result.length !== expected) throw new Error(`conversation of ${result.length} chars, expected ${expected}`);
        const h = await measureHistory(mode.client, workflowId);
        Object.assign(record, { ok: true, historyBytes: h.bytes, events: h.events, afterStep: h.afterStep });
      } catch (err) {
        record.error = errorText(err);
      }
      record.seconds = (performance.now() - t0) / 1000;
      records.push(record);
      log(
        `  ${sizeKiB} KiB, offload ${mode.offload ? 'on ' : 'off'}, ${String(steps).padStart(3)} steps: ` +
          (record.ok ? `${record.historyBytes} history bytes, ${record.events} events` : `failed: ${record.error}`) +
          ` (${record.seconds.toFixed(1)} s)`,
      );
      return record;
    };
    const sizes: HistorySizeResult[] = [];
    const measureMode = async (mode: (typeof modes)[number], sizeKiB: number, conversation: string) => {
      const plan = mode.offload ? { steps: o.steps } : plainSteps(conversation.length, o.steps);
      if ('reason' in plan) return { steps: 0, ran: false, reason: plan.reason } satisfies HistoryModeResult;
      const base = await runOne(mode, sizeKiB, conversation, 0);
      const full = await runOne(mode, sizeKiB, conversation, plan.steps);
      if (!base.ok || !full.ok) {
        return { steps: plan.steps, ran: false, reason: base.error ?? full.error } satisfies HistoryModeResult;
      }
      return {
        steps: plan.steps,
        ran: true,
        baselineBytes: base.historyBytes!,
        bytes: full.historyBytes!,
        baselineEvents: base.events!,
        events: full.events!,
        bytesPerStep: (full.historyBytes! - base.historyBytes!) / plan.steps,
        eventsPerStep: (full.events! - base.events!) / plan.steps,
      } satisfies HistoryModeResult;
    };
    await workers[0]!.runUntil(
      workers[1]!.runUntil(async () => {
        for (const sizeKiB of o.sizesKiB) {
          const conversation = words(mulberry32(o.seed + sizeKiB), sizeKiB * 1024);
          const withOffload = await measureMode(modes[0]!, sizeKiB, conversation);
          const withoutOffload = await measureMode(modes[1]!, sizeKiB, conversation);
          const ratio =
            withOffload.bytesPerStep !== undefined && withoutOffload.bytesPerStep !== undefined
              ? withoutOffload.bytesPerStep / withOffload.bytesPerStep
              : undefined;
          sizes.push({ sizeKiB, withOffload, withoutOffload, ...(ratio !== undefined && { ratio }) });
        }
      }),
    );
    return { temporalVersion, sizes, records, seconds: (performance.now() - started) / 1000 };
  } finally {
    await nativeConnection?.close().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    for (const p of procs.reverse()) await p.stop(10_000);
    for (const d of [dataDir, ...blobDirs]) rmSync(d, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Report.

const STATE_TARGET_MS = 5;
const HISTORY_TARGET_BYTES = 1024;
const MODEL_CALL_MS = 100;

type NotedTarget = Target & { note?: string };

function kib(bytes: number | undefined): string {
  return bytes === undefined ? '–' : `${round(bytes / 1024)}`;
}

function opsRow(name: string, op: string, s: LatencySummary): string {
  return `| ${name} | ${op} | ${s.count} | ${round(s.mean)} | ${round(s.p50)} | ${round(s.p95)} | ${round(s.p99)} | ${round(s.max)} |`;
}

/**
 * Largest bytes per step with offload over all sizes (the goal's figure; NaN if any run is missing) and
 * over the sizes that start above the threshold, so are offloaded from the first step (smaller ones stay
 * whole in history until they pass it).
 */
function historyMaxima(
  sizes: readonly HistorySizeResult[],
  offloadBytes: number,
): { maxWith: number; maxAbove: number } {
  const all = sizes.map((s) => s.withOffload.bytesPerStep ?? NaN);
  const above = sizes.filter((s) => s.sizeKiB * 1024 > offloadBytes).map((s) => s.withOffload.bytesPerStep ?? NaN);
  return { maxWith: all.length ? Math.max(...all) : NaN, maxAbove: above.length ? Math.max(...above) : NaN };
}

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

  // Metrics and targets.
  const targets: Record<string, NotedTarget> = {};
  const stateMetrics: Record<string, unknown> = {};
  const ran = (ops?.variants ?? []).filter((v) => v.ops);
  const fastestP99 = Math.min(...ran.map((v) => v.ops!.readWrite.p99));
  for (const name of o.backends) {
    // The goal is per backend: the plain store is the cost a session not (yet) placed on a worker pays too.
    const isTarget = !name.includes('+');
    const key = `state_read_write_p99_ms_${name}`;
    const v = ops?.variants.find((x) => x.name === name);
    if (!v) {
      targets[key] = { ...target(NaN, '<=', STATE_TARGET_MS), met: false, note: 'not run (--parts)' };
    } else if (!v.ops) {
      targets[key] = { ...target(NaN, '<=', STATE_TARGET_MS), met: false, note: `skipped: ${v.reason}` };
      stateMetrics[name] = { skipped: v.reason };
    } else {
      const s = v.ops;
      const p99 = round(s.readWrite.p99);
      targets[key] = target(p99, '<=', STATE_TARGET_MS);
      if (s.failed > 0) targets[key] = { ...targets[key]!, met: false, note: `${s.failed} operations failed` };
      stateMetrics[name] = {
        read_p50: round(s.read.p50),
        read_p99: round(s.read.p99),
        write_p50: round(s.write.p50),
        write_p99: round(s.write.p99),
        read_write_mean: round(s.readWrite.mean),
        read_write_p50: round(s.readWrite.p50),
        read_write_p99: p99,
        get_put_p50: round(s.getPut.p50),
        get_put_p99: round(s.getPut.p99),
        failed: s.failed,
        p99_vs_fastest: round(s.readWrite.p99 / fastestP99),
      };
      const plain = ran.find((x) => x.name === name.split('+')[0]);
      if (!isTarget && plain?.ops) {
        (stateMetrics[name] as Record<string, number>).read_p50_vs_plain = round(s.read.p50 / plain.ops.read.p50);
      }
    }
    if (!isTarget) delete targets[key];
  }
  const historyMetrics: Record<string, unknown> = {};
  for (const s of history?.sizes ?? []) {
    historyMetrics[`${s.sizeKiB}KiB`] = {
      with_offload_bytes_per_step: s.withOffload.bytesPerStep === undefined ? null : round(s.withOffload.bytesPerStep),
      with_offload_steps: s.withOffload.steps,
      without_offload_bytes_per_step:
        s.withoutOffload.bytesPerStep === undefined ? null : round(s.withoutOffload.bytesPerStep),
      without_offload_steps: s.withoutOffload.ran ? s.withoutOffload.steps : null,
      ...(!s.withoutOffload.ran && { without_offload_skipped: s.withoutOffload.reason }),
      without_with_ratio: s.ratio === undefined ? null : round(s.ratio),
    };
  }
  const failedWith = (history?.sizes ?? []).filter((s) => !s.withOffload.ran);
  const { maxWith, maxAbove } = historyMaxima(history?.sizes ?? [], o.offloadBytes);
  const historyKey = 'history_bytes_per_step_with_offload';
  if (!o.parts.includes('history')) {
    targets[historyKey] = { ...target(NaN, '<=', HISTORY_TARGET_BYTES), met: false, note: 'not run (--parts)' };
  } else if (!history) {
    targets[historyKey] = { ...target(NaN, '<=', HISTORY_TARGET_BYTES), met: false, note: `not run: ${historyError}` };
  } else if (failedWith.length) {
    targets[historyKey] = {
      ...target(NaN, '<=', HISTORY_TARGET_BYTES),
      met: false,
      note: `failed at ${failedWith.map((s) => `${s.sizeKiB} KiB: ${s.withOffload.reason}`).join('; ')}`,
    };
  } else {
    targets[historyKey] = target(round(maxWith), '<=', HISTORY_TARGET_BYTES);
  }
  const metrics = {
    ...(ops && {
      calls_per_backend: o.calls,
      sessions: o.sessions,
      state_ms: stateMetrics,
    }),
    ...(history && {
      offload_bytes: o.offloadBytes,
      steps: o.steps,
      history_bytes_per_step: historyMetrics,
      history_bytes_per_step_with_offload_max: round(maxWith),
      history_bytes_per_step_with_offload_max_above_threshold: round(maxAbove),
    }),
    seed: o.seed,
  };

  // Files.
  const dir = resultsDir('state');
  const records = [...(ops?.records ?? []), ...(history?.records ?? [])];
  writeFile(dir, 'records.jsonl.gz', gzipSync(records.map((r) => JSON.stringify(r)).join('\n') + '\n'));
  const plots: string[] = [];
  if (ran.length) {
    const series: Series[] = ran.map((v) => ({
      name: v.name,
      points: v.ops!.windows.filter((w) => Number.isFinite(w.p99)).map((w) => ({ x: w.calls, y: round(w.p99) })),
    }));
    writeFile(
      dir,
      'state-p99.svg',
      lineChart(series, {
        title: `Read + write per agent call: p99 per ${Math.round(o.calls / 10)} calls`,
        xLabel: 'measured calls (conversations grow along the run)',
        yLabel: 'p99 ms',
      }),
    );
    plots.push('![p99 of read + write per backend along the run](state-p99.svg)');
  }
  const historyRuns = (history?.records ?? []).filter((r) => r.ok && r.steps > 0 && r.afterStep);
  if (historyRuns.length) {
    const toSeries = (runs: HistoryRunRecord[], unit: number) =>
      runs.map((r) => ({
        name: `${r.sizeKiB} KiB, offload ${r.offload ? 'on' : 'off'}`,
        points: r.afterStep!.map((b, step) => ({ x: step, y: round(b / unit) })),
      }));
    // Conversations below the threshold are not offloaded and would flatten this chart; the next one has them.
    const withRuns = historyRuns.filter((r) => r.offload && r.sizeKiB * 1024 > o.offloadBytes);
    if (withRuns.length) {
      writeFile(
        dir,
        'history-offload.svg',
        lineChart(toSeries(withRuns, 1024), {
          title: 'History size per agent step, offload on (offloaded sizes)',
          xLabel: 'agent steps',
          yLabel: 'history KiB',
        }),
      );
      plots.push('![history size along the run with offload](history-offload.svg)');
    }
    writeFile(
      dir,
      'history-all.svg',
      lineChart(toSeries(historyRuns, 1024 * 1024), {
        title: 'History size per agent step, offload on and off',
        xLabel: 'agent steps',
        yLabel: 'history MiB',
      }),
    );
    plots.push('![history size along the run, with and without offload](history-all.svg)');
  }
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
  writeFile(dir, 'report.md', report(o, info, ops, history, historyError, targets, plots));

  for (const v of ops?.variants ?? []) {
    if (v.ops) {
      log(
        `${v.name}: read+write per call p50 ${round(v.ops.readWrite.p50)} ms, p99 ${round(v.ops.readWrite.p99)} ms ` +
          `(read p99 ${round(v.ops.read.p99)}, write p99 ${round(v.ops.write.p99)}); ${v.ops.failed} failed`,
      );
    } else log(`${v.name}: skipped (${v.reason})`);
  }
  for (const s of history?.sizes ?? []) {
    log(
      `${s.sizeKiB} KiB conversation: ${s.withOffload.bytesPerStep === undefined ? '–' : round(s.withOffload.bytesPerStep)} history bytes per step with offload, ` +
        `${s.withoutOffload.bytesPerStep === undefined ? `– (${s.withoutOffload.reason})` : round(s.withoutOffload.bytesPerStep)} without` +
        (s.ratio === undefined ? '' : ` (ratio ${round(s.ratio)})`),
    );
  }
  log(`report: ${dir}/report.md`);
  console.log(closingLine('state', info.commit, metrics, targets));
  return historyError ? 1 : 0;
}

function report(
  o: StateBenchOptions,
  info: ReturnType<typeof runInfo>,
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
