/**
 * Nalar's error codes, in one registry, and how errors carrying them cross the activity boundary.
 *
 * Every code is listed here once, with its meaning, whether retrying can succeed and an HTTP status where one
 * applies; docs/errors.md shows the same table (a test keeps the two equal). Worker-side code throws a
 * {@link NalarError}; the worker's activity interceptor turns it into an `ApplicationFailure` whose type is
 * the code ({@link toApplicationFailure}), so workflows and clients see the code and Temporal retries only
 * what can succeed on retry. `isNalarError` checks a symbol instead of `instanceof`, because a class loaded
 * twice (Jest module registries, the Temporal workflow sandbox, two copies in node_modules) makes
 * `instanceof` lie.
 */
import { ApplicationFailure, type Duration } from '@temporalio/common';

/**
 * Stable error codes, which are also the `ApplicationFailure` types workflows and clients see. The string is
 * part of the public API: never change one, only add (a rename keeps the old name in `formerly` for one
 * release). What each means: {@link errorCodes}.
 */
export const ErrorCode = {
  CONFIG_INVALID: 'NALAR_ERR_CONFIG_INVALID',
  PORT_IN_USE: 'NALAR_ERR_PORT_IN_USE',
  TOOL_MISSING: 'NALAR_ERR_TOOL_MISSING',
  TOOL_BUILD_FAILED: 'NALAR_ERR_TOOL_BUILD_FAILED',
  READINESS_TIMEOUT: 'NALAR_ERR_READINESS_TIMEOUT',
  PROCESS_EXITED: 'NALAR_ERR_PROCESS_EXITED',
  DEFINITION_INVALID: 'NALAR_ERR_DEFINITION_INVALID',
  STUBS_STALE: 'NALAR_ERR_STUBS_STALE',
  STATE_CONFLICT: 'NALAR_ERR_STATE_CONFLICT',
  STATE_INVALID: 'NALAR_ERR_STATE_INVALID',
  STATE_UNAVAILABLE: 'NALAR_ERR_STATE_UNAVAILABLE',
  BLOB_GC_ABORTED: 'NALAR_ERR_BLOB_GC_ABORTED',
  USAGE: 'NALAR_ERR_USAGE',
  INVALID_INPUT: 'NALAR_ERR_INVALID_INPUT',
  FUTURE_TIMEOUT: 'NALAR_ERR_FUTURE_TIMEOUT',
  LLM_RATE_LIMITED: 'NALAR_ERR_LLM_RATE_LIMITED',
  LLM_SERVER_ERROR: 'NALAR_ERR_LLM_SERVER_ERROR',
  LLM_TIMEOUT: 'NALAR_ERR_LLM_TIMEOUT',
  LLM_UNAVAILABLE: 'NALAR_ERR_LLM_UNAVAILABLE',
  LLM_BAD_REQUEST: 'NALAR_ERR_LLM_BAD_REQUEST',
  LLM_UNAUTHORIZED: 'NALAR_ERR_LLM_UNAUTHORIZED',
  LLM_NOT_FOUND: 'NALAR_ERR_LLM_NOT_FOUND',
  LLM_CANCELLED: 'NALAR_ERR_LLM_CANCELLED',
  LLM_CONTEXT_LENGTH: 'NALAR_ERR_LLM_CONTEXT_LENGTH',
  LLM_OUT_OF_MEMORY: 'NALAR_ERR_LLM_OUT_OF_MEMORY',
  LLM_QUEUE_TIMEOUT: 'NALAR_ERR_LLM_QUEUE_TIMEOUT',
  LLM_DEADLINE_EXCEEDED: 'NALAR_ERR_LLM_DEADLINE_EXCEEDED',
  WORKFLOW_NOT_FOUND: 'NALAR_ERR_WORKFLOW_NOT_FOUND',
  BLOB_MISSING: 'NALAR_ERR_BLOB_MISSING',
  UNAUTHORIZED: 'NALAR_ERR_UNAUTHORIZED',
  STUB_METHOD_UNKNOWN: 'NALAR_ERR_STUB_METHOD_UNKNOWN',
  NOT_FOUND: 'NALAR_ERR_NOT_FOUND',
  RATE_LIMITED: 'NALAR_ERR_RATE_LIMITED',
  PAYLOAD_TOO_LARGE: 'NALAR_ERR_PAYLOAD_TOO_LARGE',
  MEDIA_TYPE: 'NALAR_ERR_MEDIA_TYPE',
  RUN_CLOSED: 'NALAR_ERR_RUN_CLOSED',
  NOT_IMPLEMENTED: 'NALAR_ERR_NOT_IMPLEMENTED',
  TEMPORAL_DOWN: 'NALAR_ERR_TEMPORAL_DOWN',
  INTERNAL: 'NALAR_ERR_INTERNAL',
  AGENT_MAX_STEPS: 'NALAR_ERR_AGENT_MAX_STEPS',
  DEADLINE_EXCEEDED: 'NALAR_ERR_DEADLINE_EXCEEDED',
  CONFLICT: 'NALAR_ERR_CONFLICT',
  PROVISIONER_FAILED: 'NALAR_ERR_PROVISIONER_FAILED',
  REPLICA_NOT_FOUND: 'NALAR_ERR_REPLICA_NOT_FOUND',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** What one code means and how Nalar treats it. */
export interface ErrorCodeInfo {
  /** One line: what went wrong. */
  readonly meaning: string;
  /**
   * Whether the same call can succeed when tried again. Temporal retries an activity that fails with a
   * retryable code (within its retry policy) and never one that fails with a non-retryable code.
   */
  readonly retryable: boolean;
  /** The HTTP status that reports it to an HTTP client, where one applies. */
  readonly httpStatus?: number;
  /** The failure type this code had before 0.2; {@link failureCode} still reads it as this code until 0.3. */
  readonly formerly?: string;
}

/** The registry: every {@link ErrorCode} with its meaning, retryability and HTTP status. */
export const errorCodes: { readonly [C in ErrorCode]: ErrorCodeInfo } = {
  [ErrorCode.CONFIG_INVALID]: {
    meaning: 'A setting (environment variable, config file or option) has a bad value.',
    retryable: false,
  },
  [ErrorCode.PORT_IN_USE]: { meaning: 'A TCP port Nalar needs is already taken by another process.', retryable: false },
  [ErrorCode.TOOL_MISSING]: {
    meaning: 'A required external tool (Temporal CLI, k6) is missing and cannot be built here.',
    retryable: false,
  },
  [ErrorCode.TOOL_BUILD_FAILED]: { meaning: 'Building a pinned tool with `go install` failed.', retryable: false },
  [ErrorCode.READINESS_TIMEOUT]: {
    meaning: 'A process of the stack did not become ready before its deadline.',
    retryable: false,
  },
  [ErrorCode.PROCESS_EXITED]: {
    meaning: 'A process of the stack exited while it was expected to run.',
    retryable: false,
  },
  [ErrorCode.DEFINITION_INVALID]: {
    meaning: 'An agent or tool definition is invalid (bad name, unknown directive, duplicate, unsupported type).',
    retryable: false,
  },
  [ErrorCode.STUBS_STALE]: {
    meaning: 'Generated stubs do not match the definitions (run `npm run stubs`).',
    retryable: false,
  },
  [ErrorCode.STATE_CONFLICT]: {
    meaning: 'Session state: a compare-and-set found another version (or owner epoch) than expected.',
    retryable: true,
    httpStatus: 409,
  },
  [ErrorCode.STATE_INVALID]: {
    meaning: 'Session state: a bad session id, namespace, key, value (not JSON), opId, index or option.',
    retryable: false,
    httpStatus: 500,
  },
  [ErrorCode.STATE_UNAVAILABLE]: {
    meaning: 'Session state: the backend cannot be reached (connection refused, timed out, lock not obtainable).',
    retryable: true,
    httpStatus: 503,
  },
  [ErrorCode.BLOB_GC_ABORTED]: {
    meaning: 'Blob GC could not read every history (or schedule) it must keep blobs for; it deleted nothing.',
    retryable: true,
  },
  [ErrorCode.USAGE]: { meaning: 'A command line had unknown or malformed arguments.', retryable: false },
  [ErrorCode.INVALID_INPUT]: {
    meaning: 'An activity or workflow rejected its input; the message names every bad field.',
    retryable: false,
    httpStatus: 400,
    formerly: 'NALAR_INVALID_INPUT',
  },
  [ErrorCode.FUTURE_TIMEOUT]: {
    meaning: "`future.value(timeoutMs)` gave up waiting for the call's result (the call itself goes on).",
    retryable: false,
    httpStatus: 504,
    formerly: 'NALAR_FUTURE_TIMEOUT',
  },
  [ErrorCode.LLM_RATE_LIMITED]: {
    meaning: 'The model endpoint answered 429 (overloaded or over quota); retried after its Retry-After.',
    retryable: true,
    httpStatus: 503,
    formerly: 'NALAR_LLM_RATE_LIMITED',
  },
  [ErrorCode.LLM_SERVER_ERROR]: {
    meaning: 'The model endpoint answered with a 5xx status.',
    retryable: true,
    httpStatus: 502,
    formerly: 'NALAR_LLM_SERVER_ERROR',
  },
  [ErrorCode.LLM_TIMEOUT]: {
    meaning: 'A model request took longer than the NALAR_LLM_TIMEOUT setting, or the endpoint answered 408.',
    retryable: true,
    httpStatus: 504,
    formerly: 'NALAR_LLM_TIMEOUT',
  },
  [ErrorCode.LLM_UNAVAILABLE]: {
    meaning: 'The model endpoint cannot be reached, or the connection broke mid-stream.',
    retryable: true,
    httpStatus: 503,
    formerly: 'NALAR_LLM_UNAVAILABLE',
  },
  [ErrorCode.LLM_BAD_REQUEST]: {
    meaning: 'The model endpoint rejected the request as malformed (400, 422 and other 4xx).',
    retryable: false,
    httpStatus: 502,
    formerly: 'NALAR_LLM_BAD_REQUEST',
  },
  [ErrorCode.LLM_UNAUTHORIZED]: {
    meaning: 'The model endpoint refused the API key (401 or 403).',
    retryable: false,
    httpStatus: 502,
    formerly: 'NALAR_LLM_UNAUTHORIZED',
  },
  [ErrorCode.LLM_NOT_FOUND]: {
    meaning: 'The model endpoint does not know the model or path (404).',
    retryable: false,
    httpStatus: 502,
    formerly: 'NALAR_LLM_NOT_FOUND',
  },
  [ErrorCode.LLM_CANCELLED]: {
    meaning: 'The model request was cancelled because its activity was.',
    retryable: false,
    formerly: 'NALAR_LLM_CANCELLED',
  },
  // Overload rejections (sim/README.md "Overload"). Context length and KV-cache exhaustion are not retried: the
  // same request fails again on the same (session-pinned) replica while it stays overloaded, so the workflow
  // must shorten, reroute or shed it. A queue timeout is retried like a 429: the request never ran. A deadline
  // is not: it is the caller's own latency budget, spent; a retry would answer late and add load to an
  // overloaded engine.
  [ErrorCode.LLM_CONTEXT_LENGTH]: {
    meaning: "The model endpoint refused the request as longer than the model's context or its whole KV cache (400).",
    retryable: false,
    httpStatus: 502,
  },
  [ErrorCode.LLM_OUT_OF_MEMORY]: {
    meaning: 'The model endpoint ran out of KV-cache memory for the request while overloaded (503 kv_cache_exhausted).',
    retryable: false,
    httpStatus: 503,
  },
  [ErrorCode.LLM_QUEUE_TIMEOUT]: {
    meaning: 'The model endpoint dropped the request after it waited too long for a batch slot (503 queue_timeout).',
    retryable: true,
    httpStatus: 503,
  },
  [ErrorCode.LLM_DEADLINE_EXCEEDED]: {
    meaning: "The model request's own deadline passed: dropped while waiting or aborted while running (408).",
    retryable: false,
    httpStatus: 504,
  },
  [ErrorCode.WORKFLOW_NOT_FOUND]: {
    meaning: 'The namespace has no workflow with this id (or no run with this run id).',
    retryable: false,
    httpStatus: 404,
  },
  [ErrorCode.BLOB_MISSING]: {
    meaning: 'An offloaded payload cannot be restored: its blob is not in the blob store (collected, or moved).',
    retryable: false,
    httpStatus: 404,
  },
  [ErrorCode.UNAUTHORIZED]: {
    meaning: 'An HTTP request was refused: no valid bearer token, or a web page origin the server refuses.',
    retryable: false,
    httpStatus: 401,
  },
  [ErrorCode.STUB_METHOD_UNKNOWN]: {
    meaning: 'A workflow called a method its agent/tool stub does not have (stale stubs: run `npm run stubs`).',
    retryable: false,
  },
  [ErrorCode.NOT_FOUND]: {
    meaning: 'An HTTP request named no route, workflow type or run that the caller may see.',
    retryable: false,
    httpStatus: 404,
  },
  [ErrorCode.RATE_LIMITED]: {
    meaning: 'A tenant is over its gateway rate or runs-in-flight limit; retry after Retry-After.',
    retryable: true,
    httpStatus: 429,
  },
  [ErrorCode.PAYLOAD_TOO_LARGE]: {
    meaning: 'An HTTP request body is larger than the server accepts.',
    retryable: false,
    httpStatus: 413,
  },
  [ErrorCode.MEDIA_TYPE]: {
    meaning: 'An HTTP request body has a content type the server does not accept (send JSON).',
    retryable: false,
    httpStatus: 415,
  },
  [ErrorCode.RUN_CLOSED]: {
    meaning: 'The run has already closed (completed, failed, cancelled, …), so it cannot be cancelled.',
    retryable: false,
    httpStatus: 409,
  },
  [ErrorCode.NOT_IMPLEMENTED]: {
    meaning: 'The request asks for a feature this server was started without (e.g. a streaming mode).',
    retryable: false,
    httpStatus: 501,
  },
  [ErrorCode.TEMPORAL_DOWN]: {
    meaning: 'The Temporal frontend cannot be reached or did not answer in time.',
    retryable: true,
    httpStatus: 503,
  },
  [ErrorCode.INTERNAL]: {
    meaning: 'A server failed in a way it did not expect (a bug); its log has the details.',
    retryable: false,
    httpStatus: 500,
  },
  [ErrorCode.AGENT_MAX_STEPS]: {
    meaning: 'An agent loop used its maxSteps model calls and the model still asked for tools.',
    retryable: false,
  },
  [ErrorCode.DEADLINE_EXCEEDED]: {
    meaning:
      "A request (a workload's turn, job or routed request) did not finish before its deadline (its input's `deadlineMs` or turn deadline); its pending calls were cancelled.",
    retryable: false,
    httpStatus: 504,
  },
  // Capacity (control-plane/capacity/): a conflict is retryable because the change under way ends (the drain
  // has a deadline); a provisioner failure may be a backend that is briefly away; an unknown replica is not.
  [ErrorCode.CONFLICT]: {
    meaning:
      'A change conflicts with one under way (a replica already being removed or reassigned); retry once it is done.',
    retryable: true,
    httpStatus: 409,
  },
  [ErrorCode.PROVISIONER_FAILED]: {
    meaning:
      'A provisioner backend (the simulator admin API, the NALAR_PROVISIONER_COMMAND hook) failed to list, start, stop or reassign a replica.',
    retryable: true,
    httpStatus: 502,
  },
  [ErrorCode.REPLICA_NOT_FOUND]: {
    meaning: 'The provisioner has no replica with this id (removed, or never existed).',
    retryable: false,
    httpStatus: 404,
  },
};

const codeByType = new Map<string, ErrorCode>();
for (const [code, info] of Object.entries(errorCodes) as [ErrorCode, ErrorCodeInfo][]) {
  codeByType.set(code, code);
  if (info.formerly !== undefined) codeByType.set(info.formerly, code);
}

/** True when Temporal should retry a call that failed with `code` (see {@link ErrorCodeInfo.retryable}). */
function isRetryable(code: ErrorCode): boolean {
  // A code this copy of the module does not know (a newer copy made it) gets Temporal's default: retried.
  return (errorCodes[code] as ErrorCodeInfo | undefined)?.retryable ?? true;
}

const nalarErrorMarker = Symbol.for('nalar.error');

/** Options of a {@link NalarError}. */
export interface NalarErrorOptions {
  cause?: unknown;
  /** Structured extras for code that handles the error (JSON values); they travel as the failure's details. */
  details?: Readonly<Record<string, unknown>>;
}

/** An error with a stable {@link ErrorCode}; `message` is written for the person who has to fix it. */
export class NalarError extends Error {
  readonly code: ErrorCode;
  /** Structured extras (e.g. a conflict's versions); the failure's `details[0]` after the activity boundary. */
  readonly details?: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options?: NalarErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NalarError';
    this.code = code;
    if (options?.details !== undefined) this.details = options.details;
    Object.defineProperty(this, nalarErrorMarker, { value: true });
  }
}

/** True for any {@link NalarError}, even one created by another copy of this module. */
export function isNalarError(err: unknown): err is NalarError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[nalarErrorMarker] === true;
}

/** True when `err` itself is a {@link NalarError} with the given code (for failures: {@link hasFailureCode}). */
export function hasErrorCode(err: unknown, code: ErrorCode): err is NalarError {
  return isNalarError(err) && err.code === code;
}

/** Options of {@link nalarFailure}. */
export interface NalarFailureOptions {
  cause?: unknown;
  /** Structured extras; they become the failure's `details[0]`. */
  details?: Readonly<Record<string, unknown>>;
  /** Overrides the retry policy's next delay (e.g. a 429's Retry-After). */
  nextRetryDelay?: Duration;
}

/**
 * An `ApplicationFailure` whose type is `code`, non-retryable exactly when the registry says the code is not
 * retryable. For activity code that throws failures itself; throwing a {@link NalarError} has the same effect
 * on a Nalar worker.
 */
export function nalarFailure(code: ErrorCode, message: string, options: NalarFailureOptions = {}): ApplicationFailure {
  return ApplicationFailure.create({
    type: code,
    message,
    nonRetryable: !isRetryable(code),
    ...(options.details !== undefined && { details: [options.details] }),
    ...(options.nextRetryDelay !== undefined && { nextRetryDelay: options.nextRetryDelay }),
    ...(options.cause instanceof Error && { cause: options.cause }),
  });
}

/**
 * What an activity's error becomes at the activity boundary (the worker's activity interceptor applies it to
 * every activity): a {@link NalarError} becomes an `ApplicationFailure` of type `code`, retryable as the
 * registry says, with its message, cause, details and stack. Anything else is returned unchanged: an
 * `ApplicationFailure` keeps its own type and retryability, and other errors get Temporal's default (type =
 * the class name, retried).
 */
export function toApplicationFailure(err: NalarError | ApplicationFailure): ApplicationFailure;
export function toApplicationFailure(err: unknown): unknown;
export function toApplicationFailure(err: unknown): unknown {
  if (!isNalarError(err)) return err;
  const failure = nalarFailure(err.code, err.message, {
    cause: err.cause,
    ...(err.details !== undefined && { details: err.details }),
  });
  // The workflow's failure shows where the error was thrown, not where it was converted.
  if (err.stack !== undefined) failure.stack = err.stack;
  return failure;
}

/**
 * The Nalar code behind an error: the code of the first {@link NalarError}, or of the first
 * `ApplicationFailure` whose type is a registered code, along the cause chain (so a client can pass the
 * `WorkflowFailedError` itself). A type that is a code's former name (`NALAR_LLM_RATE_LIMITED`, …, recorded in
 * older histories) counts as that code until 0.3. Undefined when nothing in the chain carries a code.
 */
export function failureCode(err: unknown): ErrorCode | undefined {
  let current = err;
  // Bounded: a cause chain can be cyclic.
  for (let depth = 0; depth < 16 && typeof current === 'object' && current !== null; depth++) {
    if (isNalarError(current)) return current.code;
    if (current instanceof ApplicationFailure && current.type) {
      const code = codeByType.get(current.type);
      if (code !== undefined) return code;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** True when {@link failureCode} of `err` is `code`: the check to use on failures a workflow or client sees. */
export function hasFailureCode(err: unknown, code: ErrorCode): boolean {
  return failureCode(err) === code;
}

/**
 * The message of anything thrown. Not `instanceof Error`: errors from another realm (Node internals under
 * Jest, worker threads) fail that check but still carry a message.
 */
export function errorMessage(err: unknown): string {
  return typeof err === 'object' && err !== null && 'message' in err ? String(err.message) : String(err);
}
