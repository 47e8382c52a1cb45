/**
 * Seeded prompt text for the workload agents: the simulator reads no meaning, only token counts and prefixes,
 * so prompts are words drawn from a vocabulary of one-token words, seeded by a key. The same key gives the same
 * text in every process (and a longer text starts with the shorter one), two keys give different text, so
 * requests share a cached prefix only where the workload means them to.
 */
import { createHash } from 'node:crypto';

/**
 * `tokens` words of `vocabulary` (each one simulator token after a space: sim/tokens.ts), seeded by `key`.
 * @param vocabulary at least one word; every word must be a single token
 */
export function seededWords(key: string, tokens: number, vocabulary: readonly string[]): string {
  if (vocabulary.length === 0) throw new RangeError('seededWords: the vocabulary is empty');
  const words: string[] = [];
  let block = Buffer.alloc(0);
  for (let i = 0; words.length < tokens; i++) {
    // One SHA-256 block gives 32 draws.
    if (i % 32 === 0)
      block = createHash('sha256')
        .update(`${key}/${i / 32}`)
        .digest();
    words.push(vocabulary[(block[i % 32] ?? 0) % vocabulary.length] as string);
  }
  return words.join(' ');
}
