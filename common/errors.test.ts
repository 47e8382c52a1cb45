import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { conflictError, SessionStoreError } from '../state/session-store/errors';
import {
  ErrorCode,
  errorCodes,
  type ErrorCodeInfo,
  failureCode,
  hasFailureCode,
  NalarError,
  nalarFailure,
  toApplicationFailure,
} from './errors';

const registry = Object.entries(errorCodes) as [ErrorCode, ErrorCodeInfo][];

describe('the registry', () => {
  test('lists every ErrorCode once, each in the NALAR_ERR_ scheme with a one-line meaning', () => {
    expect(Object.keys(errorCodes).sort()).toEqual(Object.values(ErrorCode).sort());
    for (const [code, info] of registry) {
      expect(code).toMatch(/^NALAR_ERR_[A-Z][A-Z0-9_]*[A-Z0-9]$/);
      expect(info.meaning).toMatch(/^\S[^\n]*\.$/);
      if (info.httpStatus !== undefined) expect(info.httpStatus >= 400 && info.httpStatus <= 599).toBe(true);
    }
  });

  test('invalid input is never retried; conflicts and unavailability are', () => {
    expect(errorCodes[ErrorCode.INVALID_INPUT].retryable).toBe(false);
    expect(errorCodes[ErrorCode.STATE_INVALID].retryable).toBe(false);
    expect(errorCodes[ErrorCode.STATE_CONFLICT].retryable).toBe(true);
    expect(errorCodes[ErrorCode.STATE_UNAVAILABLE].retryable).toBe(true);
    expect(errorCodes[ErrorCode.LLM_UNAVAILABLE].retryable).toBe(true);
  });

  test('former names are unique and are not codes themselves', () => {
    const former = registry.flatMap(([, info]) => (info.formerly === undefined ? [] : [info.formerly]));
    expect(new Set(former).size).toBe(former.length);
    for (const name of former) expect(name in errorCodes).toBe(false);
  });
});

describe('docs/errors.md', () => {
  const doc = readFileSync(path.join(__dirname, '..', 'docs', 'errors.md'), 'utf8');
  const cells = (line: string) =>
    line
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim());
  const rows = doc.split('\n').filter((line) => line.startsWith('|'));

  test('has one table row per code, with the meaning, retryability and HTTP status of the registry', () => {
    const documented = new Map<string, string[]>();
    for (const row of rows) {
      const [first, ...rest] = cells(row);
      const code = /^`(NALAR_ERR_[A-Z0-9_]+)`$/.exec(first ?? '')?.[1];
      if (code === undefined) continue;
      expect(documented.has(code)).toBe(false);
      documented.set(code, rest);
    }
    expect([...documented.keys()].sort()).toEqual(Object.keys(errorCodes).sort());
    for (const [code, info] of registry) {
      expect({ code, row: documented.get(code) }).toEqual({
        code,
        row: [
          info.meaning,
          info.retryable ? 'yes' : 'no',
          info.httpStatus === undefined ? '—' : String(info.httpStatus),
        ],
      });
    }
  });

  test('names no NALAR_ERR_ code the registry does not have', () => {
    const tokens = new Set(doc.match(/NALAR_ERR_[A-Z0-9_]*[A-Z0-9]/g));
    for (const token of tokens) expect({ token, registered: token in errorCodes }).toEqual({ token, registered: true });
  });

  test('lists every rename, removed in 0.3', () => {
    const renames = rows.flatMap((row) => {
      const [former, now, removed] = cells(row);
      const match = /^`(NALAR_[A-Z0-9_]+)`$/.exec(former ?? '');
      return match && !match[1]!.startsWith('NALAR_ERR_') ? [[match[1], now, removed]] : [];
    });
    const expected = registry.flatMap(([code, info]) => (info.formerly ? [[info.formerly, `\`${code}\``, '0.3']] : []));
    expect(renames.sort()).toEqual(expected.sort());
  });
});

describe('toApplicationFailure', () => {
  test('turns a NalarError into a failure typed with its code, retryable as the registry says', () => {
    const cause = new Error('ECONNREFUSED');
    const err = new NalarError(ErrorCode.STATE_UNAVAILABLE, 'redis session store unavailable', { cause });
    const failure = toApplicationFailure(err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'NALAR_ERR_STATE_UNAVAILABLE', message: err.message, nonRetryable: false });
    expect(failure.cause).toBe(cause);
    expect(failure.stack).toBe(err.stack);

    const invalid = toApplicationFailure(new NalarError(ErrorCode.STATE_INVALID, 'value cannot be serialised'));
    expect(invalid).toMatchObject({ type: 'NALAR_ERR_STATE_INVALID', nonRetryable: true });
    expect(invalid.details).toBeUndefined();
  });

  test("carries a conflict's versions as details", () => {
    const failure = toApplicationFailure(conflictError('put s/k', 3, 0));
    expect(failure).toMatchObject({ type: 'NALAR_ERR_STATE_CONFLICT', nonRetryable: false });
    expect(failure.details).toEqual([{ expectedVersion: 3, actualVersion: 0 }]);
    expect(failure.message).toBe('put s/k: expected version 3, found 0 (absent)');
  });

  test('passes ApplicationFailures and other errors through unchanged', () => {
    const own = ApplicationFailure.nonRetryable('mine', 'MY_TYPE');
    expect(toApplicationFailure(own)).toBe(own);
    const plain = new TypeError('boom');
    expect(toApplicationFailure(plain)).toBe(plain);
    expect(toApplicationFailure('a string')).toBe('a string');
  });
});

test('nalarFailure takes retryability from the registry and keeps a retry delay', () => {
  const limited = nalarFailure(ErrorCode.LLM_RATE_LIMITED, 'HTTP 429', { nextRetryDelay: 1500 });
  expect(limited).toMatchObject({ type: 'NALAR_ERR_LLM_RATE_LIMITED', nonRetryable: false, nextRetryDelay: 1500 });
  expect(nalarFailure(ErrorCode.LLM_UNAUTHORIZED, 'HTTP 401').nonRetryable).toBe(true);
});

describe('failureCode', () => {
  const activityFailure = (cause: Error) =>
    new ActivityFailure('activity failed', 'write', '1', RetryState.NON_RETRYABLE_FAILURE, 'worker', cause);

  test('finds the code of a NalarError or of a failure along the cause chain', () => {
    expect(failureCode(new SessionStoreError(ErrorCode.STATE_INVALID, 'bad key'))).toBe(ErrorCode.STATE_INVALID);
    const wrapped = activityFailure(nalarFailure(ErrorCode.INVALID_INPUT, 'query: is required'));
    expect(failureCode(wrapped)).toBe(ErrorCode.INVALID_INPUT);
    expect(hasFailureCode(wrapped, ErrorCode.INVALID_INPUT)).toBe(true);
    expect(hasFailureCode(wrapped, ErrorCode.STATE_INVALID)).toBe(false);
  });

  test('reads a former name as its new code', () => {
    const old = activityFailure(ApplicationFailure.retryable('request timed out', 'NALAR_LLM_TIMEOUT'));
    expect(failureCode(old)).toBe(ErrorCode.LLM_TIMEOUT);
    expect(
      hasFailureCode(ApplicationFailure.nonRetryable('late', 'NALAR_FUTURE_TIMEOUT'), ErrorCode.FUTURE_TIMEOUT),
    ).toBe(true);
  });

  test('is undefined when nothing in the chain carries a code, even for a cyclic chain', () => {
    expect(failureCode(activityFailure(ApplicationFailure.nonRetryable('x', 'MY_TYPE')))).toBeUndefined();
    expect(failureCode(new Error('plain'))).toBeUndefined();
    expect(failureCode(undefined)).toBeUndefined();
    const cyclic = new Error('a');
    (cyclic as { cause?: unknown }).cause = cyclic;
    expect(failureCode(cyclic)).toBeUndefined();
  });
});
