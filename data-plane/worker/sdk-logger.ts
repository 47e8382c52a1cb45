/**
 * The Temporal SDK's logs (its TypeScript side and the native core) through the worker's own line logger,
 * each repeated warning about one workflow run said once. A workflow task that keeps failing makes the SDK
 * warn on every retry ("Failing workflow task", "Workflow failed", with the whole failure each time); the
 * worker already reports such a run once at error level (task-failure-log.ts), so repeats go to debug.
 */
import { inspect } from 'node:util';
import type { Logger as SdkLogger, LogLevel as SdkLogLevel, LogMetadata } from '@temporalio/common';
import type { LogFields, Logger } from '../../common/log';
import { RecentKeys } from './task-failure-log';

/** Longest field value printed; the core's failure dumps run to kilobytes. */
const maxFieldLength = 500;

function fieldValue(value: unknown): string | number | boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return typeof value === 'string' && value.length > maxFieldLength ? `${value.slice(0, maxFieldLength)}…` : value;
  }
  const text =
    value instanceof Error ? `${value.name}: ${value.message}` : inspect(value, { depth: 2, breakLength: Infinity });
  return text.length > maxFieldLength ? `${text.slice(0, maxFieldLength)}…` : text;
}

function fieldsOf(meta: LogMetadata | undefined): LogFields {
  const fields: LogFields = {};
  for (const [key, value] of Object.entries(meta ?? {})) fields[key] = fieldValue(value);
  return fields;
}

/** The run a log line is about: the TypeScript side says `runId`, the core `run_id`. */
function runIdOf(meta: LogMetadata | undefined): string | undefined {
  const runId = meta?.runId ?? meta?.run_id;
  return typeof runId === 'string' ? runId : undefined;
}

/**
 * A Temporal `Logger` (for `Runtime.install`) writing to `log`: TRACE and DEBUG become debug. A warning or
 * error about a workflow run is written once per run and message; its repeats are written at debug.
 */
export function sdkLogger(log: Logger): SdkLogger {
  const seen = new RecentKeys();
  const write = (level: SdkLogLevel, message: string, meta?: LogMetadata): void => {
    const fields = fieldsOf(meta);
    const runId = runIdOf(meta);
    if ((level === 'WARN' || level === 'ERROR') && runId !== undefined && !seen.add(`${runId} ${message}`)) {
      log.debug(`${message} (again)`, fields);
      return;
    }
    if (level === 'ERROR') log.error(message, fields);
    else if (level === 'WARN') log.warn(message, fields);
    else if (level === 'INFO') log.info(message, fields);
    else log.debug(message, fields);
  };
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}
