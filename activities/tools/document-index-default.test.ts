/** The activity functions use `<NALAR_DATA_DIR>/doc-index` (own file: the default index is cached per process). */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { indexDocuments, lookupDocuments } from './document-index';
import { expectInvalidInput } from './test-helpers';

let dataDir: string;
const savedDataDir = process.env.NALAR_DATA_DIR;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'nalar-data-'));
  process.env.NALAR_DATA_DIR = dataDir;
});

afterAll(async () => {
  if (savedDataDir === undefined) delete process.env.NALAR_DATA_DIR;
  else process.env.NALAR_DATA_DIR = savedDataDir;
  await rm(dataDir, { recursive: true, force: true });
});

test('indexDocuments and lookupDocuments store under <NALAR_DATA_DIR>/doc-index', async () => {
  await indexDocuments({ namespace: 'plans', documents: [{ id: 'p1', text: 'Add retries to the payment client' }] });
  expect(existsSync(path.join(dataDir, 'doc-index', 'plans.jsonl'))).toBe(true);
  const matches = await lookupDocuments({ namespace: 'plans', query: 'payment retries' });
  expect(matches.map((m) => m.id)).toEqual(['p1']);
  await expectInvalidInput(lookupDocuments({ namespace: '../x', query: 'q' }), 'lookupDocuments', 'namespace');
});
