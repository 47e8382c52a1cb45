import { APIError } from 'openai';
import { ErrorCode } from '../../common/errors';
import { toLlmFailure } from './errors';

const where = { agent: 'router', model: 'sim-llama-3-8b' };

/** An APIError as the openai client builds it from a response (status, body's `error`, headers). */
function apiError(status: number | undefined, error: Record<string, unknown>, headers: Record<string, string> = {}) {
  return status === undefined
    ? new APIError(undefined, error, undefined, undefined) // an error event inside a stream
    : APIError.generate(status, { error }, undefined, new Headers(headers));
}

describe('toLlmFailure: overload rejections', () => {
  test.each([
    [400, 'context_length_exceeded', ErrorCode.LLM_CONTEXT_LENGTH, true],
    [503, 'kv_cache_exhausted', ErrorCode.LLM_OUT_OF_MEMORY, true],
    [503, 'queue_timeout', ErrorCode.LLM_QUEUE_TIMEOUT, false],
    [408, 'deadline_exceeded', ErrorCode.LLM_DEADLINE_EXCEEDED, true],
    [undefined, 'deadline_exceeded', ErrorCode.LLM_DEADLINE_EXCEEDED, true],
  ])('HTTP %s %s → %s (nonRetryable %s)', (status, code, type, nonRetryable) => {
    const f = toLlmFailure(apiError(status, { message: 'overloaded', type: 'server_error', code }), where);
    expect(f.type).toBe(type);
    expect(f.nonRetryable).toBe(nonRetryable);
    expect(f.message).toContain(`agent router (model sim-llama-3-8b): `);
    expect(f.message).toContain(code);
  });

  test("vLLM's context-length 400 (no code, only the message) is a context-length failure", () => {
    const vllm = apiError(400, {
      message: "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens.",
      type: 'BadRequestError',
      code: 400,
    });
    expect(toLlmFailure(vllm, where).type).toBe(ErrorCode.LLM_CONTEXT_LENGTH);
    const otherBad = apiError(400, { message: 'messages: required', type: 'invalid_request_error' });
    expect(toLlmFailure(otherBad, where).type).toBe(ErrorCode.LLM_BAD_REQUEST);
  });

  test('a queue timeout is retried after its Retry-After, like a 429', () => {
    const f = toLlmFailure(apiError(503, { message: 'queue', code: 'queue_timeout' }, { 'retry-after': '3' }), where);
    expect(f.nextRetryDelay).toBe(3000);
    const rateLimited = toLlmFailure(apiError(429, { message: 'slow down' }, { 'retry-after': '2' }), where);
    expect([rateLimited.type, rateLimited.nonRetryable, rateLimited.nextRetryDelay]).toEqual([
      ErrorCode.LLM_RATE_LIMITED,
      false,
      2000,
    ]);
  });

  test('a Retry-After of 0 (retry now) leaves the delay to the retry policy instead of a zero delay', () => {
    const now = toLlmFailure(apiError(429, { message: 'slow down' }, { 'retry-after': '0' }), where);
    expect([now.type, now.nonRetryable, now.nextRetryDelay]).toEqual([ErrorCode.LLM_RATE_LIMITED, false, undefined]);
    // An HTTP date long past, whatever the machine's clock says.
    const past = 'Wed, 21 Oct 2015 07:28:00 GMT';
    expect(
      toLlmFailure(apiError(429, { message: 'x' }, { 'retry-after': past }), where).nextRetryDelay,
    ).toBeUndefined();
  });

  test('without an overload code the status decides as before (408 timeout, 503 server error)', () => {
    expect(toLlmFailure(apiError(408, { message: 'slow' }), where).type).toBe(ErrorCode.LLM_TIMEOUT);
    expect(toLlmFailure(apiError(503, { message: 'down', code: 'constructor' }), where).type).toBe(
      ErrorCode.LLM_SERVER_ERROR,
    );
  });
});
