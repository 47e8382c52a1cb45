/**
 * A small line logger for Nalar's processes. Lines are plain text (`HH:MM:SS.mmm level [name] message`)
 * because the supervisor interleaves every process's output with a prefix; structured fields follow the
 * message as `key=value`. Secrets must never be passed to it.
 */

export const logLevels = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof logLevels)[number];

export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** Where lines go; tests pass an array-backed sink. @default process.stderr */
export type LogSink = (line: string) => void;

const stderrSink: LogSink = (line) => process.stderr.write(line + '\n');

function formatFields(fields: LogFields | undefined): string {
  if (!fields) return '';
  const parts = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : String(v)}`);
  return parts.length ? ' ' + parts.join(' ') : '';
}

/** Creates a logger that drops lines below `level`. */
export function createLogger(name: string, level: LogLevel = 'info', sink: LogSink = stderrSink): Logger {
  const threshold = logLevels.indexOf(level);
  const emit = (lineLevel: LogLevel, message: string, fields?: LogFields): void => {
    if (logLevels.indexOf(lineLevel) < threshold) return;
    const time = new Date().toISOString().slice(11, 23);
    sink(`${time} ${lineLevel.padEnd(5)} [${name}] ${message}${formatFields(fields)}`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
