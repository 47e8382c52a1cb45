import { mkdtempSync } from 'node:fs';
import { utimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../common/config';
import { createLogger, type Logger } from '../../common/log';
import type { BlobStore } from '../payloads/blob-store';
import { FileBlobStore } from '../payloads/blob-store';
import { ManagedList } from '../managed';
import { sessionsExpired } from '../metrics';
import { createFileSessionStore, type SessionStore } from '../session-store';
import { startStateJanitorFromConfig, StateJanitor } from './janitor';
import { fakeClient } from './test/fake-temporal';

const HOUR = 3_600_000;

function collectingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger('state-janitor', 'debug', (line) => lines.push(line)), lines };
}

/** A session store that only answers expiry calls (each waits for `gate`) and fails loudly on anything else. */
function expiryOnlyStore(idle: string[], gate: () => Promise<void> = async () => undefined) {
  const calls: string[] = [];
  const store = new Proxy(
    {
      backend: 'filesystem',
      async idleNamespaces(ms: number) {
        calls.push(`idleNamespaces ${ms}`);
        await gate();
        return idle;
      },
      async dropNamespace(ns: string) {
        calls.push(`dropNamespace ${ns}`);
      },
    },
    {
      get(target, prop) {
        if (typeof prop === 'string' && !(prop in target) && prop !== 'then') {
          throw new Error(`fake session store: unexpected ${prop}`);
        }
        return target[prop as keyof typeof target];
      },
    },
  ) as unknown as SessionStore;
  return { store, calls };
}

const emptyBlobs = {
  list: async () => [],
} as unknown as BlobStore;

async function expiredCount(): Promise<number> {
  return (await sessionsExpired.get()).values[0]?.value ?? 0;
}

afterEach(() => {
  jest.useRealTimers();
});

test('a round expires idle sessions, collects orphan blobs and logs one line', async () => {
  let now = Date.now();
  const store = createFileSessionStore(mkdtempSync(path.join(os.tmpdir(), 'nalar-janitor-state-')), { now: () => now });
  await store.waitUntilReady();
  await new ManagedList('turns', { store, sessionId: 'ended' }).append('bye');
  now += 2 * HOUR;
  await new ManagedList('turns', { store, sessionId: 'active' }).append('hi');
  const blobs = new FileBlobStore(mkdtempSync(path.join(os.tmpdir(), 'nalar-janitor-blobs-')));
  const orphan = await blobs.put(new TextEncoder().encode('orphan'));
  const t = new Date(Date.now() - 2 * HOUR);
  await utimes(path.join(blobs.dir, orphan.slice(0, 2), orphan), t, t);
  const { client } = fakeClient({ default: {} });
  const { log, lines } = collectingLogger();
  const before = await expiredCount();

  const janitor = new StateJanitor({
    store,
    blobs,
    client,
    intervalMs: HOUR,
    sessionTtlMs: HOUR,
    blobGcGraceMs: HOUR,
    log,
  });
  const round = await janitor.runOnce();

  expect(round.expired).toEqual(['ended']);
  expect(round.gc).toMatchObject({ blobs: 1, deleted: 1 });
  expect(await blobs.list()).toEqual([]);
  expect((await expiredCount()) - before).toBe(1);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/info .*state janitor round sessionsExpired=1 blobs=1 blobsDeleted=1 /);
  await store.close();
});

test('a failing part is logged and the other part still runs; the round resolves', async () => {
  const { store, calls } = expiryOnlyStore(['old-session']);
  const { client } = fakeClient({ default: { listError: new Error('visibility unavailable') } });
  const { log, lines } = collectingLogger();
  const janitor = new StateJanitor({
    store,
    blobs: emptyBlobs,
    client,
    intervalMs: HOUR,
    sessionTtlMs: HOUR,
    blobGcGraceMs: HOUR,
    log,
  });
  const round = await janitor.runOnce();
  expect(round.expired).toEqual(['old-session']);
  expect(String(round.gcError)).toMatch(/nothing deleted.*visibility unavailable/);
  expect(calls).toEqual([`idleNamespaces ${HOUR}`, 'dropNamespace old-session']);
  expect(lines[0]).toMatch(/error .*blob GC failed error=.*visibility unavailable/);
  expect(lines[1]).toMatch(/info .*state janitor round sessionsExpired=1 failed=true/);
});

test('rounds run every interval, never overlap, and stop() waits for the running one', async () => {
  jest.useFakeTimers();
  let release: () => void = () => undefined;
  let blocked = false;
  const { store, calls } = expiryOnlyStore([], async () => {
    if (blocked) await new Promise<void>((resolve) => (release = resolve));
  });
  const { client } = fakeClient({ default: {} });
  const { log, lines } = collectingLogger();
  const janitor = new StateJanitor({
    store,
    blobs: emptyBlobs,
    client,
    intervalMs: 1000,
    sessionTtlMs: HOUR,
    blobGcGraceMs: HOUR,
    log,
  });
  janitor.start();
  janitor.start(); // idempotent
  await jest.advanceTimersByTimeAsync(999);
  expect(calls).toHaveLength(0);
  await jest.advanceTimersByTimeAsync(1);
  expect(lines).toHaveLength(1);
  await jest.advanceTimersByTimeAsync(1000);
  expect(lines).toHaveLength(2);

  blocked = true;
  await jest.advanceTimersByTimeAsync(1000);
  expect(calls).toHaveLength(3); // the third round is waiting in idleNamespaces
  await jest.advanceTimersByTimeAsync(5000);
  expect(calls).toHaveLength(3); // no overlapping round meanwhile
  let stopped = false;
  const stopping = janitor.stop().then(() => (stopped = true));
  await jest.advanceTimersByTimeAsync(0);
  expect(stopped).toBe(false);
  release();
  await stopping;
  expect(lines).toHaveLength(3);
  await jest.advanceTimersByTimeAsync(10_000);
  expect(calls).toHaveLength(3);
  expect(janitor.isRunning).toBe(false);
});

test('the janitor timer does not keep the process alive', async () => {
  const { store } = expiryOnlyStore([]);
  const { client } = fakeClient({ default: {} });
  const janitor = new StateJanitor({
    store,
    blobs: emptyBlobs,
    client,
    intervalMs: HOUR,
    sessionTtlMs: HOUR,
    blobGcGraceMs: HOUR,
    log: collectingLogger().log,
  });
  janitor.start();
  const timer = (janitor as unknown as { timer: NodeJS.Timeout }).timer;
  expect(timer.hasRef()).toBe(false);
  await janitor.stop();
});

test('startStateJanitorFromConfig starts nothing when NALAR_STATE_GC_INTERVAL is 0', async () => {
  const { store } = expiryOnlyStore([]);
  const { client } = fakeClient({ default: {} });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nalar-janitor-config-'));
  const off = loadConfig({ env: { NALAR_STATE_GC_INTERVAL: '0', NALAR_DATA_DIR: dataDir } });
  expect(startStateJanitorFromConfig(off, client, store)).toBeUndefined();
  const on = loadConfig({ env: { NALAR_STATE_GC_INTERVAL: '5 minutes', NALAR_DATA_DIR: dataDir } });
  const janitor = startStateJanitorFromConfig(on, client, store, { log: collectingLogger().log });
  expect(janitor?.isRunning).toBe(true);
  await janitor?.stop();
});
