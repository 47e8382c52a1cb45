/**
 * Whether a process writes ANSI colours. One rule for every Nalar process, the one Node itself follows:
 * `FORCE_COLOR` wins when set (`0` or `false` turn colours off, anything else on), then `NO_COLOR` (any
 * non-empty value turns them off), then whether the stream is a terminal. The supervisor decides once for
 * the terminal the user sees and hands the decision to its children as `FORCE_COLOR` (their own output is
 * a pipe to the supervisor, so they cannot tell).
 */

/** The part of a stream the decision reads. */
export interface ColorStream {
  isTTY?: boolean;
}

/** True when output to `stream` may carry ANSI colour codes. */
export function colorEnabled(stream: ColorStream, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true;
}

/** The environment entries that make a child process colour its output exactly when `color` is true. */
export function colorEnv(color: boolean): NodeJS.ProcessEnv {
  return { FORCE_COLOR: color ? '1' : '0' };
}
