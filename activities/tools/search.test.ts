import { corpusDocuments, searchCorpus, type SearchCorpusInput } from './search';
import { expectInvalidInput } from './test-helpers';

describe('bundled corpus', () => {
  const docs = corpusDocuments();

  test('has about forty documents with unique ids', () => {
    expect(docs.length).toBeGreaterThanOrEqual(38);
    expect(docs.length).toBeLessThanOrEqual(60);
    expect(new Set(docs.map((d) => d.id)).size).toBe(docs.length);
  });

  test('every text has 40 to 120 words and every document has tags', () => {
    for (const doc of docs) {
      const words = doc.text.split(/\s+/).filter(Boolean).length;
      expect({ id: doc.id, ok: words >= 40 && words <= 120 }).toEqual({ id: doc.id, ok: true });
      expect(doc.tags.length).toBeGreaterThan(0);
    }
  });

  test('covers the topics of the reference workloads', () => {
    const tags = new Set(docs.flatMap((d) => d.tags));
    for (const tag of [
      'finance',
      'markets',
      'risk',
      'macroeconomics',
      'typescript',
      'testing',
      'git',
      'algorithms',
      'chat',
    ]) {
      expect(tags).toContain(tag);
    }
  });
});

describe('searchCorpus', () => {
  test.each([
    ['inverted yield curve before a recession', 'mkt-yield-curve'],
    ['how do I find which commit introduced a bug', 'git-bisect'],
    ['discriminated union narrowing in TypeScript', 'ts-type-narrowing'],
    ['value at risk confidence level expected shortfall', 'risk-value-at-risk'],
    ['my coffee tastes sour', 'chat-coffee-brewing'],
    ['consumer price index core inflation', 'macro-inflation'],
    ['flaky tests that fail randomly', 'test-flaky-tests'],
    ['free cash flow capital expenditures', 'fin-free-cash-flow'],
    ['hash table collisions', 'algo-hash-tables'],
  ])('%s → %s first', async (query, id) => {
    const hits = await searchCorpus({ query });
    expect(hits[0]?.id).toBe(id);
  });

  test('returns at most topK hits, 5 by default, best first', async () => {
    const query = 'risk of interest rates on bonds and stocks';
    const byDefault = await searchCorpus({ query });
    expect(byDefault).toHaveLength(5);
    expect(await searchCorpus({ query, topK: 2 })).toEqual(byDefault.slice(0, 2));
    const many = await searchCorpus({ query, topK: 50 });
    expect(many.length).toBeGreaterThan(5);
    expect(many.length).toBeLessThanOrEqual(corpusDocuments().length);
    const scores = many.map((h) => h.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(scores.every((s) => s > 0)).toBe(true);
  });

  test('is deterministic and ignores case, accents and repeated words', async () => {
    const a = await searchCorpus({ query: 'Binary search sorted array' });
    expect(await searchCorpus({ query: 'binary SEARCH sorted sorted árray' })).toEqual(a);
  });

  test('the snippet is a window of about 25 words around the match', async () => {
    const [hit] = await searchCorpus({ query: 'quantitative easing', topK: 1 });
    expect(hit?.id).toBe('macro-central-bank-rates');
    const words = (hit?.snippet ?? '').replace(/…/g, '').split(/\s+/).filter(Boolean);
    expect(words.length).toBeLessThanOrEqual(25);
    expect(hit?.snippet).toMatch(/quantitative easing/);
    // The phrase is near the end of that text, so the window starts after the beginning.
    expect(hit?.snippet.startsWith('…')).toBe(true);
    expect(hit?.title).toBe('Central banks and interest rates');
  });

  test('a query of stop words or unknown words finds nothing', async () => {
    expect(await searchCorpus({ query: 'the and of which' })).toEqual([]);
    expect(await searchCorpus({ query: 'zyxwvut qqqq' })).toEqual([]);
  });

  test('rejects invalid input with NALAR_ERR_INVALID_INPUT naming the field', async () => {
    await expectInvalidInput(searchCorpus({ query: '' }), 'query', 'must not be empty');
    await expectInvalidInput(searchCorpus({ query: '   \n' }), 'query');
    await expectInvalidInput(searchCorpus({} as SearchCorpusInput), 'query', 'is required');
    await expectInvalidInput(searchCorpus({ query: 42 } as unknown as SearchCorpusInput), 'query', 'must be a string');
    await expectInvalidInput(searchCorpus({ query: 'x'.repeat(1001) }), 'query');
    await expectInvalidInput(searchCorpus({ query: 'git', topK: 0 }), 'topK', 'at least 1');
    await expectInvalidInput(searchCorpus({ query: 'git', topK: 51 }), 'topK', 'at most 50');
    await expectInvalidInput(searchCorpus({ query: 'git', topK: 2.5 }), 'topK', 'integer');
    await expectInvalidInput(searchCorpus({ query: 'git', top_k: 3 } as unknown as SearchCorpusInput), 'top_k');
    await expectInvalidInput(searchCorpus(null as unknown as SearchCorpusInput), 'input');
  });
});
