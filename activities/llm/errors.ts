/**
 * How model-call errors become Temporal failures. Temporal owns retries (the OpenAI client runs with
 * maxRetries 0): overload, server errors, timeouts and broken connections are retryable, and a 429's
 * Retry-After becomes the next retry delay; requests the server rejects as wrong are not retried. An
 * engine's overload rejections (context length, KV cache exhausted, queue timeout, deadline: sim/README.md
 * "Overload") are recognised by their OpenAI error `code` first, whatever the status (a deadline that
 * aborts a stream arrives as an error event, without one); docs/errors.md says which are retried and why.
 */
import type { ApplicationFailure } from '@temporalio/common';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { ErrorCode, nalarFailure } from '../../common/errors';

/**
 * The failure types of model calls under their names before 0.2.
 * @deprecated Use `ErrorCode.LLM_…` (common/errors.ts); removed in 0.3. The values are the new codes.
 */
export const LlmFailureType = {
  RATE_LIMITED: ErrorCode.LLM_RATE_LIMITED,
  SERVER_ERROR: ErrorCode.LLM_SERVER_ERROR,
  TIMEOUT: ErrorCode.LLM_TIMEOUT,
  UNAVAILABLE: ErrorCode.LLM_UNAVAILABLE,
  BAD_REQUEST: ErrorCode.LLM_BAD_REQUEST,
  UNAUTHORIZED: ErrorCode.LLM_UNAUTHORIZED,
  NOT_FOUND: ErrorCode.LLM_NOT_FOUND,
  CANCELLED: ErrorCode.LLM_CANCELLED,
} as const;

/** @deprecated Use `ErrorCode` (common/errors.ts); removed in 0.3. */
export type LlmFailureType = (typeof LlmFailureType)[keyof typeof LlmFailureType];

function retryAfterMs(headers: unknown): number | undefined {
  const value =
    headers instanceof Headers
      ? headers.get('retry-after')
      : typeof headers === 'object' && headers !== null
        ? (headers as Record<string, string | undefined>)['retry-after']
        : undefined;
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  // "Retry now" (0, or a date already past) is left to the retry policy: an ApplicationFailure with a
  // nextRetryDelay of 0 made Temporal stop retrying after the first attempt (seen with the simulator).
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/** OpenAI error codes of an engine's overload rejections (the simulator's; `context_length_exceeded` is OpenAI's). */
const overloadCodes: Readonly<Record<string, ErrorCode>> = {
  context_length_exceeded: ErrorCode.LLM_CONTEXT_LENGTH,
  kv_cache_exhausted: ErrorCode.LLM_OUT_OF_MEMORY,
  queue_timeout: ErrorCode.LLM_QUEUE_TIMEOUT,
  deadline_exceeded: ErrorCode.LLM_DEADLINE_EXCEEDED,
};

/** The overload code of an API error, by its `code`, or vLLM's context-length message (vLLM sends no code). */
function overloadCode(err: APIError): ErrorCode | undefined {
  if (typeof err.code === 'string' && Object.hasOwn(overloadCodes, err.code)) return overloadCodes[err.code];
  if (err.status === 400 && /maximum context length/i.test(err.message)) return ErrorCode.LLM_CONTEXT_LENGTH;
  return undefined;
}

/**
 * Translates an error from the `openai` client into an `ApplicationFailure` typed `NALAR_ERR_LLM_…`,
 * retryable as the registry in common/errors.ts says.
 */
export function toLlmFailure(err: unknown, context: { agent: string; model: string }): ApplicationFailure {
  const where = `agent ${context.agent} (model ${context.model})`;
  const failure = (code: ErrorCode, message: string, nextRetryDelay?: number) =>
    nalarFailure(code, `${where}: ${message}`, {
      cause: err,
      ...(nextRetryDelay !== undefined && { nextRetryDelay }),
    });

  if (err instanceof APIUserAbortError) return failure(ErrorCode.LLM_CANCELLED, 'request cancelled');
  // Order matters: the timeout error is a kind of connection error.
  if (err instanceof APIConnectionTimeoutError) return failure(ErrorCode.LLM_TIMEOUT, 'request timed out');
  if (err instanceof APIConnectionError) {
    return failure(ErrorCode.LLM_UNAVAILABLE, `connection failed: ${err.message}`);
  }
  if (err instanceof APIError) {
    const overload = overloadCode(err);
    if (overload) {
      const message = `${err.status === undefined ? 'in stream' : `HTTP ${err.status}`} ${String(err.code)}: ${err.message}`;
      return failure(
        overload,
        message,
        overload === ErrorCode.LLM_QUEUE_TIMEOUT ? retryAfterMs(err.headers) : undefined,
      );
    }
  }
  if (err instanceof APIError && err.status !== undefined) {
    const status = err.status;
    const message = `HTTP ${status}: ${err.message}`;
    if (status === 429) return failure(ErrorCode.LLM_RATE_LIMITED, message, retryAfterMs(err.headers));
    if (status === 408) return failure(ErrorCode.LLM_TIMEOUT, message);
    if (status >= 500) return failure(ErrorCode.LLM_SERVER_ERROR, message);
    if (status === 401 || status === 403) return failure(ErrorCode.LLM_UNAUTHORIZED, message);
    if (status === 404) return failure(ErrorCode.LLM_NOT_FOUND, message);
    return failure(ErrorCode.LLM_BAD_REQUEST, message);
  }
  // A stream that breaks mid-way surfaces as a plain error: treat like a dropped connection.
  const message = err instanceof Error ? err.message : String(err);
  return failure(ErrorCode.LLM_UNAVAILABLE, message);
}
