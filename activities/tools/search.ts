/**
 * The search tool: BM25 ranking over a small corpus bundled with the code (`corpus.json`), so the
 * reference workloads (financial analyst, chat/coding router, software-engineering team) have a real
 * retrieval step that needs no network and gives the same answer on every machine.
 */
import { z } from 'zod';
import corpusJson from './corpus.json';
import { termCounts, tokenize } from './text';
import { parseInput } from '../../common/activity-input';
import { compareIds, queryField, topKField } from './validation';

/** BM25 term-frequency saturation: how quickly repeats of a term stop adding to the score. */
const K1 = 1.2;
/** BM25 length normalisation: 0 ignores document length, 1 fully normalises by it. */
const B = 0.75;
/** Words in a snippet window. */
const SNIPPET_WORDS = 25;

/** A document of the bundled corpus. */
export interface CorpusDocument {
  id: string;
  title: string;
  /** 40 to 120 words. */
  text: string;
  tags: string[];
}

export interface SearchCorpusInput {
  /** Free text; must contain a non-space character. At most 1,000 characters. */
  query: string;
  /** Most hits to return, 1 to 50. @default 5 */
  topK?: number;
}

/** One ranked document. */
export interface SearchHit {
  id: string;
  title: string;
  /** The ~25-word window of the text that matches the query best; `…` marks where text was cut. */
  snippet: string;
  /** BM25 score; larger is better, only comparable within one query. */
  score: number;
}

const corpusSchema = z.array(
  z.strictObject({
    id: z.string().min(1),
    title: z.string().min(1),
    text: z.string().min(1),
    tags: z.array(z.string()),
  }),
);

const searchInputSchema = z.strictObject({
  query: queryField,
  topK: topKField,
});

interface IndexedCorpusDocument {
  doc: CorpusDocument;
  /** Term counts of title, tags and text together. */
  counts: ReadonlyMap<string, number>;
  /** Number of terms. */
  length: number;
}

interface CorpusIndex {
  entries: readonly IndexedCorpusDocument[];
  averageLength: number;
  idf: ReadonlyMap<string, number>;
}

let corpusIndex: CorpusIndex | undefined;

/** Builds the BM25 index on first use only, so importing the activities stays cheap for workers that never search. */
function getCorpusIndex(): CorpusIndex {
  if (corpusIndex) return corpusIndex;
  // corpus.json is part of the code, so a bad entry is a packaging bug: fail loudly rather than rank garbage.
  const entries = corpusSchema.parse(corpusJson).map((doc) => {
    const terms = tokenize(`${doc.title} ${doc.tags.join(' ')} ${doc.text}`);
    return { doc, counts: termCounts(terms), length: terms.length };
  });
  const averageLength = entries.reduce((sum, e) => sum + e.length, 0) / Math.max(1, entries.length);
  const df = new Map<string, number>();
  for (const e of entries) for (const term of e.counts.keys()) df.set(term, (df.get(term) ?? 0) + 1);
  const n = entries.length;
  // The "plus one" BM25 idf (as in Lucene): never negative, so a term found in most documents still helps a little.
  const idf = new Map([...df].map(([term, f]) => [term, Math.log(1 + (n - f + 0.5) / (f + 0.5))]));
  corpusIndex = { entries, averageLength, idf };
  return corpusIndex;
}

/** The bundled corpus, for tools and tests that want to show or check what can be found. */
export function corpusDocuments(): readonly CorpusDocument[] {
  return getCorpusIndex().entries.map((e) => e.doc);
}

/**
 * The window of {@link SNIPPET_WORDS} words of `text` that covers the most query weight: the sum of the idf
 * of the distinct query terms in it, then the number of matching words; the earliest such window wins ties.
 */
function bestSnippet(text: string, queryTerms: ReadonlySet<string>, idf: ReadonlyMap<string, number>): string {
  const words = text.split(/\s+/).filter(Boolean);
  if (words.length <= SNIPPET_WORDS) return words.join(' ');
  const wordTerms = words.map((w) => tokenize(w).filter((t) => queryTerms.has(t)));
  let best = { start: 0, weight: -1, hits: -1 };
  for (let start = 0; start + SNIPPET_WORDS <= words.length; start++) {
    const present = new Set<string>();
    let hits = 0;
    for (let i = start; i < start + SNIPPET_WORDS; i++) {
      for (const t of wordTerms[i] ?? []) {
        present.add(t);
        hits++;
      }
    }
    let weight = 0;
    for (const t of present) weight += idf.get(t) ?? 0;
    if (weight > best.weight || (weight === best.weight && hits > best.hits)) best = { start, weight, hits };
  }
  const end = best.start + SNIPPET_WORDS;
  const snippet = words.slice(best.start, end).join(' ');
  return `${best.start > 0 ? '… ' : ''}${snippet}${end < words.length ? ' …' : ''}`;
}

/**
 * Ranks the bundled corpus against `query` with BM25 (k1 = 1.2, b = 0.75) over each document's title,
 * tags and text, and returns at most `topK` (default 5, at most 50) documents with a positive score, best
 * first (ties by id, so results are stable). A query of only stop words finds nothing and returns `[]`.
 *
 * @throws ApplicationFailure (non-retryable, type `NALAR_ERR_INVALID_INPUT`) for an empty or too long query or
 *   a `topK` outside 1..50; the message names the field.
 */
export async function searchCorpus(input: SearchCorpusInput): Promise<SearchHit[]> {
  const { query, topK } = parseInput('searchCorpus', searchInputSchema, input);
  const index = getCorpusIndex();
  // Each distinct query term counts once: repeating a word in a query should not change the ranking.
  const queryTerms = new Set(tokenize(query));
  const scored: { doc: CorpusDocument; score: number }[] = [];
  for (const { doc, counts, length } of index.entries) {
    let score = 0;
    for (const term of queryTerms) {
      const tf = counts.get(term);
      if (!tf) continue;
      const idf = index.idf.get(term) ?? 0;
      score += (idf * tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * length) / index.averageLength));
    }
    if (score > 0) scored.push({ doc, score });
  }
  return scored
    .sort((a, b) => b.score - a.score || compareIds(a.doc.id, b.doc.id))
    .slice(0, topK)
    .map(({ doc, score }) => ({
      id: doc.id,
      title: doc.title,
      snippet: bestSnippet(doc.text, queryTerms, index.idf),
      score,
    }));
}
