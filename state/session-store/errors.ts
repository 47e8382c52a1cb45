/**
 * Errors of the session-state store, with stable codes.
 *
 * They are {@link NalarError}s (so `isNalarError` and `hasErrorCode` work on them), with conflict details.
 */
import { ErrorCode, hasErrorCode, isNalarError, NalarError } from '../../common/errors';

/** The session store's codes (registered with every other code in common/errors.ts). */
export const SessionStoreErrorCode = {
  CONFLICT: ErrorCode.STATE_CONFLICT,
  INVALID: ErrorCode.STATE_INVALID,
  UNAVAILABLE: ErrorCode.STATE_UNAVAILABLE,
} as const;

export type SessionStoreErrorCode = (typeof SessionStoreErrorCode)[keyof typeof SessionStoreErrorCode];

/** Extra fields of a {@link SessionStoreError}. */
export interface SessionStoreErrorDetails {
  /** For conflicts: the version (or epoch) the caller expected; 0 means "absent". */
  expectedVersion?: number;
  /** For conflicts: the version (or epoch) found; 0 means "absent". */
  actualVersion?: number;
  cause?: unknown;
}

const stateCodes: readonly string[] = Object.values(SessionStoreErrorCode);

/** A {@link NalarError} of the session store; conflicts carry the expected and found versions. */
export class SessionStoreError extends NalarError {
  declare readonly code: SessionStoreErrorCode;
  /** Set on `NALAR_ERR_STATE_CONFLICT`: the version or epoch the caller expected. */
  readonly expectedVersion?: number;
  /** Set on `NALAR_ERR_STATE_CONFLICT`: the version or epoch found (0 = absent). */
  readonly actualVersion?: number;

  constructor(code: SessionStoreErrorCode, message: string, details: SessionStoreErrorDetails = {}) {
    const { cause, ...versions } = details;
    // The versions also travel as the failure's details, so a workflow sees them after the activity boundary.
    super(code, message, { cause, ...(Object.keys(versions).length > 0 && { details: versions }) });
    this.name = 'SessionStoreError';
    if (details.expectedVersion !== undefined) this.expectedVersion = details.expectedVersion;
    if (details.actualVersion !== undefined) this.actualVersion = details.actualVersion;
  }

  /** True for any session-store error, even one created by another copy of this module. */
  static is(err: unknown): err is SessionStoreError {
    return isNalarError(err) && stateCodes.includes(err.code);
  }

  /** True when `err` is a session-store error with the given code. */
  static hasCode(err: unknown, code: SessionStoreErrorCode): err is SessionStoreError {
    return hasErrorCode(err, code);
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
