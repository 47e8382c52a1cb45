/**
 * The state size gauges read the real stores when scraped: what /metrics shows is what the stores hold,
 * and a store that fails shows as unknown (NaN) instead of failing the whole scrape.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { register } from 'prom-client';
import { FileBlobStore } from './payloads/blob-store';
import { registerStateGauges } from './metrics';
import { createFileSessionStore } from './session-store';

const dir = mkdtempSync(path.join(os.tmpdir(), 'nalar-state-metrics-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The value of a sample in the scrape (NaN for "NaN"), or undefined when the metric has no sample. */
async function sample(name: string): Promise<number | undefined> {
  const line = (await register.metrics()).split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

test('sessions, state bytes, blobs and blob bytes come from the stores at scrape time', async () => {
  const store = createFileSessionStore(path.join(dir, 'state'));
  await store.waitUntilReady();
  const blobs = new FileBlobStore(path.join(dir, 'blobs'));
  await blobs.waitUntilReady();
  registerStateGauges({ sessionStore: async () => store, blobStore: blobs }, 0); // recount on every scrape

  expect(await sample('nalar_state_sessions')).toBe(0);
  expect(await sample('nalar_blobs')).toBe(0);
  await store.append('s1', 'list:conversation', JSON.stringify('x'.repeat(5_000)));
  await store.put('s2', 'map:notes:a', '"hello"');
  await blobs.put(new Uint8Array(3_000));
  await blobs.put(new Uint8Array(3_000)); // same content: one blob
  await blobs.put(new Uint8Array(10));

  expect(await sample('nalar_state_sessions')).toBe(2);
  expect(await sample('nalar_state_bytes')).toBeGreaterThan(5_000);
  expect(await sample('nalar_blobs')).toBe(2);
  expect(await sample('nalar_blob_bytes')).toBe(3_010);
  await store.dropNamespace('s1');
  expect(await sample('nalar_state_sessions')).toBe(1);
});

test('a store that cannot answer shows NaN (unknown), not a stale value; the scrape still succeeds', async () => {
  registerStateGauges({ sessionStore: () => Promise.reject(new Error('backend down')) }, 0);
  const text = await register.metrics();
  expect(text).toContain('# HELP nalar_state_sessions');
  expect(await sample('nalar_state_sessions')).toBeNaN();
  expect(await sample('nalar_blobs')).toBeNaN(); // no blob store given
});

test('figures are recounted at most once per interval, however often /metrics is scraped', async () => {
  let counts = 0;
  registerStateGauges({
    sessionStore: async () => ({
      stats: async () => {
        counts++;
        return { namespaces: counts, bytes: 0 };
      },
    }),
  });
  for (let i = 0; i < 5; i++) expect(await sample('nalar_state_sessions')).toBe(1);
  expect(counts).toBe(1);
});
