/** The `nalar state` command line: argument parsing, usage and output; `cli.ts` only runs it. */
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { msToNumber } from '@temporalio/common';
import { configDefaults, formatDefault, loadConfig, type NalarConfig } from '../../common/config';
import { ErrorCode, errorMessage, isNalarError } from '../../common/errors';
import { blobDirDescription, blobStoreOf, nalarDataConverter } from '../payloads/data-converter';
import { expireIdleSessions } from '../lifecycle/session-expiry';
import { sessionsExpired } from '../metrics';
import { sessionStoreFromConfig, type SessionStore } from '../session-store';
import { collectBlobGarbage } from '../lifecycle/blob-gc';

const settingsNote = `Settings come from the environment or NALAR_CONFIG_FILE as for npm start (npm start -- --help):
TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, NALAR_DATA_DIR, NALAR_STATE_BACKEND, NALAR_REDIS_URL,
NALAR_POSTGRES_URL, NALAR_SESSION_TTL, NALAR_BLOB_GC_GRACE.`;

/** The `--help` text of `nalar state`. */
export const usage = `Usage: nalar state <command> [options]

Maintenance of the managed state layer. Workers do gc and expire every NALAR_STATE_GC_INTERVAL by
themselves (the state janitor); these commands run them once, now.

Commands:
  gc       delete blobs (${blobDirDescription}) that no workflow history or schedule points to
  expire   delete the state of sessions not written for NALAR_SESSION_TTL
  stats    print the number and size of stored blobs and of session state

Run nalar state <command> --help for its options.
Exit codes: 0 done; 1 failed; 2 usage error (NALAR_ERR_USAGE).

${settingsNote}`;

const commandUsage = {
  gc: `Usage: nalar state gc [--dry-run] [--grace <duration>]

Blob garbage collection. Reads every execution (open and closed, every run) and every schedule of
TEMPORAL_NAMESPACE on TEMPORAL_ADDRESS, collects the claim-check handles in them, then deletes the stored
blobs that no handle points to and that were not written or reused within the grace time. If any history
cannot be read, nothing is deleted (exit 1). Only workers of this namespace may share the blob folder.

Options:
  --dry-run           delete nothing; report what would be deleted
  --grace <duration>  keep blobs used within this time, e.g. '30 minutes', '2h'
                      (default: NALAR_BLOB_GC_GRACE, ${formatDefault(configDefaults.blobGcGrace)}). Too short a grace can delete a value a
                      client or worker has stored but not yet written into history.
  -h, --help          print this help

${settingsNote}`,
  expire: `Usage: nalar state expire [--ttl <duration>] [--dry-run]

Deletes the whole state (values, lists, idempotency records, owner) of every session that was not written
for the TTL, in the NALAR_STATE_BACKEND store. A session that writes again later starts empty.

Options:
  --ttl <duration>    idle time after which a session expires, e.g. '24 hours', '90m'
                      (default: NALAR_SESSION_TTL, ${formatDefault(configDefaults.sessionTtl)})
  --dry-run           list the idle sessions; delete nothing
  -h, --help          print this help

${settingsNote}`,
  stats: `Usage: nalar state stats

Prints the number and total size of stored blobs (${blobDirDescription}) and of session state
(NALAR_STATE_BACKEND).

Options:
  -h, --help          print this help

${settingsNote}`,
} as const;

type StateCommand = keyof typeof commandUsage;

/** Where the command writes and what it reads; tests pass collectors and their own environment. */
export interface StateCommandIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Relative NALAR_DATA_DIR resolves against this. @default process.cwd() */
  cwd?: string;
}

class UsageError extends Error {}

/** Runs `nalar state` with `argv` (after `state`) and returns the exit code; never throws for user errors. */
export async function runStateCommand(argv: string[], io: StateCommandIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.out(usage);
    return 0;
  }
  if (!(command in commandUsage)) {
    io.err(`nalar state: ${ErrorCode.USAGE}: unknown command '${command}'\n\n${usage}`);
    return 2;
  }
  const name = command as StateCommand;
  let values: { 'dry-run'?: boolean; grace?: string; ttl?: string; help?: boolean };
  let durations: { grace?: number; ttl?: number };
  try {
    // Each command accepts only its own flags; parseArgs checks their types, so the cast is sound.
    values = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        ...(name !== 'stats' && { 'dry-run': { type: 'boolean' } }),
        ...(name === 'gc' && { grace: { type: 'string' } }),
        ...(name === 'expire' && { ttl: { type: 'string' } }),
      },
    }).values as typeof values;
    durations = {
      ...(values.grace !== undefined && { grace: parseDuration('--grace', values.grace) }),
      ...(values.ttl !== undefined && { ttl: parseDuration('--ttl', values.ttl) }),
    };
  } catch (err) {
    io.err(`nalar state ${name}: ${ErrorCode.USAGE}: ${errorMessage(err)}\n\n${commandUsage[name]}`);
    return 2;
  }
  if (values.help) {
    io.out(commandUsage[name]);
    return 0;
  }

  const say = (line: string): void => io.out(`nalar state ${name}: ${line}`);
  try {
    const config = loadConfig({ env: io.env ?? process.env, cwd: io.cwd ?? process.cwd() });
    const dryRun = values['dry-run'] ?? false;
    switch (name) {
      case 'gc':
        await gc(config, { dryRun, graceMs: durations.grace ?? config.blobGcGrace }, say);
        break;
      case 'expire':
        await expire(config, { dryRun, ttlMs: durations.ttl ?? config.sessionTtl }, say);
        break;
      case 'stats':
        await stats(config, say);
        break;
    }
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`nalar state ${name}: ${ErrorCode.USAGE}: ${err.message}`);
      return 2;
    }
    io.err(`nalar state ${name}: ${isNalarError(err) ? `${err.code}: ${err.message}` : errorMessage(err)}`);
    return 1;
  }
}

function parseDuration(flag: string, value: string): number {
  let ms: number;
  try {
    ms = msToNumber(value as Parameters<typeof msToNumber>[0]);
  } catch {
    ms = NaN;
  }
  if (!Number.isFinite(ms) || ms < 0) {
    throw new UsageError(`${flag}: expected a duration such as '30 minutes', '2h' or '500ms', got '${value}'`);
  }
  return ms;
}

async function gc(
  config: NalarConfig,
  options: { dryRun: boolean; graceMs: number },
  say: (line: string) => void,
): Promise<void> {
  const blobs = blobStoreOf(config);
  say(
    `blobs in ${blobs.dir}; executions of namespace ${config.temporalNamespace} at ${config.temporalAddress}; ` +
      `grace ${formatMs(options.graceMs)}${options.dryRun ? '; dry run' : ''}`,
  );
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: config.temporalAddress, connectTimeout: '10 seconds' });
  } catch (err) {
    throw new Error(
      `cannot connect to Temporal at ${config.temporalAddress} (TEMPORAL_ADDRESS): ${errorMessage(err)}`,
      {
        cause: err,
      },
    );
  }
  try {
    const client = new Client({
      connection,
      namespace: config.temporalNamespace,
      dataConverter: nalarDataConverter(config),
    });
    const report = await collectBlobGarbage({
      client,
      blobs,
      graceMs: options.graceMs,
      dryRun: options.dryRun,
      onProgress: say,
    });
    say(
      `${report.dryRun ? 'would delete' : 'deleted'} ${report.deleted} of ${report.blobs} blob(s) ` +
        `(${formatBytes(report.freedBytes)}); kept ${report.referenced} referenced, ${report.young} recently used; ` +
        `${report.workflowsScanned} execution(s) read in ${formatMs(report.durationMs)}`,
    );
  } finally {
    await connection.close();
  }
}

async function withStore<T>(config: NalarConfig, fn: (store: SessionStore) => Promise<T>): Promise<T> {
  const store = sessionStoreFromConfig(config);
  try {
    await store.waitUntilReady();
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function expire(
  config: NalarConfig,
  options: { dryRun: boolean; ttlMs: number },
  say: (line: string) => void,
): Promise<void> {
  say(`sessions not written for ${formatMs(options.ttlMs)} in the ${config.stateBackend} store`);
  await withStore(config, async (store) => {
    if (options.dryRun) {
      const idle = await store.idleNamespaces(options.ttlMs);
      say(`${idle.length} idle session(s) (dry run: nothing deleted)`);
      for (const ns of idle) say(`  ${ns}`);
      return;
    }
    const expired = await expireIdleSessions(store, options.ttlMs);
    sessionsExpired.inc(expired.length);
    say(`deleted the state of ${expired.length} session(s)`);
    for (const ns of expired) say(`  ${ns}`);
  });
}

async function stats(config: NalarConfig, say: (line: string) => void): Promise<void> {
  const blobs = blobStoreOf(config);
  const usage = await blobs.usage();
  say(`blobs: ${usage.count} in ${blobs.dir}, ${formatBytes(usage.bytes)}`);
  await withStore(config, async (store) => {
    const s = await store.stats();
    say(`session state (${config.stateBackend}): ${s.namespaces} session(s), ${formatBytes(s.bytes)}`);
  });
}

function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]} (${bytes} bytes)`;
}

function formatMs(ms: number): string {
  const steps: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1000, 's'],
  ];
  for (const [size, unit] of steps) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)}s` : `${ms}ms`;
}
