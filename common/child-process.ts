/**
 * What every long-running process of the stack does around its work: wait until it is asked to stop, let its
 * supervisor go, and end with a one-line error when `main` fails. One place, so the codec server, the gateway
 * and the simulator stop and fail alike.
 */
import { loadConfig, type NalarConfig } from './config';
import { ErrorCode, isNalarError, NalarError } from './errors';
import { createLogger, type Logger } from './log';

/**
 * The start of a stack process's `main`: `--help` (or `-h`) prints `usage` and returns undefined (nothing
 * else to do); any other argument is a `NALAR_ERR_USAGE`; otherwise the validated configuration and a
 * logger named `name` at NALAR_LOG_LEVEL.
 */
export function processStartup(
  usage: string,
  name: string,
  argv: readonly string[] = process.argv.slice(2),
): { config: NalarConfig; log: Logger } | undefined {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage);
    return undefined;
  }
  if (argv.length) throw new NalarError(ErrorCode.USAGE, `unknown argument(s) ${argv.join(' ')}; see --help`);
  const config = loadConfig();
  return { config, log: createLogger(name, config.logLevel) };
}

/**
 * Resolves on the first SIGINT or SIGTERM, or when the supervisor's IPC channel closes (the supervisor went
 * away: stop rather than linger as an orphan).
 */
export function stopRequested(): Promise<void> {
  return new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
    process.once('disconnect', () => resolve());
  });
}

/** Closes the IPC channel to the supervisor (if any), so the process can exit once its work is closed. */
export function releaseSupervisor(): void {
  if (process.connected) process.disconnect();
}

/** Runs a process's `main`; a failure prints `CODE: message` (a NalarError) or the error, and exits 1. */
export function runMain(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    console.error(isNalarError(err) ? `${err.code}: ${err.message}` : err);
    process.exit(1);
  });
}

/**
 * `app.listen` on `host:port`; a taken port rejects with `NALAR_ERR_PORT_IN_USE` naming `what` and the
 * setting that changes it (the app is closed first).
 */
export async function listenOrExplain(
  app: { listen(options: { host: string; port: number }): Promise<unknown>; close(): Promise<unknown> },
  where: { host: string; port: number; what: string; setting: string },
): Promise<void> {
  try {
    await app.listen({ host: where.host, port: where.port });
  } catch (err) {
    await app.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new NalarError(
        ErrorCode.PORT_IN_USE,
        `port ${where.port} on ${where.host} (${where.what}) is already in use; change it with ${where.setting}`,
      );
    }
    throw err;
  }
}
