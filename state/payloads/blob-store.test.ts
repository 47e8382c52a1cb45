import { mkdtempSync } from 'node:fs';
import { readdir, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { contentHash, FileBlobStore } from './blob-store';

async function setup() {
  const store = new FileBlobStore(mkdtempSync(path.join(os.tmpdir(), 'nalar-blob-store-')));
  await store.waitUntilReady();
  return store;
}

const HOUR = 3_600_000;
const bytesOf = (text: string) => new TextEncoder().encode(text);
const blobFile = (store: FileBlobStore, hash: string) => path.join(store.dir, hash.slice(0, 2), hash);

/** Sets a blob's modification time, as if it was last written `agoMs` ago. */
async function age(store: FileBlobStore, hash: string, agoMs: number): Promise<void> {
  const t = new Date(Date.now() - agoMs);
  await utimes(blobFile(store, hash), t, t);
}

test('stat reports size and last use; usage sums every blob', async () => {
  const store = await setup();
  expect(await store.usage()).toEqual({ count: 0, bytes: 0 });
  const before = Date.now();
  const a = await store.put(bytesOf('a'.repeat(100)));
  const b = await store.put(bytesOf('b'.repeat(50)));
  const stat = await store.stat(a);
  expect(stat?.bytes).toBe(100);
  expect(stat?.modifiedMs).toBeGreaterThanOrEqual(before - 1000);
  expect(await store.stat(contentHash(bytesOf('absent')))).toBeUndefined();
  expect(await store.usage()).toEqual({ count: 2, bytes: 150 });
  expect(await store.list()).toEqual([a, b].sort());
});

test('putting content already stored marks the blob as recently used', async () => {
  const store = await setup();
  const hash = await store.put(bytesOf('reused'));
  await age(store, hash, 2 * HOUR);
  expect((await store.stat(hash))?.modifiedMs).toBeLessThan(Date.now() - HOUR);
  expect(await store.put(bytesOf('reused'))).toBe(hash);
  expect((await store.stat(hash))?.modifiedMs).toBeGreaterThan(Date.now() - 60_000);
});

test('a put writes the blob anew if it vanished', async () => {
  const store = await setup();
  const hash = await store.put(bytesOf('vanishing'));
  await rm(blobFile(store, hash));
  expect(await store.get(hash)).toBeUndefined();
  await store.put(bytesOf('vanishing'));
  expect(new TextDecoder().decode(await store.get(hash))).toBe('vanishing');
});

test('deleteIfUnusedSince deletes a blob unused since the cutoff and keeps a recently used one', async () => {
  const store = await setup();
  const old = await store.put(bytesOf('old'.repeat(10)));
  const young = await store.put(bytesOf('young'));
  await age(store, old, 2 * HOUR);
  const cutoff = Date.now() - HOUR;
  expect(await store.deleteIfUnusedSince(old, cutoff)).toBe(30);
  expect(await store.deleteIfUnusedSince(young, cutoff)).toBeUndefined();
  expect(await store.deleteIfUnusedSince(old, cutoff)).toBeUndefined(); // already gone
  expect(await store.list()).toEqual([young]);
  // No trash or temporary files are left behind.
  expect(await readdir(path.dirname(blobFile(store, young)))).toEqual([young]);
});

test('a blob a put touched after the collector looked at it is kept (the put wins the race)', async () => {
  const store = await setup();
  const hash = await store.put(bytesOf('in use again'));
  await age(store, hash, 2 * HOUR);
  const cutoff = Date.now() - HOUR;
  // The collector saw an old blob …
  expect((await store.stat(hash))?.modifiedMs).toBeLessThan(cutoff);
  // … then a client reused the content before the collector deleted it.
  await store.put(bytesOf('in use again'));
  expect(await store.deleteIfUnusedSince(hash, cutoff)).toBeUndefined();
  expect(new TextDecoder().decode(await store.get(hash))).toBe('in use again');
  expect(await readdir(path.dirname(blobFile(store, hash)))).toEqual([hash]);
});

test('concurrent put and deleteIfUnusedSince never lose a blob the put returned', async () => {
  const store = await setup();
  const bytes = bytesOf('raced');
  const hash = contentHash(bytes);
  for (let i = 0; i < 100; i++) {
    await store.put(bytes);
    await age(store, hash, 2 * HOUR);
    const [, freed] = await Promise.all([store.put(bytes), store.deleteIfUnusedSince(hash, Date.now() - HOUR)]);
    expect(await store.get(hash)).toEqual(Buffer.from(bytes));
    if (freed !== undefined) expect(freed).toBe(bytes.length);
  }
  expect(await readdir(path.dirname(blobFile(store, hash)))).toEqual([hash]);
});

test('list ignores temporary and trash files; get reads a blob held under a trash name', async () => {
  const store = await setup();
  const hash = await store.put(bytesOf('held'));
  const dir = path.dirname(blobFile(store, hash));
  await writeFile(path.join(dir, `${hash}.1.x.tmp`), 'partial');
  await rm(blobFile(store, hash));
  await writeFile(path.join(dir, `${hash}.1.y.trash`), 'held');
  expect(await store.list()).toEqual([]);
  expect(await store.usage()).toEqual({ count: 0, bytes: 0 });
  expect(new TextDecoder().decode(await store.get(hash))).toBe('held');
});
