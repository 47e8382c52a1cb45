import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expireIdleSessions } from './session-expiry';
import { ManagedList } from '../managed';
import { createFileSessionStore } from '../session-store';

test('sessions idle past the TTL are removed; active ones stay', async () => {
  let now = 1_000_000;
  const store = createFileSessionStore(mkdtempSync(path.join(os.tmpdir(), 'nalar-ttl-')), { now: () => now });
  await store.waitUntilReady();
  await new ManagedList('turns', { store, sessionId: 'ended' }).append('bye');
  now += 60_000;
  await new ManagedList('turns', { store, sessionId: 'active' }).append('hi');
  now += 10_000;
  expect(await expireIdleSessions(store, 30_000)).toEqual(['ended']);
  expect(await new ManagedList('turns', { store, sessionId: 'ended' }).length()).toBe(0);
  expect(await new ManagedList('turns', { store, sessionId: 'active' }).range()).toEqual(['hi']);
  await store.close();
});
