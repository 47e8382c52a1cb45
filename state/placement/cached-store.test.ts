/**
 * The worker-local state cache against the three real backends: owned sessions are served from the copy
 * after one stamp read, and every way the copy can go stale (another writer, an ownership change, a
 * replayed opId, a load racing a write) is caught.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { loadConfig } from '../../common/config';
import { createSessionStore, type SessionStore } from '../session-store';
import { CachedSessionStore } from './cached-store';

const runId = randomBytes(4).toString('hex');
const { redisUrl: REDIS_URL, postgresUrl: POSTGRES_URL } = loadConfig();

/** Counts calls per method and can hold `range` until released (to interleave a load with a write). */
function spied(store: SessionStore) {
  const calls: Record<string, number> = {};
  let gate: { open: Promise<void>; reached: () => void } | undefined;
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return async (...args: unknown[]) => {
        calls[prop] = (calls[prop] ?? 0) + 1;
        const result: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (prop === 'range' && gate) {
          gate.reached();
          await gate.open;
        }
        return result;
      };
    },
  });
  return {
    store: proxy,
    calls,
    /** Data reads (everything but stamps). */
    dataReads: () => ['get', 'keys', 'range', 'length', 'listNames'].reduce((n, m) => n + (calls[m] ?? 0), 0),
    /**
     * Holds the next `range` results at a gate: `reached` resolves once one has read the store and waits
     * there, `release` lets them through.
     */
    hold(): { reached: Promise<void>; release: () => void } {
      let release = (): void => undefined;
      let reached = (): void => undefined;
      const reachedPromise = new Promise<void>((r) => (reached = r));
      gate = { open: new Promise((r) => (release = r)), reached };
      return {
        reached: reachedPromise,
        release: () => {
          gate = undefined;
          release();
        },
      };
    },
  };
}

type Backend = 'filesystem' | 'redis' | 'postgres';

describe.each<Backend>(['filesystem', 'redis', 'postgres'])('CachedSessionStore on %s', (backend) => {
  let dir = '';
  const schemas: string[] = [];
  const opened: SessionStore[] = [];
  let label = '';

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'nalar-cache-'));
  });
  beforeEach(() => {
    label = `c${randomBytes(3).toString('hex')}`;
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    if (schemas.length) {
      const pool = new Pool({ connectionString: POSTGRES_URL });
      for (const s of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
      await pool.end();
    }
  });

  /** A store instance of this test's data; each call is like another process on the same backend. */
  async function open(): Promise<SessionStore> {
    const schema = `nalar_cache_${runId}_${label}`;
    if (backend === 'postgres' && !schemas.includes(schema)) schemas.push(schema);
    const store = createSessionStore({
      backend,
      dir: path.join(dir, label),
      redis: { url: REDIS_URL, prefix: `nalar:test:${runId}:${label}:` },
      postgres: { connectionString: POSTGRES_URL, schema },
    });
    await store.waitUntilReady();
    opened.push(store);
    return store;
  }

  async function cacheOf(workerId = 'w1', maxBytes?: number) {
    const spy = spied(await open());
    const cache = new CachedSessionStore(spy.store, { workerId, ...(maxBytes !== undefined && { maxBytes }) });
    return { cache, ...spy };
  }

  it('passes sessions it does not own straight through, without stamp reads', async () => {
    const { cache, calls } = await cacheOf();
    await cache.append('s', 'log', '"a"');
    expect(await cache.range('s', 'log', 0)).toEqual(['"a"']);
    expect(await cache.range('s', 'log', 0)).toEqual(['"a"']);
    expect(calls.range).toBe(2);
    expect(calls.stamp).toBeUndefined();
    expect(cache.cachedSessions()).toEqual([]);
  });

  it('serves an owned session from its copy after one stamp read, including its own writes', async () => {
    const { cache, calls, dataReads } = await cacheOf();
    await cache.setOwner('s', 'w1', 0);
    await cache.append('s', 'log', '"a"');
    await cache.put('s', 'map:k', '1');
    expect(await cache.range('s', 'log', -20)).toEqual(['"a"']); // miss: loads the list
    expect(await cache.get('s', 'map:k')).toEqual({ value: '1', version: 1 }); // miss
    const loads = dataReads();
    await cache.append('s', 'log', '"b"', { opId: 'op-1' });
    await cache.put('s', 'map:k', '2');
    expect(await cache.range('s', 'log', -20)).toEqual(['"a"', '"b"']);
    expect(await cache.length('s', 'log')).toBe(2);
    expect(await cache.get('s', 'map:k')).toEqual({ value: '2', version: 2 });
    expect(dataReads()).toBe(loads); // all hits
    expect(calls.stamp).toBe(5);
    expect(cache.cachedSessions()).toEqual(['s']);
  });

  it("sees another process's write on the next read", async () => {
    const { cache } = await cacheOf();
    const other = await open();
    await cache.setOwner('s', 'w1', 0);
    await cache.append('s', 'log', '"a"');
    expect(await cache.range('s', 'log', 0)).toEqual(['"a"']);
    await other.append('s', 'log', '"from elsewhere"');
    expect(await cache.range('s', 'log', 0)).toEqual(['"a"', '"from elsewhere"']);
    // Its own write after a foreign one interleaved: the copy refills instead of guessing.
    await other.put('s', 'map:k', '"x"');
    await cache.append('s', 'log', '"b"');
    expect(await cache.range('s', 'log', 0)).toEqual(['"a"', '"from elsewhere"', '"b"']);
    expect(await cache.get('s', 'map:k')).toEqual({ value: '"x"', version: 1 });
  });

  it('drops the copy when ownership moves to another worker', async () => {
    const { cache, calls } = await cacheOf();
    const other = await open();
    const epoch = await cache.setOwner('s', 'w1', 0);
    await cache.append('s', 'log', '"a"');
    await cache.range('s', 'log', 0);
    await other.setOwner('s', 'w2', epoch);
    await other.append('s', 'log', '"b"');
    expect(await cache.range('s', 'log', 0)).toEqual(['"a"', '"b"']);
    expect(cache.cachedSessions()).toEqual([]);
    const stamps = calls.stamp;
    await cache.range('s', 'log', 0);
    expect(calls.stamp).toBe(stamps); // no longer ours: straight through
  });

  it('never keeps a replayed write whose first application came from another attempt', async () => {
    const { cache } = await cacheOf();
    const other = await open();
    await cache.setOwner('s', 'w1', 0);
    expect(await cache.range('s', 'log', 0)).toEqual([]);
    // The first attempt (another worker) applied op-1, then the retry here replays it with other output.
    await other.append('s', 'log', '"attempt 1"', { opId: 'wf/act/1' });
    expect(await cache.append('s', 'log', '"attempt 2"', { opId: 'wf/act/1' })).toBe(1);
    expect(await cache.range('s', 'log', 0)).toEqual(['"attempt 1"']);
  });

  it('does not store a load that raced with its own write', async () => {
    const spy = await cacheOf();
    const { cache } = spy;
    await cache.setOwner('s', 'w1', 0);
    await cache.append('s', 'log', '"a"');
    const gate = spy.hold();
    const slowRead = cache.range('s', 'log', 0); // loads ['"a"'], held before it can store
    await gate.reached;
    await cache.append('s', 'log', '"b"');
    gate.release();
    expect(await slowRead).toEqual(['"a"']);
    expect(await cache.range('s', 'log', 0)).toEqual(['"a"', '"b"']);
  });

  it('warms a session this worker was made owner of, so its first reads are hits', async () => {
    const { cache, dataReads } = await cacheOf('w2');
    const other = await open();
    await other.put('s', 'map:profile', '{"name":"Ada"}');
    await other.append('s', 'list:conversation', '"hello"');
    await other.append('s', 'list:conversation', '"hi"');
    const epoch = await other.setOwner('s', 'w1', 0);
    expect(await cache.warm('s')).toBeUndefined(); // not ours
    await other.setOwner('s', 'w2', epoch);
    const warmed = await cache.warm('s');
    expect(warmed).toMatchObject({ epoch: epoch + 1, keys: 1, lists: 1 });
    expect(warmed!.bytes).toBeGreaterThan(0);
    const before = dataReads();
    expect(await cache.get('s', 'map:profile')).toEqual({ value: '{"name":"Ada"}', version: 1 });
    expect(await cache.range('s', 'list:conversation', -1)).toEqual(['"hi"']);
    expect(await cache.keys('s')).toEqual(['map:profile']);
    expect(await cache.listNames('s')).toEqual(['list:conversation']);
    expect(dataReads()).toBe(before);
    expect(cache.invalidate('s')).toBe(true);
    expect(cache.cachedBytes()).toBe(0);
  });

  it('evicts the least recently used session when over its byte bound', async () => {
    const { cache } = await cacheOf('w1', 3_000);
    for (const s of ['s1', 's2']) {
      await cache.setOwner(s, 'w1', 0);
      await cache.append(s, 'log', JSON.stringify('x'.repeat(1_000)));
      await cache.range(s, 'log', 0);
    }
    await cache.range('s1', 'log', 0); // s1 is now the most recent
    await cache.setOwner('s3', 'w1', 0);
    await cache.append('s3', 'log', JSON.stringify('y'.repeat(1_000)));
    await cache.range('s3', 'log', 0);
    expect(cache.cachedSessions()).toEqual(['s1', 's3']);
    expect(cache.cachedBytes()).toBeLessThanOrEqual(3_000);
  });
});
