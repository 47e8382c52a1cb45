/**
 * Argument checks shared by every backend, so all three reject exactly the same inputs before any I/O.
 */
import { SessionStoreError, SessionStoreErrorCode } from './errors';
import { type OpKind, type WriteOptions } from './interface';

/** Longest namespace, key or list name in UTF-8 bytes. */
export const MAX_NAME_BYTES = 512;
/** Largest value in UTF-8 bytes (8 MiB). */
export const MAX_VALUE_BYTES = 8 * 1024 * 1024;
/** Longest opId in characters. */
export const MAX_OP_ID_CHARS = 200;

// Lone surrogates cannot be encoded as UTF-8: Redis and PostgreSQL would silently store U+FFFD instead.
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function invalid(message: string): SessionStoreError {
  return new SessionStoreError(SessionStoreErrorCode.INVALID, message);
}

/** Checks a namespace, key, list or owner name: a non-empty string of at most 512 UTF-8 bytes, no NUL. */
export function validateName(argument: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) throw invalid(`${argument} must be a non-empty string`);
  if (name.includes('\0')) throw invalid(`${argument} must not contain NUL characters`);
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) {
    throw invalid(`${argument} is longer than ${MAX_NAME_BYTES} bytes (UTF-8)`);
  }
  if (loneSurrogate.test(name)) throw invalid(`${argument} is not well-formed Unicode (lone surrogate)`);
}

/** Checks a value: a string of valid JSON text of at most 8 MiB (UTF-8). */
export function validateValue(value: unknown): asserts value is string {
  if (typeof value !== 'string') throw invalid('value must be a string of JSON text');
  // Cheap length bound first: a UTF-16 code unit is at least one UTF-8 byte.
  if (value.length > MAX_VALUE_BYTES || Buffer.byteLength(value, 'utf8') > MAX_VALUE_BYTES) {
    throw invalid(`value is larger than ${MAX_VALUE_BYTES} bytes (8 MiB)`);
  }
  try {
    JSON.parse(value);
  } catch (err) {
    throw invalid(`value is not valid JSON text (${(err as Error).message})`);
  }
  if (loneSurrogate.test(value)) throw invalid('value is not well-formed Unicode (lone surrogate)');
}

function validateVersion(argument: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw invalid(`${argument} must be a non-negative integer, got ${String(v)}`);
  }
}

/** Checks write options (expectedVersion a non-negative integer, opId 1..200 characters). */
export function validateWriteOptions(options: WriteOptions | undefined): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object');
  if (options.expectedVersion !== undefined) validateVersion('expectedVersion', options.expectedVersion);
  if (options.onApplied !== undefined && typeof options.onApplied !== 'function') {
    throw invalid('onApplied must be a function');
  }
  if (options.opId !== undefined) {
    if (typeof options.opId !== 'string' || options.opId.length === 0) throw invalid('opId must be a non-empty string');
    if (options.opId.length > MAX_OP_ID_CHARS) throw invalid(`opId is longer than ${MAX_OP_ID_CHARS} characters`);
    if (options.opId.includes('\0')) throw invalid('opId must not contain NUL characters');
    if (loneSurrogate.test(options.opId)) throw invalid('opId is not well-formed Unicode (lone surrogate)');
  }
}

/** Checks an epoch passed to `setOwner`. */
export function validateEpoch(epoch: unknown): asserts epoch is number {
  validateVersion('expectedEpoch', epoch);
}

/** Checks `range` bounds: integers (negative ones count from the end, like `Array.prototype.slice`). */
export function validateRange(start: unknown, end: unknown): void {
  if (typeof start !== 'number' || !Number.isSafeInteger(start)) throw invalid('start must be an integer');
  if (end !== undefined && (typeof end !== 'number' || !Number.isSafeInteger(end))) {
    throw invalid('end must be an integer or undefined');
  }
}

/** Checks `olderThanMs`: a finite, non-negative number of milliseconds. */
export function validateAge(olderThanMs: unknown): asserts olderThanMs is number {
  if (typeof olderThanMs !== 'number' || !Number.isFinite(olderThanMs) || olderThanMs < 0) {
    throw invalid('olderThanMs must be a finite, non-negative number of milliseconds');
  }
}

/** `Array.prototype.slice` bounds normalised to `0 <= from <= to <= length`. */
export function sliceBounds(length: number, start: number, end: number | undefined): { from: number; to: number } {
  const norm = (i: number): number => (i < 0 ? Math.max(length + i, 0) : Math.min(i, length));
  const from = norm(start);
  const to = end === undefined ? length : norm(end);
  return { from, to: Math.max(from, to) };
}

/**
 * Decodes an opId record written by {@link encodeOpRecord}; a record of another kind means the caller reused
 * an opId for a different operation, which would otherwise silently return a meaningless result.
 */
export function decodeOpRecord(record: string, kind: 'put' | 'append', opId: string): number;
export function decodeOpRecord(record: string, kind: 'delete', opId: string): boolean;
export function decodeOpRecord(record: string, kind: OpKind, opId: string): number | boolean {
  const i = record.indexOf(':');
  const recordedKind = record.slice(0, i);
  const result = record.slice(i + 1);
  if (recordedKind !== kind) {
    throw invalid(`opId '${opId}' was already used for a ${recordedKind} in this namespace, not a ${kind}`);
  }
  return kind === 'delete' ? result === 'true' : Number(result);
}

/** Sorts keys the same way on every backend (UTF-16 code units, JavaScript's default). */
export function sortKeys(keys: string[]): string[] {
  return keys.sort();
}
