/**
 * How model-call errors become Temporal failures. Temporal owns retries (the OpenAI client runs with
 * maxRetries 0): overload, server errors, timeouts and broken connections are retryable, and a 429's
 * Retry-After becomes the next retry delay; requests the server rejects as wrong are not retried.
 */
import { ApplicationFailure } from '@temporalio/common';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';

/** Failure types of model calls; stable, part of the public API. */
export const LlmFailureType = {
  RATE_LIMITED: 'NALAR_LLM_RATE_LIMITED',
  SERVER_ERROR: 'NALAR_LLM_SERVER_ERROR',
  TIMEOUT: 'NALAR_LLM_TIMEOUT',
  UNAVAILABLE: 'NALAR_LLM_UNAVAILABLE',
  BAD_REQUEST: 'NALAR_LLM_BAD_REQUEST',
  UNAUTHORIZED: 'NALAR_LLM_UNAUTHORIZED',
  NOT_FOUND: 'NALAR_LLM_NOT_FOUND',
  CANCELLED: 'NALAR_LLM_CANCELLED',
} as const;

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
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Translates an error from the `openai` client into an `ApplicationFailure` with a type. */
export function toLlmFailure(err: unknown, context: { agent: string; model: string }): ApplicationFailure {
  const where = `agent ${context.agent} (model ${context.model})`;
  const failure = (type: LlmFailureType, message: string, nonRetryable: boolean, nextRetryDelay?: number) =>
    ApplicationFailure.create({
      type,
      message: `${where}: ${message}`,
      nonRetryable,
      ...(nextRetryDelay !== undefined && { nextRetryDelay }),
      cause: err instanceof Error ? err : undefined,
    });

  if (err instanceof APIUserAbortError) return failure(LlmFailureType.CANCELLED, 'request cancelled', true);
  // Order matters: the timeout error is a kind of connection error.
  if (err instanceof APIConnectionTimeoutError) return failure(LlmFailureType.TIMEOUT, 'request timed out', false);
  if (err instanceof APIConnectionError) {
    return failure(LlmFailureType.UNAVAILABLE, `connection failed: ${err.message}`, false);
  }
  if (err instanceof APIError && err.status !== undefined) {
    const status = err.status;
    const message = `HTTP ${status}: ${err.message}`;
    if (status === 429) return failure(LlmFailureType.RATE_LIMITED, message, false, retryAfterMs(err.headers));
    if (status === 408) return failure(LlmFailureType.TIMEOUT, message, false);
    if (status >= 500) return failure(LlmFailureType.SERVER_ERROR, message, false);
    if (status === 401 || status === 403) return failure(LlmFailureType.UNAUTHORIZED, message, true);
    if (status === 404) return failure(LlmFailureType.NOT_FOUND, message, true);
    return failure(LlmFailureType.BAD_REQUEST, message, true);
  }
  // A stream that breaks mid-way surfaces as a plain error: treat like a dropped connection.
  const message = err instanceof Error ? err.message : String(err);
  return failure(LlmFailureType.UNAVAILABLE, message, false);
}
