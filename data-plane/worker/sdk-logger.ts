/**
 * The Temporal SDK's logger for worker processes: Temporal's own line format (`<time> [LEVEL] message
 * {meta}`), at the level of NALAR_LOG_LEVEL, coloured only when `color` says so. The SDK's default decides
 * colours from its own stderr, which under the supervisor is a pipe; and a logger with a custom log function
 * also keeps ANSI codes out of the core SDK's forwarded logs and the workflow bundler's report.
 */
import { formatWithOptions } from 'node:util';
import { DefaultLogger, type LogEntry, type LogLevel as SdkLogLevel } from '@temporalio/worker';
import type { LogLevel } from '../../common/log';

const sdkLevels: Record<LogLevel, SdkLogLevel> = { debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR' };

/** A logger for `Runtime.install({ logger })` writing to stderr. */
export function sdkLogger(level: LogLevel, color: boolean, write: (line: string) => void = stderr): DefaultLogger {
  const format = (value: unknown): string => formatWithOptions({ colors: color }, value);
  return new DefaultLogger(sdkLevels[level], ({ level: lineLevel, timestampNanos, message, meta }: LogEntry) => {
    const time = new Date(Number(timestampNanos / 1_000_000n)).toISOString();
    write(`${time} [${lineLevel}] ${message}${meta === undefined ? '' : ` ${format(meta)}`}\n`);
  });
}

function stderr(line: string): void {
  process.stderr.write(line);
}
