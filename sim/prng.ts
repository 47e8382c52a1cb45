/**
 * Seeds and randomness for the simulator: request seeds (FNV-1a) and a seeded PRNG (mulberry32).
 * Pure functions of their inputs (no clock, no Math.random, no I/O), so outputs reproduce from a seed.
 */

import { codePointAt } from './tokens';

// ---------------------------------------------------------------------------------------------------------
// Seeds and randomness
// ---------------------------------------------------------------------------------------------------------

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * 32-bit FNV-1a hash of the parts joined with `'\u0000'`; used to derive per-request seeds.
 *
 * Numbers are hashed as `String(n)` (so `seedFrom(1)` equals `seedFrom('1')`), and strings as UTF-8 (a lone
 * surrogate as U+FFFD, like `TextEncoder`), so the value matches any standard FNV-1a implementation over the
 * same bytes. The result is an unsigned 32-bit integer; `seedFrom()` is the FNV offset basis 2166136261.
 */
export function seedFrom(...parts: (string | number)[]): number {
  let hash = FNV_OFFSET_BASIS;
  parts.forEach((part, index) => {
    if (index > 0) hash = fnv1aByte(hash, 0);
    hash = fnv1aUtf8(hash, String(part));
  });
  return hash >>> 0;
}

function fnv1aByte(hash: number, byte: number): number {
  return Math.imul(hash ^ byte, FNV_PRIME);
}

/** Feeds the UTF-8 encoding of `text` to the hash without allocating a byte array. */
function fnv1aUtf8(hash: number, text: string): number {
  let h = hash;
  for (let i = 0; i < text.length; i++) {
    let cp = codePointAt(text, i);
    if (cp > 0xffff) i++;
    else if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    if (cp < 0x80) {
      h = fnv1aByte(h, cp);
    } else if (cp < 0x800) {
      h = fnv1aByte(fnv1aByte(h, 0xc0 | (cp >> 6)), 0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      h = fnv1aByte(h, 0xe0 | (cp >> 12));
      h = fnv1aByte(fnv1aByte(h, 0x80 | ((cp >> 6) & 0x3f)), 0x80 | (cp & 0x3f));
    } else {
      h = fnv1aByte(fnv1aByte(h, 0xf0 | (cp >> 18)), 0x80 | ((cp >> 12) & 0x3f));
      h = fnv1aByte(fnv1aByte(h, 0x80 | ((cp >> 6) & 0x3f)), 0x80 | (cp & 0x3f));
    }
  }
  return h;
}

/**
 * Small fast seeded PRNG (mulberry32: 32 bits of state, period 2^32). Not cryptographic; chosen because it is
 * tiny, fast and identical on every platform, so a seed fully determines a simulated response.
 */
export class Prng {
  private state: number;

  /** @param seed any number; it is truncated to an unsigned 32-bit integer (NaN and Infinity give 0). */
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1), a multiple of 2^-32. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /**
   * Integer in [min, max] inclusive, uniform for ranges up to 2^32.
   * @throws RangeError if a bound is not an integer or min > max.
   */
  int(min: number, max: number): number {
    if (!Number.isInteger(min) || !Number.isInteger(max) || min > max) {
      throw new RangeError(`Prng.int: need integers min <= max, got ${min} and ${max}`);
    }
    // Clamp because for ranges beyond 2^53 the float product can round up to max + 1.
    return Math.min(max, min + Math.floor(this.next() * (max - min + 1)));
  }

  /**
   * One element of `items`, uniformly.
   * @throws RangeError if `items` is empty.
   */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Prng.pick: no items to pick from');
    return items[this.int(0, items.length - 1)] as T;
  }

  /** Standard normal sample (Box-Muller); consumes two uniforms per call and keeps no spare. */
  normal(): number {
    // 1 - next() is in (0, 1], so the logarithm is finite.
    const u1 = 1 - this.next();
    const u2 = this.next();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /**
   * Lognormal sample: `median * exp(sigma * normal())`, so half the samples fall below `median`.
   * @throws RangeError unless median > 0 and sigma >= 0 (both finite).
   */
  lognormal(median: number, sigma: number): number {
    if (!(median > 0 && Number.isFinite(median)) || !(sigma >= 0 && Number.isFinite(sigma))) {
      throw new RangeError(`Prng.lognormal: need median > 0 and sigma >= 0, got ${median} and ${sigma}`);
    }
    return median * Math.exp(sigma * this.normal());
  }
}
