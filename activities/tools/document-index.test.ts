import { mkdtemp, readdir, readFile, appendFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDocumentIndex, type DocumentIndex, type IndexDocumentsInput } from './document-index';
import { expectInvalidInput } from './test-helpers';

let dir: string;
let index: DocumentIndex;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'nalar-doc-index-'));
  index = createDocumentIndex(dir);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const reports = [
  {
    id: 'q1',
    text: 'Quarterly revenue grew twelve percent on strong cloud subscriptions',
    metadata: { ticker: 'ACME' },
  },
  { id: 'q2', text: 'Operating margin fell because of higher marketing and research spending' },
  { id: 'q3', text: 'The board approved a share buyback and raised the dividend by five percent' },
];

async function linesOf(namespace: string): Promise<string[]> {
  const content = await readFile(path.join(dir, `${namespace}.jsonl`), 'utf8');
  return content.split('\n').filter(Boolean);
}

test('ranks the most similar document first and returns its text and metadata', async () => {
  expect(await index.index({ namespace: 'acme', documents: reports })).toEqual({ written: 3, unchanged: 0 });
  const matches = await index.lookup({ namespace: 'acme', query: 'how fast did revenue grow?' });
  expect(matches.map((m) => m.id)).toEqual(['q1']);
  expect(matches[0]).toMatchObject({ text: reports[0]?.text, metadata: { ticker: 'ACME' } });
  expect(matches[0]?.score).toBeGreaterThan(0);
  expect(matches[0]?.score).toBeLessThanOrEqual(1);

  const dividend = await index.lookup({ namespace: 'acme', query: 'dividend buyback percent' });
  expect(dividend[0]?.id).toBe('q3');
  expect(dividend.map((m) => m.id)).toContain('q1'); // shares "percent"
  expect(dividend[1]?.metadata).toEqual({ ticker: 'ACME' });
  expect((await index.lookup({ namespace: 'acme', query: 'margin' }))[0]?.metadata).toEqual({});
});

test('a document identical to the query scores 1', async () => {
  await index.index({ namespace: 'acme', documents: reports });
  const [best] = await index.lookup({ namespace: 'acme', query: reports[1]?.text ?? '' });
  expect(best?.id).toBe('q2');
  expect(best?.score).toBeCloseTo(1, 10);
});

test('respects topK and leaves out documents without a shared term', async () => {
  const documents = Array.from({ length: 12 }, (_, i) => ({ id: `d${i}`, text: `alpha report number ${i}` }));
  await index.index({ namespace: 'many', documents: [...documents, { id: 'other', text: 'completely unrelated' }] });
  expect(await index.lookup({ namespace: 'many', query: 'alpha' })).toHaveLength(5);
  expect(await index.lookup({ namespace: 'many', query: 'alpha', topK: 3 })).toHaveLength(3);
  const all = await index.lookup({ namespace: 'many', query: 'alpha', topK: 50 });
  expect(all).toHaveLength(12);
  expect(all.map((m) => m.id)).not.toContain('other');
  expect(await index.lookup({ namespace: 'many', query: 'nothing matches this' })).toEqual([]);
});

test('re-indexing an id replaces its document', async () => {
  await index.index({ namespace: 'acme', documents: reports });
  await index.index({ namespace: 'acme', documents: [{ id: 'q1', text: 'Guidance for next year was lowered' }] });
  expect(await index.lookup({ namespace: 'acme', query: 'revenue subscriptions' })).toEqual([]);
  const matches = await index.lookup({ namespace: 'acme', query: 'guidance lowered' });
  expect(matches).toEqual([
    { id: 'q1', score: expect.any(Number), text: 'Guidance for next year was lowered', metadata: {} },
  ]);
  expect(await index.lookup({ namespace: 'acme', query: 'percent margin guidance', topK: 50 })).toHaveLength(3);
});

test('indexing the same document twice (an activity retry) leaves one document and one line', async () => {
  const input: IndexDocumentsInput = { namespace: 'retry', documents: [reports[0] ?? { id: '', text: '' }] };
  expect(await index.index(input)).toEqual({ written: 1, unchanged: 0 });
  // Metadata in another key order is the same metadata.
  const again = {
    namespace: 'retry',
    documents: [{ ...reports[0], id: 'q1', text: reports[0]?.text ?? '', metadata: { ticker: 'ACME' } }],
  };
  expect(await index.index(again)).toEqual({ written: 0, unchanged: 1 });
  expect(await linesOf('retry')).toHaveLength(1);
  expect(await index.lookup({ namespace: 'retry', query: 'revenue' })).toHaveLength(1);
  // Changed metadata is a change.
  expect(await index.index({ namespace: 'retry', documents: [{ id: 'q1', text: reports[0]?.text ?? '' }] })).toEqual({
    written: 1,
    unchanged: 0,
  });
  expect((await index.lookup({ namespace: 'retry', query: 'revenue' }))[0]?.metadata).toEqual({});
});

test('an id given twice in one call keeps the later document', async () => {
  await index.index({
    namespace: 'dup',
    documents: [
      { id: 'a', text: 'first version about apples' },
      { id: 'a', text: 'second version about pears' },
    ],
  });
  expect(await index.lookup({ namespace: 'dup', query: 'apples' })).toEqual([]);
  expect((await index.lookup({ namespace: 'dup', query: 'pears' }))[0]?.text).toBe('second version about pears');
});

test('two index instances on one folder (two worker processes) see each other’s writes', async () => {
  const other = createDocumentIndex(dir);
  await index.index({ namespace: 'shared', documents: [{ id: 'from-a', text: 'written by worker alpha' }] });
  await other.index({ namespace: 'shared', documents: [{ id: 'from-b', text: 'written by worker beta' }] });
  expect((await other.lookup({ namespace: 'shared', query: 'alpha' }))[0]?.id).toBe('from-a');
  expect((await index.lookup({ namespace: 'shared', query: 'beta' }))[0]?.id).toBe('from-b');
  await other.index({ namespace: 'shared', documents: [{ id: 'from-a', text: 'replaced by worker beta' }] });
  expect(await index.lookup({ namespace: 'shared', query: 'alpha' })).toEqual([]);
});

test('concurrent writers lose no document and never interleave lines', async () => {
  const other = createDocumentIndex(dir);
  const big = 'x'.repeat(15_000); // several writes in flight at once, each larger than a page
  await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      (i % 2 ? index : other).index({ namespace: 'race', documents: [{ id: `doc-${i}`, text: `item${i} ${big}` }] }),
    ),
  );
  const lines = await linesOf('race');
  expect(lines).toHaveLength(40);
  for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
  const found = await index.lookup({ namespace: 'race', query: 'item7', topK: 50 });
  expect(found.map((m) => m.id)).toEqual(['doc-7']);
});

test('namespaces are separate files and an unknown namespace is empty', async () => {
  await index.index({ namespace: 'one', documents: [{ id: 'a', text: 'shared words here' }] });
  await index.index({ namespace: 'two_2-x', documents: [{ id: 'b', text: 'shared words here' }] });
  expect((await index.lookup({ namespace: 'one', query: 'shared', topK: 50 })).map((m) => m.id)).toEqual(['a']);
  expect(await index.lookup({ namespace: 'never-written', query: 'shared' })).toEqual([]);
  expect((await readdir(dir)).sort()).toEqual(['one.jsonl', 'two_2-x.jsonl']);
});

test('skips a torn or foreign line instead of failing the lookup', async () => {
  await index.index({ namespace: 'torn', documents: [{ id: 'a', text: 'survives the damage' }] });
  await appendFile(path.join(dir, 'torn.jsonl'), '{"v":1,"id":"b","te\n["not a record"]\n');
  await index.index({ namespace: 'torn', documents: [{ id: 'c', text: 'written after the damage' }] });
  expect((await index.lookup({ namespace: 'torn', query: 'damage', topK: 50 })).map((m) => m.id).sort()).toEqual([
    'a',
    'c',
  ]);
});

test('creates the folder on first write', async () => {
  const nested = createDocumentIndex(path.join(dir, 'a', 'b'));
  expect(await nested.lookup({ namespace: 'ns', query: 'anything' })).toEqual([]);
  await nested.index({ namespace: 'ns', documents: [{ id: 'x', text: 'hello folder' }] });
  expect((await nested.lookup({ namespace: 'ns', query: 'folder' }))[0]?.id).toBe('x');
  expect(nested.dir).toBe(path.join(dir, 'a', 'b'));
});

describe('invalid input', () => {
  test.each(['', '../escape', 'a/b', 'a.b', '..', 'x'.repeat(65), 'space here'])(
    'namespace %j is rejected',
    async (ns) => {
      await expectInvalidInput(index.index({ namespace: ns, documents: [{ id: 'a', text: 't' }] }), 'namespace');
      await expectInvalidInput(index.lookup({ namespace: ns, query: 'q' }), 'namespace');
    },
  );

  test('nothing is written outside the folder', async () => {
    await expectInvalidInput(index.index({ namespace: '../escape', documents: [{ id: 'a', text: 't' }] }), 'namespace');
    await expect(readdir(path.dirname(dir))).resolves.not.toContain('escape.jsonl');
    expect(await readdir(dir)).toEqual([]);
  });

  test('bad documents are named by position', async () => {
    const bad = (documents: unknown): Promise<unknown> =>
      index.index({ namespace: 'ns', documents } as IndexDocumentsInput);
    await expectInvalidInput(bad([]), 'documents', 'at least one');
    await expectInvalidInput(bad('nope'), 'documents', 'must be an array');
    await expectInvalidInput(
      bad([
        { id: 'a', text: 'ok' },
        { id: '', text: 'x' },
      ]),
      'documents[1].id',
      'must not be empty',
    );
    await expectInvalidInput(bad([{ id: 'a' }]), 'documents[0].text', 'is required');
    await expectInvalidInput(bad([{ id: 'a', text: 'x', metadata: { k: 1 } }]), 'documents[0].metadata.k');
    await expectInvalidInput(bad([{ id: 'a', text: 'x'.repeat(20_001) }]), 'documents[0].text');
    await expectInvalidInput(bad([{ id: 'a', text: 'x', extra: true }]), 'documents[0]', 'extra');
    // Control characters expand six times in JSON: text and metadata within their limits can still make a
    // line longer than one atomic append, which is refused rather than written in two pieces.
    const control = (n: number): string => '\u0001'.repeat(n);
    const metadata = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, control(1024)]));
    await expectInvalidInput(
      bad([
        { id: 'ok', text: 'x' },
        { id: 'a', text: control(20_000), metadata },
      ]),
      'documents[1]',
      'bytes',
    );
    expect(await readdir(dir)).toEqual([]);
  });

  test('bad lookups', async () => {
    await expectInvalidInput(index.lookup({ namespace: 'ns', query: ' ' }), 'query', 'must not be empty');
    await expectInvalidInput(index.lookup({ namespace: 'ns', query: 'q', topK: 0 }), 'topK');
    await expectInvalidInput(index.lookup({ namespace: 'ns', query: 'q', topK: 51 }), 'topK');
  });
});
