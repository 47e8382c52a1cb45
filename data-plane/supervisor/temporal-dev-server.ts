/**
 * The embedded Temporal dev server (Temporal CLI `server start-dev`, SQLite), started with the dynamic
 * config that turns on the new matcher and fairness so task-queue priority and fairness keys work, and that
 * takes the history queue readers' rate limits off a chain of fast steps.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseHostPort } from '../../common/config';
import type { StackComponent } from './component';
import { ManagedProcess, type LineSink } from './managed-process';
import { httpReady, temporalReady, waitUntil } from './readiness';

export interface TemporalDevServerOptions {
  /** Path of the Temporal CLI binary. */
  bin: string;
  /** `host:port` of the frontend gRPC service. */
  address: string;
  /** Namespace that must exist; 'default' always does. */
  namespace: string;
  /** Web UI port; `undefined` runs headless. */
  uiPort?: number;
  /** Folder for the SQLite file `temporal.db`. */
  dataDir: string;
  /** Codec server the Web UI decodes payloads with (`--ui-codec-endpoint`); unset: none. */
  uiCodecEndpoint?: string;
  /**
   * `key=value` dynamic config entries passed with `--dynamic-config-value`. Only benchmarks that compare
   * against Temporal's own defaults pass anything else. @default {@link devServerDynamicConfig}
   */
  dynamicConfig?: readonly string[];
  /** `PRAGMA=value` entries passed with `--sqlite-pragma`. @default {@link devServerSqlitePragmas} */
  sqlitePragmas?: readonly string[];
}

/**
 * Dynamic config that makes the server honour priority and fairness keys: the new matcher and fairness.
 * One partition per task queue makes that order strict: priority is ordered within a partition, and with
 * the default four a poll served by a partition that holds only low-priority tasks hands one out while
 * higher-priority work waits elsewhere. A single-node dev server gains nothing from more partitions.
 */
export const devServerPriorityConfig = [
  'matching.useNewMatcher=true',
  'matching.enableFairness=true',
  'matching.numTaskqueueReadPartitions=1',
  'matching.numTaskqueueWritePartitions=1',
] as const;

/**
 * Dynamic config that takes the history service's own floor off a chain of fast steps (server 1.29; see
 * docs/temporal-settings.md, which also covers production clusters). The history service hands every
 * workflow task, activity task and timer to its workers through per-shard queue readers, and the dev server
 * has one shard. Figures: p50 per sequential step of one workflow at a time, run back to back on one dev
 * server with Temporal's defaults → these values (load-tests/bench/workflows/sequential-steps.ts, November
 * 2026, 2 shared cores); `npm run bench -- futures` measures the same, servers alternating, every run
 * (load-tests/results/futures/report.md).
 * - `transferProcessorMaxPollRPS`: the transfer queue reader (workflow and activity task dispatch) loads
 *   at most 20 times a second per shard (token bucket, burst = rate); a chain of hops waits about 50 ms per
 *   dispatch, two per step: 100.7 → 20.3 ms per awaited no-op stub call.
 * - `timerProcessorMaxTimeShift`: a new timer fires no earlier than this after the timer reader's last read
 *   (default 1 s), so a 10 ms think time or `value(timeoutMs)` took a second: 1015 ms per 10 ms timer step
 *   with the transfer knob alone. One process has one clock, so nothing here needs the margin.
 * - `timerProcessorMaxPollRPS`: the timer queue reader has the same 20 loads a second; with the shift
 *   lowered, a chain of short timers waits for its tokens instead: 219 ms per 10 ms timer step without this
 *   knob, 26.6 ms with it.
 * The visibility and outbound readers have the same default and are left alone: nothing in a step waits
 * for them (visibility only makes a finished workflow show up in list queries; outbound serves Nexus and
 * callbacks, which Nalar does not use).
 */
export const devServerHistoryQueueConfig = [
  'history.transferProcessorMaxPollRPS=1000',
  'history.timerProcessorMaxPollRPS=1000',
  'history.timerProcessorMaxTimeShift="10ms"',
] as const;

/**
 * SQLite settings of the dev server's database: write-ahead log, synced at checkpoints rather than at every
 * commit. A step commits several transactions, and with SQLite's defaults (rollback journal, a sync per
 * commit) each waits for the disk: on a shared 2-core machine 43–53 ms per awaited stub call, against 13–16
 * ms with these (same load, back to back, with devServerHistoryQueueConfig in both). The database stays
 * consistent either way, and a crash of the dev server or any other process loses nothing; only a power
 * loss or OS crash can lose the last commits (SQLite's documented trade for `synchronous=NORMAL` in WAL
 * mode), acceptable for the embedded stack.
 */
export const devServerSqlitePragmas = ['journal_mode=wal', 'synchronous=normal'] as const;

/** Dynamic config values the dev server is always started with (npm start, tests, benchmarks, compose). */
export const devServerDynamicConfig: readonly string[] = [...devServerPriorityConfig, ...devServerHistoryQueueConfig];

/** The exact `temporal` arguments for these options. */
export function devServerArgs(o: TemporalDevServerOptions): string[] {
  const { host, port } = parseHostPort(o.address);
  const args = ['server', 'start-dev', '--ip', host, '--port', String(port)];
  args.push('--db-filename', path.join(o.dataDir, 'temporal.db'));
  if (o.uiPort === undefined) args.push('--headless');
  else {
    args.push('--ui-ip', host, '--ui-port', String(o.uiPort));
    if (o.uiCodecEndpoint !== undefined) args.push('--ui-codec-endpoint', o.uiCodecEndpoint);
  }
  if (o.namespace !== 'default') args.push('--namespace', o.namespace);
  for (const kv of o.dynamicConfig ?? devServerDynamicConfig) args.push('--dynamic-config-value', kv);
  for (const p of o.sqlitePragmas ?? devServerSqlitePragmas) args.push('--sqlite-pragma', p);
  args.push('--log-level', 'warn');
  return args;
}

/**
 * While it stops, the dev server's own system workers and internal clients lose their connections to the
 * services it has just closed and log about a dozen warnings ("Failed to poll for task", "connection
 * refused"). Nothing is wrong then; errors are still shown.
 */
export function isShutdownNoise(line: string): boolean {
  return /\blevel=WARN\b/.test(line);
}

/** `dir` relative to the working directory when it lies inside it (shorter in `--help`). */
function shortPath(dir: string): string {
  const rel = path.relative(process.cwd(), dir);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : dir;
}

/** The dev server as a {@link StackComponent}. */
export function temporalDevServer(o: TemporalDevServerOptions): StackComponent {
  const { host, port } = parseHostPort(o.address);
  const ports = [{ host, port, what: 'Temporal gRPC', setting: `TEMPORAL_ADDRESS=${host}:<port>` }];
  const endpoints = [`Temporal gRPC     ${o.address} (namespace ${o.namespace})`];
  if (o.uiPort !== undefined) {
    ports.push({ host, port: o.uiPort, what: 'Temporal Web UI', setting: 'NALAR_DEV_SERVER_UI_PORT' });
    endpoints.push(`Temporal Web UI   http://${host}:${o.uiPort}`);
  }
  return {
    name: 'temporal',
    description: `Temporal dev server at ${o.address} (SQLite in ${shortPath(o.dataDir)}${
      o.uiPort === undefined ? ', headless' : `, Web UI port ${o.uiPort}`
    }, priority and fairness on)`,
    ports,
    endpoints,
    launch(sink: LineSink) {
      mkdirSync(o.dataDir, { recursive: true });
      return ManagedProcess.start(
        { name: 'temporal', command: o.bin, args: devServerArgs(o), quietWhileStopping: isShutdownNoise },
        sink,
      );
    },
    async waitReady(proc, timeoutMs) {
      const abort = proc.exitedAsError();
      await waitUntil(() => temporalReady(o.address, o.namespace), {
        what: `Temporal dev server at ${o.address}`,
        timeoutMs,
        intervalMs: 200,
        abort,
      });
      if (o.uiPort !== undefined) {
        const url = `http://${host}:${o.uiPort}`;
        await waitUntil(() => httpReady(url), { what: `Temporal Web UI at ${url}`, timeoutMs, abort });
      }
    },
  };
}
