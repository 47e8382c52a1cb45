/**
 * Finds claim-check handles anywhere in a Temporal API object: a workflow history, a describe response, a
 * schedule. Pure (no I/O), so the marking logic of blob GC is testable on its own.
 */
import type { Payload } from '@temporalio/common';
import { claimedBlobs } from '../payloads/claim-check-codec';

const hashPattern = /^[0-9a-f]{64}$/;

/**
 * Adds to `into` (and returns it) the blob hash of every claim-check handle found in `value`, at any depth:
 * workflow inputs and results, activity inputs and results, signals, updates, memo, headers, search
 * attributes, failure details, heartbeat details, … — any object shaped like a Payload counts, so a field
 * added by a later Temporal version is covered too. Byte arrays are not descended into.
 */
export function collectBlobHandles(value: unknown, into: Set<string> = new Set()): Set<string> {
  const seen = new WeakSet<object>();
  // Iterative: failure causes and nested details can be deep.
  const stack: unknown[] = [value];
  while (stack.length) {
    const item = stack.pop();
    if (typeof item !== 'object' || item === null || ArrayBuffer.isView(item) || seen.has(item)) continue;
    seen.add(item);
    if (Array.isArray(item)) {
      for (const element of item) stack.push(element);
      continue;
    }
    if (isPayloadLike(item)) {
      for (const hash of claimedBlobs([item])) if (hashPattern.test(hash)) into.add(hash);
    }
    for (const child of Object.values(item)) stack.push(child);
  }
  return into;
}

function isPayloadLike(item: object): item is Payload {
  const metadata = (item as { metadata?: unknown }).metadata;
  if (typeof metadata !== 'object' || metadata === null) return false;
  const { encoding, 'nalar-blob': hash } = metadata as Record<string, unknown>;
  // ArrayBuffer.isView, not instanceof: Buffers from another realm (Jest) are Uint8Arrays too.
  return ArrayBuffer.isView(encoding) && ArrayBuffer.isView(hash);
}
