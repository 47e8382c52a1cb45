/**
 * Nalar's worker-side error type with stable codes.
 *
 * Every code is listed here once. `isNalarError` checks a symbol instead of `instanceof`, because a class
 * loaded twice (Jest module registries, the Temporal workflow sandbox, two copies in node_modules) makes
 * `instanceof` lie.
 */

/** Stable error codes. The string is part of the public API: never change one, only add. */
export const ErrorCode = {
  /** A setting (environment variable, config file or option) has a bad value. */
  CONFIG_INVALID: 'NALAR_ERR_CONFIG_INVALID',
  /** A TCP port Nalar needs is already taken by another process. */
  PORT_IN_USE: 'NALAR_ERR_PORT_IN_USE',
  /** A required external tool (Temporal CLI, k6) is missing and cannot be built here. */
  TOOL_MISSING: 'NALAR_ERR_TOOL_MISSING',
  /** Building a pinned tool with `go install` failed. */
  TOOL_BUILD_FAILED: 'NALAR_ERR_TOOL_BUILD_FAILED',
  /** A process of the stack did not become ready before its deadline. */
  READINESS_TIMEOUT: 'NALAR_ERR_READINESS_TIMEOUT',
  /** A process of the stack exited while it was expected to run. */
  PROCESS_EXITED: 'NALAR_ERR_PROCESS_EXITED',
  /** An agent or tool definition is invalid (bad name, unknown directive, duplicate, unsupported type). */
  DEFINITION_INVALID: 'NALAR_ERR_DEFINITION_INVALID',
  /** Generated stubs do not match the definitions (run `npm run stubs`). */
  STUBS_STALE: 'NALAR_ERR_STUBS_STALE',
  /** Session state: a compare-and-set found another version (or owner epoch) than expected. */
  STATE_CONFLICT: 'NALAR_ERR_STATE_CONFLICT',
  /** Session state: a bad namespace, key, value, opId, index or option. */
  STATE_INVALID: 'NALAR_ERR_STATE_INVALID',
  /** Session state: the backend cannot be reached (connection refused, timed out, lock not obtainable). */
  STATE_UNAVAILABLE: 'NALAR_ERR_STATE_UNAVAILABLE',
  /** Blob GC could not read every history (or schedule) it must keep blobs for; it deleted nothing. */
  BLOB_GC_ABORTED: 'NALAR_ERR_BLOB_GC_ABORTED',
  /** A command line had unknown or malformed arguments. */
  USAGE: 'NALAR_ERR_USAGE',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const nalarErrorMarker = Symbol.for('nalar.error');

/** An error with a stable {@link ErrorCode}; `message` is written for the person who has to fix it. */
export class NalarError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NalarError';
    this.code = code;
    Object.defineProperty(this, nalarErrorMarker, { value: true });
  }
}

/** True for any {@link NalarError}, even one created by another copy of this module. */
export function isNalarError(err: unknown): err is NalarError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[nalarErrorMarker] === true;
}

/** True when `err` is a {@link NalarError} with the given code. */
export function hasErrorCode(err: unknown, code: ErrorCode): err is NalarError {
  return isNalarError(err) && err.code === code;
}

/**
 * The message of anything thrown. Not `instanceof Error`: errors from another realm (Node internals under
 * Jest, worker threads) fail that check but still carry a message.
 */
export function errorMessage(err: unknown): string {
  return typeof err === 'object' && err !== null && 'message' in err ? String(err.message) : String(err);
}
