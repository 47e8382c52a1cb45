/**
 * Part 1 of `npm run bench -- state`: state operations per store variant. An agent call reads the last 20
 * turns of its session's conversation and appends one ~1 KB turn with an opId (as `ManagedList` does), then
 * gets and puts a ~1 KB map value (as `ManagedMap` does); calls go round-robin over many sessions, one
 * operation in flight.
 */
import os from 'node:os';
import { CachedSessionStore } from '../../../state/placement/cached-store';
import type { SessionStore } from '../../../state/session-store';
import { errorText } from './error-text';
import { summarizeOps, type OpName, type OpRecord, type VariantOps } from './ops-summary';
import type { StateBenchOptions } from './options';
import { memoryJson, turnJson } from './payloads';
import { BENCH_WORKER_ID, stateVariants } from './variants';

/** How one variant fared: its summaries, or why it was skipped. */
export interface VariantResult {
  name: string;
  status: 'ran' | 'skipped';
  reason?: string;
  ops?: VariantOps;
  cleanupError?: string;
}

/** The operations part of one run. */
export interface OpsResult {
  variants: VariantResult[];
  records: OpRecord[];
  seconds: number;
  /** 1-minute load average of the machine before and after: other work on it shows in the tails. */
  loadAverage: { before: number; after: number };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs the operations part: opens every variant (one whose server is unreachable is skipped, with the
 * reason), makes `warmup` + `calls` agent calls on each, back to back or interleaved, then closes and cleans
 * up every store it opened, also when a call throws.
 */
export async function runOps(o: StateBenchOptions, runId: string, log: (line: string) => void): Promise<OpsResult> {
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
