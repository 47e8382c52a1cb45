/**
 * Seeded prose of an exact token length, for simulated model replies.
 * Pure functions of their inputs (no clock, no Math.random, no I/O), so outputs reproduce from a seed.
 */

import type { Prng } from './prng';

// ---------------------------------------------------------------------------------------------------------
// Prose
// ---------------------------------------------------------------------------------------------------------

// Every word is lowercase ASCII and at most MAX_LETTERS_PER_TOKEN letters, so each is exactly one token.
const words = (list: string): readonly string[] => Object.freeze([...new Set(list.trim().split(/\s+/))]);

const DETERMINERS = words('the the the a a this that each every our their its some one another no his her');
const PREPOSITIONS = words(
  'in of with for from on at by about through after before between over under into near without across behind ' +
    'around during toward beyond',
);
const CONJUNCTIONS = words('and but while because although so yet since');
const MODALS = words('will can should could must may might would often never always still rarely quietly slowly');
const ADJECTIVES = words(`
  good new first last long great little own old big high different small large next early young important few
  public same able simple clear quiet bright careful strong possible free real best better sure full special
  easy recent certain personal open red difficult available likely short single current wrong private past
  foreign fine common poor natural similar hot central happy serious ready physical general blue dark various
  entire close legal cold final main green nice huge popular cultural gentle rapid silent ancient modern narrow
  wide heavy light warm brief steady hidden patient curious honest distant`);
export const NOUNS = words(`
  time people year way day world life part system program question number night point home water room mother
  area money story fact month book eye job word business issue side kind head house service friend father power
  hour game line end member law car city community name team minute idea body school face level office door
  health person art history party result change morning reason research girl moment air teacher force model
  agent server request queue signal network market energy river garden window memory pattern answer process
  future project value method problem language engine planet machine village ocean forest mountain letter record
  picture sound light field table report plan choice course paper music order voice road island bridge station
  library kitchen journey season weather harbor valley desert winter summer answer lesson theory message circle
  shadow pocket ticket doctor student worker farmer artist writer captain neighbor stranger crowd family animal
  bird tree flower stone fire cloud storm wave street market museum`);
const VERBS_BASE = words(`
  make take find give tell work call try ask need feel become leave put mean keep let begin seem help show hear
  play run move live believe bring happen write provide stand lose pay meet include continue set learn lead
  understand watch follow stop create speak read allow add spend grow open walk win offer remember consider
  appear buy wait serve send expect build stay reach remain suggest raise pass decide pull explain carry develop
  hope drive return describe measure observe change answer protect share study visit`);
const VERBS_PAST = words(`
  made took found gave told worked called tried asked needed felt became left put meant kept let began seemed
  helped showed heard played ran moved lived believed brought happened wrote provided stood lost paid met
  included continued set learned led understood watched followed stopped created spoke read allowed added spent
  grew opened walked won offered remembered considered appeared bought waited served sent expected built stayed
  reached remained suggested raised passed decided pulled explained carried developed hoped drove returned
  described measured observed changed answered protected shared studied visited`);
export const ALL_WORDS: readonly string[] = Object.freeze([
  ...new Set([...DETERMINERS, ...PREPOSITIONS, ...CONJUNCTIONS, ...MODALS, ...ADJECTIVES, ...NOUNS, ...VERBS_BASE]),
]);
/** Words a sentence may end on, so a sentence cut to its token budget does not stop on "the" or "with". */
const SENTENCE_ENDINGS: ReadonlySet<string> = new Set([...NOUNS, ...VERBS_BASE, ...VERBS_PAST]);

/** Shortest and longest sentence in tokens, period included (the last one may take up to MIN - 1 more). */
const MIN_SENTENCE_TOKENS = 5;
const MAX_SENTENCE_TOKENS = 20;
const PARAGRAPH_BREAK = '\n\n';
const PARAGRAPH_PROBABILITY = 0.12;

export function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function article(nextWord: string): string {
  return /^[aeiou]/.test(nextWord) ? 'an' : 'a';
}

/** Appends a noun phrase: determiner, sometimes an adjective, noun. */
function nounPhrase(prng: Prng, out: string[]): void {
  const determiner = prng.pick(DETERMINERS);
  const adjective = prng.next() < 0.4 ? prng.pick(ADJECTIVES) : undefined;
  const noun = prng.pick(NOUNS);
  out.push(determiner === 'a' ? article(adjective ?? noun) : determiner);
  if (adjective !== undefined) out.push(adjective);
  out.push(noun);
}

/** Appends subject, verb, object and a few prepositional phrases. Past tense avoids subject-verb agreement. */
function clause(prng: Prng, out: string[]): void {
  nounPhrase(prng, out);
  if (prng.next() < 0.35) out.push(prng.pick(MODALS), prng.pick(VERBS_BASE));
  else out.push(prng.pick(VERBS_PAST));
  nounPhrase(prng, out);
  while (prng.next() < 0.35) {
    out.push(prng.pick(PREPOSITIONS));
    nounPhrase(prng, out);
  }
}

/**
 * Exactly `count` (>= 1) lowercase words and commas of one sentence, from a tiny grammar so the text reads
 * like English rather than word salad. Never starts or ends with a comma.
 */
export function sentenceTokens(prng: Prng, count: number): string[] {
  const tokens: string[] = [];
  clause(prng, tokens);
  while (tokens.length < count) {
    tokens.push(',', prng.pick(CONJUNCTIONS));
    clause(prng, tokens);
  }
  tokens.length = count;
  const last = tokens[count - 1] ?? '';
  if (!SENTENCE_ENDINGS.has(last)) {
    const noun = prng.pick(NOUNS);
    tokens[count - 1] = noun;
    const before = tokens[count - 2];
    if (before === 'a' || before === 'an') tokens[count - 2] = article(noun);
  }
  return tokens;
}

/** Appends one sentence of exactly `budget` pieces: words, then a period unless the budget is a single word. */
function pushSentence(prng: Prng, budget: number, leadingSpace: boolean, out: string[]): void {
  const tokens = sentenceTokens(prng, budget === 1 ? 1 : budget - 1);
  tokens.forEach((token, index) => {
    if (index === 0) out.push((leadingSpace ? ' ' : '') + capitalise(token));
    else out.push(token === ',' ? ',' : ` ${token}`);
  });
  if (budget > 1) out.push('.');
}

/**
 * Exactly `tokens` pseudo-tokens of plausible English-looking prose (from a built-in vocabulary of a
 * few hundred common words, sentences with capitalisation and periods), as an array of pieces whose
 * concatenation is the text. Deterministic for a given prng state. tokens=0 gives [].
 *
 * Guarantee used for token accounting: `pieces(generateProse(p, n).join(''))` deep-equals the returned array,
 * so re-counting the text gives exactly `n`. Sentences are 5 to 24 tokens (fewer only when `n < 5`); the text
 * ends with a period when `n >= 2`, and paragraphs are separated by a `"\n\n"` piece (one token).
 * @throws RangeError if `tokens` is not a non-negative integer.
 */
export function generateProse(prng: Prng, tokens: number): string[] {
  if (!Number.isInteger(tokens) || tokens < 0) {
    throw new RangeError(`generateProse: tokens must be a non-negative integer, got ${tokens}`);
  }
  const out: string[] = [];
  let leadingSpace = false;
  while (out.length < tokens) {
    let remaining = tokens - out.length;
    // Only break when a full sentence still fits after the break, so the text never ends on a blank line.
    if (out.length > 0 && remaining > 2 * MIN_SENTENCE_TOKENS && prng.next() < PARAGRAPH_PROBABILITY) {
      out.push(PARAGRAPH_BREAK);
      leadingSpace = false;
      remaining--;
    }
    let budget = Math.min(remaining, prng.int(MIN_SENTENCE_TOKENS, MAX_SENTENCE_TOKENS));
    // The last sentence absorbs a short tail instead of leaving a two-word runt.
    if (remaining - budget < MIN_SENTENCE_TOKENS) budget = remaining;
    pushSentence(prng, budget, leadingSpace, out);
    leadingSpace = true;
  }
  return out;
}
