import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { FileBlobStore } from './blob-store';
import { CLAIM_CHECK_ENCODING, ClaimCheckCodec, claimedBlobs } from './claim-check-codec';

async function setup(thresholdBytes = 1024) {
  const store = new FileBlobStore(mkdtempSync(path.join(os.tmpdir(), 'nalar-blobs-')));
  await store.waitUntilReady();
  return { store, codec: new ClaimCheckCodec({ store, thresholdBytes }) };
}

const encoding = (p: Payload) => new TextDecoder().decode(p.metadata?.encoding);

test('small payloads pass through untouched', async () => {
  const { codec, store } = await setup();
  const small = defaultPayloadConverter.toPayload({ hello: 'world' });
  expect(await codec.encode([small])).toEqual([small]);
  expect(await store.list()).toEqual([]);
});

test('a large payload becomes a small handle and decodes back to exactly the original', async () => {
  const { codec, store } = await setup();
  const big = defaultPayloadConverter.toPayload({ conversation: 'é'.repeat(50_000) });
  const [handle] = await codec.encode([big]);
  expect(encoding(handle as Payload)).toBe(CLAIM_CHECK_ENCODING);
  expect((handle as Payload).data?.length).toBe(0);
  const [restored] = await codec.decode([handle as Payload]);
  expect(restored?.data).toEqual(big.data);
  expect(encoding(restored as Payload)).toBe(encoding(big));
  expect(defaultPayloadConverter.fromPayload(restored as Payload)).toEqual({ conversation: 'é'.repeat(50_000) });
  expect(claimedBlobs([handle as Payload])).toEqual(await store.list());
});

test('the same value stored twice (a retry, a replay) is one blob', async () => {
  const { codec, store } = await setup();
  const big = defaultPayloadConverter.toPayload('x'.repeat(10_000));
  const [a] = await codec.encode([big]);
  const [b] = await codec.encode([big]);
  expect(a).toEqual(b);
  expect(await store.list()).toHaveLength(1);
});

test('a handle whose blob is gone fails loudly instead of yielding wrong data', async () => {
  const { codec, store } = await setup();
  const [handle] = await codec.encode([defaultPayloadConverter.toPayload('y'.repeat(10_000))]);
  const [hash] = await store.list();
  expect(await store.deleteIfUnusedSince(hash as string, Number.POSITIVE_INFINITY)).toBeGreaterThan(0);
  await expect(codec.decode([handle as Payload])).rejects.toThrow(/blob [0-9a-f]{64} is missing/);
});

test('the blob store refuses names that are not hashes (no path traversal)', async () => {
  const { store } = await setup();
  await expect(store.get('../../etc/passwd')).rejects.toThrow(/not a blob hash/);
});
