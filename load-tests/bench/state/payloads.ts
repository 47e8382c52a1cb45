/**
 * Seeded text of the state benchmark: conversation turns, map values and starting conversations, the same
 * for every backend and every run with the same seed.
 */

/** A small seeded PRNG (mulberry32): uniform numbers in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const vocabulary = (
  'the market outlook for sector revenue grew while margins fell as analysts expected guidance on costs ' +
  'customer demand supply chain risk quarter earnings forecast model agent tool result summary plan next ' +
  'step because however therefore report table chart filing growth rate interest inflation currency'
).split(' ');

/** ASCII words (no JSON escapes), exactly `bytes` long. */
function words(rand: () => number, bytes: number): string {
  const parts: string[] = [];
  let length = 0;
  while (length <= bytes) {
    const w = vocabulary[Math.floor(rand() * vocabulary.length)] as string;
    parts.push(w);
    length += w.length + 1;
  }
  return parts.join(' ').slice(0, bytes);
}

/** Bytes of one conversation turn. */
export const TURN_BYTES = 1024;

/** Turn number `turn` of a conversation: a JSON text of exactly {@link TURN_BYTES} bytes. */
export function turnJson(seed: number, turn: number): string {
  const role = turn % 2 === 0 ? 'assistant' : 'user';
  const overhead = JSON.stringify({ role, turn, content: '' }).length;
  const content = words(mulberry32(seed * 1_000_003 + turn), TURN_BYTES - overhead);
  return JSON.stringify({ role, turn, content });
}

/** A map value of about 1 KB (an agent's running summary of the session). */
export function memoryJson(seed: number, call: number): string {
  return JSON.stringify({ updatedAtCall: call, summary: words(mulberry32(seed * 7_919 + call + 1), 980) });
}

/** The starting conversation of the history runs of `sizeKiB` KiB: words, exactly `sizeKiB` × 1024 bytes. */
export function conversationText(seed: number, sizeKiB: number): string {
  return words(mulberry32(seed + sizeKiB), sizeKiB * 1024);
}
