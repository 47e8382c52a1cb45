/**
 * The one conformance suite every session-store backend must pass. A backend's test file calls
 * {@link describeSessionStoreContract} with a factory; each test gets a fresh isolation prefix, opens its
 * stores through the factory, uses namespaces under that prefix and drops them afterwards.
 */
import { randomBytes } from 'node:crypto';
import { SessionStoreError, SessionStoreErrorCode } from './errors';
import { type CommonStoreOptions, type SessionStore } from './interface';

/**
 * Opens a store isolated by `namespacePrefix` (a folder, key prefix or schema; lowercase letters and digits).
 * Two calls with the same prefix must reach the same data, like two processes sharing a backend.
 */
export type MakeSessionStore = (namespacePrefix: string, options?: CommonStoreOptions) => Promise<SessionStore>;

/** Expects `promise` to reject with a {@link SessionStoreError} of `code`; returns the error. */
export async function expectStoreError(
  promise: Promise<unknown>,
  code: SessionStoreErrorCode,
  messageIncludes?: string,
): Promise<SessionStoreError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  if (!SessionStoreError.is(caught)) {
    throw new Error(`expected a SessionStoreError ${code}, got ${caught === undefined ? 'success' : String(caught)}`);
  }
  expect(caught.code).toBe(code);
  if (messageIncludes !== undefined) expect(caught.message).toContain(messageIncludes);
  return caught;
}

let counter = 0;

/** Registers the contract tests for one backend. */
export function describeSessionStoreContract(name: string, makeStore: MakeSessionStore): void {
  describe(`SessionStore contract: ${name}`, () => {
    let prefix = '';
    let stores: SessionStore[] = [];
    let namespaces: string[] = [];

    beforeEach(() => {
      prefix = `t${randomBytes(4).toString('hex')}${++counter}`;
      stores = [];
      namespaces = [];
    });

    afterEach(async () => {
      try {
        const [store] = stores;
        if (store) {
          for (const n of namespaces) await store.dropNamespace(n);
          for (const n of namespaces) expect(await store.keys(n)).toEqual([]);
        }
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });

    async function open(options?: CommonStoreOptions): Promise<SessionStore> {
      const store = await makeStore(prefix, options);
      stores.push(store);
      await store.waitUntilReady();
      return store;
    }

    /** A namespace of this test (dropped after it). */
    function ns(label = 'main'): string {
      const n = `${prefix}/${label}`;
      namespaces.push(n);
      return n;
    }

    it('puts and gets values with versions starting at 1', async () => {
      const store = await open();
      const n = ns();
      expect(await store.get(n, 'a')).toBeUndefined();
      expect(await store.put(n, 'a', '{"x":1}')).toBe(1);
      expect(await store.get(n, 'a')).toEqual({ value: '{"x":1}', version: 1 });
      expect(await store.put(n, 'a', '  [1, 2]  ')).toBe(2);
      // The exact JSON text comes back, not a re-serialisation.
      expect(await store.get(n, 'a')).toEqual({ value: '  [1, 2]  ', version: 2 });
      expect(await store.get(ns('other'), 'a')).toBeUndefined();
    });

    it('compare-and-set succeeds on the expected version and reports conflicts', async () => {
      const store = await open();
      const n = ns();
      expect(await store.put(n, 'k', '1', { expectedVersion: 0 })).toBe(1);
      const absent = await expectStoreError(
        store.put(n, 'k', '2', { expectedVersion: 0 }),
        SessionStoreErrorCode.CONFLICT,
      );
      expect(absent).toMatchObject({ expectedVersion: 0, actualVersion: 1 });
      expect(await store.put(n, 'k', '2', { expectedVersion: 1 })).toBe(2);
      const stale = await expectStoreError(
        store.put(n, 'k', '3', { expectedVersion: 1 }),
        SessionStoreErrorCode.CONFLICT,
      );
      expect(stale).toMatchObject({ expectedVersion: 1, actualVersion: 2 });
      const missing = await expectStoreError(
        store.put(n, 'nope', '3', { expectedVersion: 4 }),
        SessionStoreErrorCode.CONFLICT,
      );
      expect(missing).toMatchObject({ expectedVersion: 4, actualVersion: 0 });
      expect(await store.get(n, 'k')).toEqual({ value: '2', version: 2 });
      expect(await store.get(n, 'nope')).toBeUndefined();
    });

    it('deletes with compare-and-set; versions restart after a delete', async () => {
      const store = await open();
      const n = ns();
      await store.put(n, 'k', '"v"');
      const err = await expectStoreError(store.delete(n, 'k', { expectedVersion: 5 }), SessionStoreErrorCode.CONFLICT);
      expect(err).toMatchObject({ expectedVersion: 5, actualVersion: 1 });
      await expectStoreError(store.delete(n, 'k', { expectedVersion: 0 }), SessionStoreErrorCode.CONFLICT);
      expect(await store.delete(n, 'k', { expectedVersion: 1 })).toBe(true);
      expect(await store.get(n, 'k')).toBeUndefined();
      expect(await store.delete(n, 'k')).toBe(false);
      expect(await store.delete(n, 'k', { expectedVersion: 0 })).toBe(false);
      expect(await store.put(n, 'k', '"again"')).toBe(1);
    });

    it('lists keys sorted, including keys that are special in JavaScript objects', async () => {
      const store = await open();
      const n = ns();
      for (const k of ['b', 'a', '__proto__', 'c', 'B', 'constructor']) await store.put(n, k, 'true');
      await store.put(ns('other'), 'zzz', 'true');
      expect(await store.keys(n)).toEqual(['B', '__proto__', 'a', 'b', 'c', 'constructor']);
      expect(await store.get(n, '__proto__')).toEqual({ value: 'true', version: 1 });
      expect(await store.keys(ns('empty'))).toEqual([]);
    });

    it('appends to lists and reads ranges like Array.prototype.slice', async () => {
      const store = await open();
      const n = ns();
      const items = ['0', '1', '2', '3', '4'];
      for (const [i, item] of items.entries()) expect(await store.append(n, 'log', item)).toBe(i + 1);
      expect(await store.length(n, 'log')).toBe(5);
      expect(await store.length(n, 'other')).toBe(0);
      for (const [start, end] of [[0], [1, 3], [-2], [0, -1], [10], [3, 1], [-10, 2], [2, 100], [-3, -1]] as [
        number,
        number?,
      ][]) {
        expect(await store.range(n, 'log', start, end)).toEqual(items.slice(start, end));
      }
      expect(await store.range(n, 'missing', 0)).toEqual([]);
    });

    it('applies a put, append or delete with an already-used opId only once', async () => {
      const store = await open();
      const n = ns();
      expect(await store.put(n, 'k', '"first"', { opId: 'op-put' })).toBe(1);
      expect(await store.put(n, 'k', '"retry"', { opId: 'op-put' })).toBe(1);
      expect(await store.get(n, 'k')).toEqual({ value: '"first"', version: 1 });

      expect(await store.append(n, 'l', '"a"', { opId: 'op-append' })).toBe(1);
      expect(await store.append(n, 'l', '"a"', { opId: 'op-append' })).toBe(1);
      expect(await store.range(n, 'l', 0)).toEqual(['"a"']);

      expect(await store.delete(n, 'k', { opId: 'op-delete' })).toBe(true);
      expect(await store.put(n, 'k', '"new"')).toBe(1);
      // The retried delete returns its first result and does not delete the newer value.
      expect(await store.delete(n, 'k', { opId: 'op-delete' })).toBe(true);
      expect(await store.get(n, 'k')).toEqual({ value: '"new"', version: 1 });

      // A CAS conflict is not recorded: the retry may succeed.
      await expectStoreError(
        store.put(n, 'k', '1', { opId: 'op-cas', expectedVersion: 7 }),
        SessionStoreErrorCode.CONFLICT,
      );
      expect(await store.put(n, 'k', '1', { opId: 'op-cas', expectedVersion: 1 })).toBe(2);

      // opIds are per namespace; reusing one for another kind of operation is a caller bug.
      expect(await store.append(ns('other'), 'l', '1', { opId: 'op-put' })).toBe(1);
      await expectStoreError(store.append(n, 'l', '1', { opId: 'op-put' }), SessionStoreErrorCode.INVALID, 'op-put');
    });

    it('applies two concurrent appends with the same opId once', async () => {
      const [a, b] = [await open(), await open()];
      const n = ns();
      const results = await Promise.all([
        a.append(n, 'l', '"x"', { opId: 'same' }),
        b.append(n, 'l', '"x"', { opId: 'same' }),
        a.append(n, 'l', '"x"', { opId: 'same' }),
      ]);
      expect(results).toEqual([1, 1, 1]);
      expect(await a.length(n, 'l')).toBe(1);
    });

    it('applies 20 concurrent appends with different opIds without loss', async () => {
      const [a, b] = [await open(), await open()];
      const n = ns();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).append(n, 'l', JSON.stringify(i), { opId: `op-${i}` })),
      );
      expect([...results].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(await a.length(n, 'l')).toBe(20);
      const items = (await a.range(n, 'l', 0)).map((s) => Number(JSON.parse(s)));
      expect(items.sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    });

    it('lets exactly one of 10 concurrent compare-and-set writers win each version (no lost update)', async () => {
      const [a, b] = [await open(), await open()];
      const n = ns();
      const firstRound = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).put(n, 'counter', '0', { expectedVersion: 0 })),
      );
      expect(firstRound.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of firstRound) {
        if (r.status === 'rejected') {
          expect(r.reason).toMatchObject({
            code: SessionStoreErrorCode.CONFLICT,
            expectedVersion: 0,
            actualVersion: 1,
          });
        }
      }
      // Each writer increments once, retrying on conflict: the counter must end at exactly 10.
      const wonVersions = await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const store = i % 2 ? a : b;
          for (;;) {
            const current = await store.get(n, 'counter');
            if (!current) throw new Error('counter vanished');
            try {
              const next = String(Number(JSON.parse(current.value)) + 1);
              return await store.put(n, 'counter', next, { expectedVersion: current.version });
            } catch (err) {
              if (!SessionStoreError.hasCode(err, SessionStoreErrorCode.CONFLICT)) throw err;
            }
          }
        }),
      );
      expect([...wonVersions].sort((x, y) => x - y)).toEqual(Array.from({ length: 10 }, (_, i) => i + 2));
      expect(await a.get(n, 'counter')).toEqual({ value: '10', version: 11 });
    });

    it('drops everything of a namespace and nothing else', async () => {
      const store = await open();
      const [n, other] = [ns(), ns('other')];
      await store.put(n, 'k', '1', { opId: 'op' });
      await store.append(n, 'l', '1');
      await store.setOwner(n, 'worker-1', 0);
      await store.put(other, 'k', '2');
      await store.dropNamespace(n);
      expect(await store.get(n, 'k')).toBeUndefined();
      expect(await store.keys(n)).toEqual([]);
      expect(await store.length(n, 'l')).toBe(0);
      expect(await store.range(n, 'l', 0)).toEqual([]);
      expect(await store.getOwner(n)).toBeUndefined();
      expect(await store.idleNamespaces(0)).not.toContain(n);
      // The opId record went with it: the same opId applies again.
      expect(await store.put(n, 'k', '3', { opId: 'op' })).toBe(1);
      expect(await store.get(other, 'k')).toEqual({ value: '2', version: 1 });
      await store.dropNamespace(ns('never-written'));
    });

    it('lists namespaces idle for longer than a duration (injected clock)', async () => {
      let now = 1_000_000;
      const store = await open({ now: () => now });
      const [first, second] = [ns('first'), ns('second')];
      await store.put(first, 'k', '1');
      now += 10_000;
      await store.append(second, 'l', '1');
      const mine = async (olderThanMs: number) =>
        (await store.idleNamespaces(olderThanMs)).filter((n) => n.startsWith(prefix));
      expect(await mine(5_000)).toEqual([first]);
      expect(await mine(10_000)).toEqual([]);
      now += 100_000;
      expect(await mine(50_000)).toEqual([first, second]);
      await store.put(first, 'k', '2');
      expect(await mine(50_000)).toEqual([second]);
    });

    it('sets owners with growing epochs and rejects stale epochs', async () => {
      const store = await open();
      const n = ns();
      expect(await store.getOwner(n)).toBeUndefined();
      expect(await store.setOwner(n, 'worker-1', 0)).toBe(1);
      expect(await expectStoreError(store.setOwner(n, 'worker-2', 0), SessionStoreErrorCode.CONFLICT)).toMatchObject({
        expectedVersion: 0,
        actualVersion: 1,
      });
      expect(await store.setOwner(n, 'worker-2', 1)).toBe(2);
      expect(await store.getOwner(n)).toEqual({ owner: 'worker-2', epoch: 2 });
      expect(await expectStoreError(store.setOwner(n, 'worker-3', 1), SessionStoreErrorCode.CONFLICT)).toMatchObject({
        expectedVersion: 1,
        actualVersion: 2,
      });
      expect(await store.getOwner(n)).toEqual({ owner: 'worker-2', epoch: 2 });
    });

    it('stamps count every applied change exactly once and carry the owner', async () => {
      const store = await open();
      const n = ns();
      expect(await store.stamp(n)).toEqual({ writes: 0 });
      await store.put(n, 'a', '1');
      await store.put(n, 'a', '2', { opId: 'op-1' });
      await store.put(n, 'a', '3', { opId: 'op-1' }); // replayed: no change
      await expectStoreError(store.put(n, 'a', '4', { expectedVersion: 1 }), SessionStoreErrorCode.CONFLICT);
      expect(await store.stamp(n)).toEqual({ writes: 2 });
      await store.append(n, 'log', '"x"');
      expect(await store.delete(n, 'a')).toBe(true);
      expect(await store.delete(n, 'a')).toBe(false); // nothing removed, nothing recorded: no change
      expect(await store.stamp(n)).toEqual({ writes: 4 });
      await store.setOwner(n, 'worker-1', 0);
      expect(await store.stamp(n)).toEqual({ owner: { owner: 'worker-1', epoch: 1 }, writes: 5 });
      // A second instance (another process) sees the same stamp.
      const other = await open();
      expect(await other.stamp(n)).toEqual({ owner: { owner: 'worker-1', epoch: 1 }, writes: 5 });
      await store.dropNamespace(n);
      expect(await store.stamp(n)).toEqual({ writes: 0 });
    });

    it('tells a writer the change count of its own applied change, and only then', async () => {
      const store = await open();
      const n = ns();
      const seen: number[] = [];
      const onApplied = (writes: number) => seen.push(writes);
      await store.put(n, 'a', '1', { onApplied });
      await store.append(n, 'log', '"x"', { opId: 'op-1', onApplied });
      await store.append(n, 'log', '"x"', { opId: 'op-1', onApplied }); // replayed
      await store.put(n, 'b', '1'); // someone else's change
      await expectStoreError(store.put(n, 'a', '2', { expectedVersion: 7, onApplied }), SessionStoreErrorCode.CONFLICT);
      expect(await store.delete(n, 'missing', { onApplied })).toBe(false); // changed nothing
      expect(await store.delete(n, 'a', { onApplied })).toBe(true);
      expect(seen).toEqual([1, 2, 4]);
      expect((await store.stamp(n)).writes).toBe(4);
    });

    it('lists the names of non-empty lists, sorted', async () => {
      const store = await open();
      const n = ns();
      expect(await store.listNames(n)).toEqual([]);
      for (const name of ['list:b', 'list:a', '__proto__']) await store.append(n, name, '1');
      await store.put(n, 'map:x', '1');
      expect(await store.listNames(n)).toEqual(['__proto__', 'list:a', 'list:b']);
      await store.dropNamespace(n);
      expect(await store.listNames(n)).toEqual([]);
    });

    it('reports namespace count and stored bytes', async () => {
      const store = await open();
      expect(await store.stats()).toEqual({ namespaces: 0, bytes: 0 });
      const [a, b] = [ns('a'), ns('b')];
      const big = JSON.stringify('x'.repeat(10_000));
      await store.put(a, 'k', big);
      await store.append(b, 'log', big);
      await store.append(b, 'log', big);
      const full = await store.stats();
      expect(full.namespaces).toBe(2);
      expect(full.bytes).toBeGreaterThanOrEqual(3 * big.length);
      expect(full.bytes).toBeLessThan(4 * big.length);
      await store.put(a, 'k', '1'); // shrinks
      expect((await store.stats()).bytes).toBeLessThan(3 * big.length);
      await store.dropNamespace(a);
      await store.dropNamespace(b);
      expect(await store.stats()).toEqual({ namespaces: 0, bytes: 0 });
    });

    it('rejects invalid arguments with NALAR_ERR_STATE_INVALID naming the argument', async () => {
      const store = await open();
      const n = ns();
      const INVALID = SessionStoreErrorCode.INVALID;
      await expectStoreError(store.put('', 'k', '1'), INVALID, 'namespace');
      await expectStoreError(store.get('a\0b', 'k'), INVALID, 'namespace');
      await expectStoreError(store.keys('é'.repeat(257)), INVALID, 'namespace');
      await expectStoreError(store.stamp(''), INVALID, 'namespace');
      await expectStoreError(store.put(n, '', '1'), INVALID, 'key');
      await expectStoreError(store.put(n, 'x'.repeat(513), '1'), INVALID, 'key');
      await expectStoreError(store.delete(n, '\ud800'), INVALID, 'key');
      await expectStoreError(store.put(n, 'k', 'not json'), INVALID, 'value');
      await expectStoreError(store.put(n, 'k', 42 as unknown as string), INVALID, 'value');
      await expectStoreError(store.append(n, 'l', `"${'a'.repeat(8 * 1024 * 1024)}"`), INVALID, 'value');
      await expectStoreError(store.put(n, 'k', '1', { opId: 'o'.repeat(201) }), INVALID, 'opId');
      await expectStoreError(store.put(n, 'k', '1', { expectedVersion: -1 }), INVALID, 'expectedVersion');
      await expectStoreError(store.append(n, '', '1'), INVALID, 'list');
      await expectStoreError(store.range(n, 'l', 1.5), INVALID, 'start');
      await expectStoreError(store.idleNamespaces(-1), INVALID, 'olderThanMs');
      await expectStoreError(store.setOwner(n, 'w', -1), INVALID, 'expectedEpoch');
      await expectStoreError(store.setOwner(n, '', 0), INVALID, 'owner');
      // 512 bytes exactly is allowed.
      expect(await store.put(n, 'k'.repeat(512), '1')).toBe(1);
      expect(await store.keys(n)).toEqual(['k'.repeat(512)]);
    });

    it('shows each store instance the writes of the other (two processes on one backend)', async () => {
      const [a, b] = [await open(), await open()];
      const n = ns();
      await a.put(n, 'k', '"from a"');
      expect(await b.get(n, 'k')).toEqual({ value: '"from a"', version: 1 });
      await b.append(n, 'l', '"from b"');
      expect(await a.range(n, 'l', 0)).toEqual(['"from b"']);
      await b.put(n, 'k', '"from b"', { expectedVersion: 1 });
      await expectStoreError(a.put(n, 'k', '"late"', { expectedVersion: 1 }), SessionStoreErrorCode.CONFLICT);
      await a.setOwner(n, 'a', 0);
      expect(await b.getOwner(n)).toEqual({ owner: 'a', epoch: 1 });
    });

    it('round-trips unicode namespaces, keys, list names and values', async () => {
      const store = await open();
      const n = ns('сессия-🧠-会话');
      const key = 'ключ/🔑/鍵 with spaces:and*glob?';
      const value = JSON.stringify({ emoji: '😀👍🏽', text: 'naïve ☃ 𝔘𝔫𝔦', rtl: 'שלום' });
      expect(await store.put(n, key, value)).toBe(1);
      expect(await store.get(n, key)).toEqual({ value, version: 1 });
      expect(await store.keys(n)).toEqual([key]);
      await store.append(n, 'журнал 📜', value);
      expect(await store.range(n, 'журнал 📜', 0)).toEqual([value]);
    });

    it('round-trips a 5 MiB value', async () => {
      const store = await open();
      const n = ns();
      const value = JSON.stringify({ blob: 'é'.repeat(1024) + 'x'.repeat(5 * 1024 * 1024) });
      expect(await store.put(n, 'big', value)).toBe(1);
      const read = await store.get(n, 'big');
      expect(read?.version).toBe(1);
      expect(read?.value.length).toBe(value.length);
      expect(read?.value === value).toBe(true);
    });
  });
}
