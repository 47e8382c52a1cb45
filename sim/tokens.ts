/**
 * A BPE-like pseudo-tokenizer: lossless split of text into about one token per word or symbol.
 * Pure functions of their inputs (no clock, no Math.random, no I/O), so outputs reproduce from a seed.
 */

// ---------------------------------------------------------------------------------------------------------
// Pseudo-tokenizer
// ---------------------------------------------------------------------------------------------------------

/**
 * Longest run of letters in one token. Real BPE vocabularies split long or rare words (and things like base64
 * blobs) into several tokens; without a cap a 10 kB identifier would count as one token.
 */
const MAX_LETTERS_PER_TOKEN = 12;
/** Digits per token, like the cl100k/o200k tokenizers (`\p{N}{1,3}`). */
const MAX_DIGITS_PER_TOKEN = 3;

// Character kinds. Plain numbers, not an enum, to keep the hot loop free of lookups.
const LETTER = 1;
const DIGIT = 2;
/** U+0020 only: the one whitespace character that glues onto the following token. */
const SPACE = 3;
const OTHER_SPACE = 4;
/** One token per character: CJK scripts have no spaces, and BPE gives them about one token per character. */
const IDEOGRAPH = 5;
/** Combining marks, variation selectors and emoji skin-tone modifiers: they belong to the previous character. */
const EXTEND = 6;
/** U+200D ZERO WIDTH JOINER: glues the characters on both sides (emoji sequences such as 👨‍👩‍👧). */
const JOINER = 7;
/** Punctuation, symbols, emoji, lone surrogates: one token each. */
const OTHER = 8;

const ZWJ = 0x200d;

const ASCII_KIND = new Uint8Array(128).map((_, c) => {
  if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return LETTER;
  if (c >= 0x30 && c <= 0x39) return DIGIT;
  if (c === 0x20) return SPACE;
  if (c === 0x09 || c === 0x0a || c === 0x0b || c === 0x0c || c === 0x0d) return OTHER_SPACE;
  return OTHER;
});
/** Lazily filled kinds of BMP characters (0 = not yet classified): Unicode regexes are slow per character. */
const BMP_KIND = new Uint8Array(0x10000);

const MARK_RE = /^\p{M}$/u;
const SPACE_RE = /^\s$/u;
const IDEOGRAPH_RE = /^[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}]$/u;
const LETTER_RE = /^\p{L}$/u;
const NUMBER_RE = /^\p{N}$/u;

function classifyNonAscii(cp: number): number {
  if (cp === ZWJ) return JOINER;
  if (cp >= 0x1f3fb && cp <= 0x1f3ff) return EXTEND;
  // A lone surrogate is not a character; String.fromCodePoint would still accept it, but no regex matches.
  if (cp >= 0xd800 && cp <= 0xdfff) return OTHER;
  const ch = String.fromCodePoint(cp);
  if (MARK_RE.test(ch)) return EXTEND;
  if (SPACE_RE.test(ch)) return OTHER_SPACE;
  if (IDEOGRAPH_RE.test(ch)) return IDEOGRAPH;
  if (LETTER_RE.test(ch)) return LETTER;
  if (NUMBER_RE.test(ch)) return DIGIT;
  return OTHER;
}

function kindOf(cp: number): number {
  if (cp < 0x80) return ASCII_KIND[cp] ?? OTHER;
  if (cp > 0xffff) return classifyNonAscii(cp);
  let kind = BMP_KIND[cp] ?? 0;
  if (kind === 0) {
    kind = classifyNonAscii(cp);
    BMP_KIND[cp] = kind;
  }
  return kind;
}

/** Code point at UTF-16 index `i` (a lone surrogate is returned as itself); `i` must be in range. */
export function codePointAt(text: string, i: number): number {
  const hi = text.charCodeAt(i);
  if (hi >= 0xd800 && hi <= 0xdbff && i + 1 < text.length) {
    const lo = text.charCodeAt(i + 1);
    if (lo >= 0xdc00 && lo <= 0xdfff) return (hi - 0xd800) * 0x400 + (lo - 0xdc00) + 0x10000;
  }
  return hi;
}

function width(cp: number): number {
  return cp > 0xffff ? 2 : 1;
}

function isRegionalIndicator(cp: number): boolean {
  return cp >= 0x1f1e6 && cp <= 0x1f1ff;
}

/** Kinds that can start a token and take a preceding space with them. */
function takesLeadingSpace(kind: number): boolean {
  return kind === LETTER || kind === DIGIT || kind === IDEOGRAPH || kind === OTHER;
}

/**
 * If an extender (combining mark, modifier, or a joiner plus the character it joins) starts at `i`, returns
 * the index after it; otherwise `i`.
 */
function skipExtender(text: string, i: number): number {
  if (i >= text.length) return i;
  const cp = codePointAt(text, i);
  const kind = kindOf(cp);
  if (kind === EXTEND) return i + width(cp);
  if (kind !== JOINER) return i;
  const after = i + 1;
  if (after >= text.length) return after;
  const next = codePointAt(text, after);
  const nextKind = kindOf(next);
  return nextKind === SPACE || nextKind === OTHER_SPACE ? after : after + width(next);
}

/** Consumes up to `max` characters of `kind` (with their extenders) from `i`; returns the end index. */
function scanRun(text: string, i: number, kind: number, max: number): number {
  let end = i;
  let count = 0;
  while (end < text.length) {
    const extended = skipExtender(text, end);
    if (extended !== end) {
      end = extended;
      continue;
    }
    if (count === max) break;
    const cp = codePointAt(text, end);
    if (kindOf(cp) !== kind) break;
    end += width(cp);
    count++;
  }
  return end;
}

/**
 * Consumes a whitespace run from `i`. Like GPT tokenizers, when the run is followed by a word the run's last
 * space is left to that word, so `"a   b"` splits as `"a"`, `"  "`, `" b"`.
 */
function scanWhitespace(text: string, i: number): number {
  let end = i;
  while (end < text.length) {
    const kind = kindOf(text.charCodeAt(end));
    if (kind !== SPACE && kind !== OTHER_SPACE) break;
    end++;
  }
  if (end < text.length && end - i > 1 && text.charCodeAt(end - 1) === 0x20) {
    if (takesLeadingSpace(kindOf(codePointAt(text, end)))) end--;
  }
  return end;
}

/** Consumes one character (a flag's two regional indicators count as one) and its extenders. */
function scanSingle(text: string, i: number): number {
  const cp = codePointAt(text, i);
  let end = i + width(cp);
  if (isRegionalIndicator(cp) && end < text.length && isRegionalIndicator(codePointAt(text, end))) end += 2;
  for (let next = skipExtender(text, end); next !== end; next = skipExtender(text, end)) end = next;
  return end;
}

/** End index of the token starting at `start`. */
function scanToken(text: string, start: number): number {
  let i = start;
  let kind = kindOf(codePointAt(text, i));
  if (kind === SPACE && i + 1 < text.length) {
    const nextKind = kindOf(codePointAt(text, i + 1));
    if (takesLeadingSpace(nextKind)) {
      i++;
      kind = nextKind;
    }
  }
  switch (kind) {
    case LETTER:
      return scanRun(text, i, LETTER, MAX_LETTERS_PER_TOKEN);
    case DIGIT:
      return scanRun(text, i, DIGIT, MAX_DIGITS_PER_TOKEN);
    case SPACE:
    case OTHER_SPACE: {
      const end = scanWhitespace(text, i);
      return scanRun(text, end, -1, 0); // extenders only
    }
    default:
      return scanSingle(text, i);
  }
}

/**
 * Lossless split of text into pseudo-tokens, approximating a BPE tokenizer (~1 token per word or
 * punctuation mark; a leading space belongs to the following word, like GPT tokenizers).
 * pieces(t).join('') === t for every string t.
 *
 * Rules, in the spirit of the cl100k regex: a word is a run of letters (at most 12 per token, longer runs
 * continue in the next token), a number is a run of at most 3 digits, every other visible character
 * (punctuation, symbol, emoji, CJK ideograph) is its own token, and a whitespace run is one token except that
 * a single trailing U+0020 moves to the word after it. Combining marks, variation selectors, skin-tone
 * modifiers and zero-width-joined emoji stay with the character before them, so no piece splits a
 * surrogate pair or a visible emoji. Runs in time linear in the length of the text.
 */
export function pieces(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  while (start < text.length) {
    const end = scanToken(text, start);
    out.push(text.slice(start, end));
    start = end;
  }
  return out;
}

/** pieces(text).length, the simulator's token count for `text`. */
export function countTokens(text: string): number {
  let count = 0;
  for (let start = 0; start < text.length; start = scanToken(text, start)) count++;
  return count;
}
