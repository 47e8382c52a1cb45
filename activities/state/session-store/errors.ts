/**
 * Errors of the session-state store, with stable codes.
 *
 * `SessionStoreError.is` checks a symbol instead of `instanceof`, because a class loaded twice (Jest module
 * registries, two copies in node_modules) makes `instanceof` lie — the same pattern as `isNalarError`.
 */

/** Stable codes. The strings are part of the public API: never change one, only add. */
export const SessionStoreErrorCode = {
  /** A compare-and-set failed: the version (or owner epoch) was not the expected one. */
  CONFLICT: 'NALAR_ERR_STATE_CONFLICT',
  /** An argument is invalid (bad namespace, key, value, opId, index or option). */
  INVALID: 'NALAR_ERR_STATE_INVALID',
  /** The backend cannot be reached (connection refused, timed out, lock not obtainable). */
  UNAVAILABLE: 'NALAR_ERR_STATE_UNAVAILABLE',
} as const;

export type SessionStoreErrorCode = (typeof SessionStoreErrorCode)[keyof typeof SessionStoreErrorCode];

const sessionStoreErrorMarker = Symbol.for('nalar.session-store.error');

/** Extra fields of a {@link SessionStoreError}. */
export interface SessionStoreErrorDetails {
  /** For conflicts: the version (or epoch) the caller expected; 0 means "absent". */
  expectedVersion?: number;
  /** For conflicts: the version (or epoch) found; 0 means "absent". */
  actualVersion?: number;
  cause?: unknown;
}

/** An error of the session store with a stable {@link SessionStoreErrorCode}. */
export class SessionStoreError extends Error {
  readonly code: SessionStoreErrorCode;
  /** Set on `NALAR_ERR_STATE_CONFLICT`: the version or epoch the caller expected. */
  readonly expectedVersion?: number;
  /** Set on `NALAR_ERR_STATE_CONFLICT`: the version or epoch found (0 = absent). */
  readonly actualVersion?: number;

  constructor(code: SessionStoreErrorCode, message: string, details: SessionStoreErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'SessionStoreError';
    this.code = code;
    if (details.expectedVersion !== undefined) this.expectedVersion = details.expectedVersion;
    if (details.actualVersion !== undefined) this.actualVersion = details.actualVersion;
    Object.defineProperty(this, sessionStoreErrorMarker, { value: true });
  }

  /** True for any {@link SessionStoreError}, even one created by another copy of this module. */
  static is(err: unknown): err is SessionStoreError {
    return (
      typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[sessionStoreErrorMarker] === true
    );
  }

  /** True when `err` is a {@link SessionStoreError} with the given code. */
  static hasCode(err: unknown, code: SessionStoreErrorCode): err is SessionStoreError {
    return SessionStoreError.is(err) && err.code === code;
  }
}

/** A version or epoch conflict; `what` names the thing compared (for the message). */
export function conflictError(what: string, expected: number, actual: number): SessionStoreError {
  return new SessionStoreError(
    SessionStoreErrorCode.CONFLICT,
    `${what}: expected version ${expected}, found ${actual}${actual === 0 ? ' (absent)' : ''}`,
    { expectedVersion: expected, actualVersion: actual },
  );
}

/** Wraps a driver error that means "cannot reach the backend". */
export function unavailableError(backend: string, detail: string, cause?: unknown): SessionStoreError {
  const why = cause instanceof Error ? `: ${cause.message || cause.name}` : '';
  return new SessionStoreError(
    SessionStoreErrorCode.UNAVAILABLE,
    `${backend} session store unavailable (${detail})${why}`,
    {
      cause,
    },
  );
}
