import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManagedList, ManagedMap } from './managed';
import { createFileSessionStore, SessionStoreError } from './session-store';

async function storeOptions(sessionId = 'session-1') {
  const store = createFileSessionStore(mkdtempSync(path.join(os.tmpdir(), 'nalar-managed-')));
  await store.waitUntilReady();
  return { store, sessionId };
}

async function storeError(p: Promise<unknown>): Promise<SessionStoreError> {
  const err = await p.then(
    () => {
      throw new Error('expected a state error');
    },
    (e: unknown) => e,
  );
  expect(SessionStoreError.is(err)).toBe(true);
  return err as SessionStoreError;
}

test('a map of JSON values with versions and keys, scoped to the session', async () => {
  const options = await storeOptions();
  const memory = new ManagedMap<{ topic: string }>('memory', options);
  expect(await memory.set('last', { topic: 'rates' })).toBe(1);
  expect(await memory.set('first', { topic: 'fx' })).toBe(1);
  expect(await memory.get('last')).toEqual({ topic: 'rates' });
  expect(await memory.keys()).toEqual(['first', 'last']);
  expect(await new ManagedMap('memory', { ...options, sessionId: 'other' }).keys()).toEqual([]);
  expect(await memory.delete('first')).toBe(true);
  expect(await memory.keys()).toEqual(['last']);
});

test('two writers of one key: compare-and-set gives the second a typed conflict', async () => {
  const options = await storeOptions();
  const map = new ManagedMap<number>('counter', options);
  const v1 = await map.set('n', 1);
  await map.set('n', 2, { expectedVersion: v1 });
  const err = await storeError(map.set('n', 3, { expectedVersion: v1 }));
  expect(err.code).toBe('NALAR_ERR_STATE_CONFLICT');
  expect(await map.get('n')).toBe(2);
});

test('a list appends and reads ranges', async () => {
  const options = await storeOptions();
  const turns = new ManagedList<string>('turns', options);
  for (const t of ['a', 'b', 'c']) await turns.append(t);
  expect(await turns.length()).toBe(3);
  expect(await turns.range(1)).toEqual(['b', 'c']);
});

test('no session, an unserialisable value or an oversized key is a clear error, never silent loss', async () => {
  const { store } = await storeOptions();
  expect((await storeError(new ManagedList('turns', { store }).append('x'))).message).toContain('no session id');
  const map = new ManagedMap<unknown>('memory', { store, sessionId: 's' });
  expect((await storeError(map.set('big', BigInt(1)))).message).toContain('cannot be serialised');
  expect((await storeError(map.set('fn', () => 1))).message).toContain('cannot be serialised');
  expect((await storeError(map.set('k'.repeat(600), 1))).code).toBe('NALAR_ERR_STATE_INVALID');
});
