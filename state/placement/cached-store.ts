/**
 * The worker-local cache of hot session state. It wraps any {@link SessionStore} and keeps a copy of the
 * state of the sessions this worker owns (owner record = this worker), so an agent's reads of its own
 * conversation cost one small stamp read instead of moving the whole state each call.
 *
 * Correctness rests on the store's stamp (owner, epoch, change count) — never on timing:
 * - Every read of a cached session first reads the stamp. Another owner or epoch (the session moved) drops
 *   the copy; another change count (someone else wrote) empties it, and it refills from the store.
 * - This worker's own writes go to the store first; the store reports the change count of each applied
 *   write (`onApplied`). Only when it is exactly one more than the copy's does the copy apply the write
 *   itself; otherwise another writer interleaved and the copy is emptied. A replayed or failed write
 *   changes nothing in the store, so the copy stays valid.
 * - Loads that raced with a write are not stored (a generation counter), so a slow read never puts older
 *   data under a newer stamp.
 * Sessions the worker does not own are passed straight through (no stamp read, no copy).
 */
import { configDefaults } from '../../common/config';
import type {
  NamespaceOwner,
  NamespaceStamp,
  SessionStore,
  StoredValue,
  StoreStats,
  WriteOptions,
} from '../session-store';
import { sliceBounds } from '../session-store/validation';
import { stateCacheBytes, stateCacheEvents, stateOpDuration } from '../metrics';

export interface CachedSessionStoreOptions {
  /** This worker's name in owner records (see `workerIdOf`). */
  workerId: string;
  /**
   * Most bytes (UTF-16 code units of cached texts) held; least recently used sessions go first.
   * @default NALAR_STATE_CACHE_BYTES's default (67108864, 64 MiB)
   */
  maxBytes?: number;
}

/** What {@link CachedSessionStore.warm} loaded. */
export interface WarmResult {
  epoch: number;
  keys: number;
  lists: number;
  bytes: number;
}

/** The cached copy of one session's state. */
interface Entry {
  epoch: number;
  /** Change count of the store the copy reflects; -1 = unknown (next read re-stamps and refills). */
  writes: number;
  /** Bumped on every change of the copy; a load started under another generation is not stored. */
  generation: number;
  /** `null`: known to be absent. */
  values: Map<string, StoredValue | null>;
  keys?: string[];
  lists: Map<string, string[]>;
  listNames?: string[];
  bytes: number;
}

type CacheOutcome = 'hit' | 'miss' | 'bypass' | 'write';

function emptyEntry(epoch: number, writes: number): Entry {
  return { epoch, writes, generation: 0, values: new Map(), lists: new Map(), bytes: 0 };
}

function sortedInsert(sorted: string[], item: string): string[] {
  if (sorted.includes(item)) return sorted;
  return [...sorted, item].sort();
}

export class CachedSessionStore implements SessionStore {
  readonly workerId: string;
  private readonly maxBytes: number;
  /** Insertion order is recency order (LRU): a used entry is re-inserted. */
  private readonly entries = new Map<string, Entry>();
  private totalBytes = 0;

  constructor(
    readonly inner: SessionStore,
    options: CachedSessionStoreOptions,
  ) {
    this.workerId = options.workerId;
    this.maxBytes = options.maxBytes ?? configDefaults.stateCacheBytes;
  }

  get backend(): SessionStore['backend'] {
    return this.inner.backend;
  }

  waitUntilReady(): Promise<void> {
    return this.inner.waitUntilReady();
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.setTotal(0);
    await this.inner.close();
  }

  /** Sessions held in this cache, least recently used first. */
  cachedSessions(): string[] {
    return [...this.entries.keys()];
  }

  /** Bytes held (UTF-16 code units of the cached texts). */
  cachedBytes(): number {
    return this.totalBytes;
  }

  /**
   * Loads the whole state of `ns` into the cache, if this worker owns it (the target side of a session
   * move). Returns what was loaded, or undefined when the owner record names another worker.
   */
  async warm(ns: string): Promise<WarmResult | undefined> {
    const stamp = await this.inner.stamp(ns);
    if (stamp.owner?.owner !== this.workerId) {
      this.drop(ns, 'invalidation');
      return undefined;
    }
    const entry = emptyEntry(stamp.owner.epoch, stamp.writes);
    this.replace(ns, entry);
    const [keys, listNames] = await Promise.all([this.inner.keys(ns), this.inner.listNames(ns)]);
    const values = await Promise.all(keys.map((k) => this.inner.get(ns, k)));
    const lists = await Promise.all(listNames.map((l) => this.inner.range(ns, l, 0)));
    // Everything was read after the stamp, so it is at least as new: storing it under the stamp is safe
    // (a later change shows as a changed count). A write of ours meanwhile changed the generation: then
    // the copy stays as it is and fills as the session is read.
    if (this.entries.get(ns) !== entry) return undefined;
    if (entry.generation === 0) {
      entry.keys = keys;
      entry.listNames = listNames;
      keys.forEach((k, i) => this.storeValue(entry, k, values[i] ?? null));
      listNames.forEach((l, i) => this.storeList(entry, l, lists[i] ?? []));
      stateCacheEvents.inc({ event: 'warm' });
      this.evict(ns);
      if (this.entries.get(ns) !== entry) return undefined;
    }
    return { epoch: entry.epoch, keys: keys.length, lists: listNames.length, bytes: entry.bytes };
  }

  /** Forgets the copy of `ns` (its ownership moved away); true if there was one. */
  invalidate(ns: string): boolean {
    return this.drop(ns, 'invalidation');
  }

  // Reads

  async get(ns: string, key: string): Promise<StoredValue | undefined> {
    return this.read('get', ns, async (entry, keep) => {
      const cached = entry?.values.get(key);
      if (cached !== undefined) return { outcome: 'hit', value: cached ?? undefined };
      const loaded = await this.inner.get(ns, key);
      keep((e) => this.storeValue(e, key, loaded ?? null));
      return { outcome: entry ? 'miss' : 'bypass', value: loaded };
    }).then((v) => (v ? { ...v } : undefined));
  }

  async keys(ns: string): Promise<string[]> {
    return this.read('keys', ns, async (entry, keep) => {
      if (entry?.keys) return { outcome: 'hit', value: [...entry.keys] };
      const loaded = await this.inner.keys(ns);
      keep((e) => (e.keys = [...loaded]));
      return { outcome: entry ? 'miss' : 'bypass', value: loaded };
    });
  }

  async range(ns: string, list: string, start: number, end?: number): Promise<string[]> {
    return this.read('range', ns, async (entry, keep) => {
      let items = entry?.lists.get(list);
      if (items) {
        const { from, to } = sliceBounds(items.length, start, end);
        return { outcome: 'hit', value: items.slice(from, to) };
      }
      if (!entry) return { outcome: 'bypass', value: await this.inner.range(ns, list, start, end) };
      // Load the whole list once: agent loops read their conversation again and again.
      items = await this.inner.range(ns, list, 0);
      const loaded = items;
      keep((e) => this.storeList(e, list, loaded));
      const { from, to } = sliceBounds(items.length, start, end);
      return { outcome: 'miss', value: items.slice(from, to) };
    });
  }

  async length(ns: string, list: string): Promise<number> {
    return this.read('length', ns, async (entry) => {
      const items = entry?.lists.get(list);
      if (items) return { outcome: 'hit', value: items.length };
      return { outcome: entry ? 'miss' : 'bypass', value: await this.inner.length(ns, list) };
    });
  }

  async listNames(ns: string): Promise<string[]> {
    return this.read('listNames', ns, async (entry, keep) => {
      if (entry?.listNames) return { outcome: 'hit', value: [...entry.listNames] };
      const loaded = await this.inner.listNames(ns);
      keep((e) => (e.listNames = [...loaded]));
      return { outcome: entry ? 'miss' : 'bypass', value: loaded };
    });
  }

  // Writes: the store first, then the copy (only when the store says no one else wrote in between).

  put(ns: string, key: string, value: string, options?: WriteOptions): Promise<number> {
    return this.write(
      'put',
      ns,
      options,
      (o) => this.inner.put(ns, key, value, o),
      (e, version) => {
        this.storeValue(e, key, { value, version });
        if (e.keys) e.keys = sortedInsert(e.keys, key);
      },
    );
  }

  delete(ns: string, key: string, options?: WriteOptions): Promise<boolean> {
    return this.write(
      'delete',
      ns,
      options,
      (o) => this.inner.delete(ns, key, o),
      (e) => {
        this.storeValue(e, key, null);
        if (e.keys) e.keys = e.keys.filter((k) => k !== key);
      },
    );
  }

  append(ns: string, list: string, value: string, options?: Pick<WriteOptions, 'opId' | 'onApplied'>): Promise<number> {
    return this.write(
      'append',
      ns,
      options,
      (o) => this.inner.append(ns, list, value, o),
      (e, length) => {
        const items = e.lists.get(list);
        if (items && items.length === length - 1) this.storeList(e, list, [...items, value]);
        else this.removeList(e, list);
        if (e.listNames) e.listNames = sortedInsert(e.listNames, list);
      },
    );
  }

  async dropNamespace(ns: string): Promise<void> {
    this.drop(ns, 'invalidation');
    await this.inner.dropNamespace(ns);
  }

  idleNamespaces(olderThanMs: number): Promise<string[]> {
    return this.inner.idleNamespaces(olderThanMs);
  }

  getOwner(ns: string): Promise<NamespaceOwner | undefined> {
    return this.inner.getOwner(ns);
  }

  /**
   * Sets the owner in the store. Becoming the owner starts an (empty) copy that fills as the session is
   * read; handing the session to another worker drops the copy.
   */
  async setOwner(ns: string, owner: string, expectedEpoch: number): Promise<number> {
    this.drop(ns, 'invalidation');
    const epoch = await this.inner.setOwner(ns, owner, expectedEpoch);
    if (owner === this.workerId) this.replace(ns, emptyEntry(epoch, -1));
    return epoch;
  }

  stamp(ns: string): Promise<NamespaceStamp> {
    return this.inner.stamp(ns);
  }

  stats(): Promise<StoreStats> {
    return this.inner.stats();
  }

  // Internals

  /**
   * Runs a read against the current copy of `ns` (undefined: not cached here) and records metrics. `keep`
   * stores data the read loaded from the store — unless the copy changed while it loaded.
   */
  private async read<T>(
    op: string,
    ns: string,
    fn: (
      entry: Entry | undefined,
      keep: (store: (e: Entry) => void) => void,
    ) => Promise<{ outcome: CacheOutcome; value: T }>,
  ): Promise<T> {
    const started = performance.now();
    const entry = await this.current(ns);
    const generation = entry?.generation;
    const keep = (store: (e: Entry) => void): void => {
      if (!entry || this.entries.get(ns) !== entry || entry.generation !== generation) return;
      store(entry);
      this.evict(ns);
    };
    const { outcome, value } = await fn(entry, keep);
    this.observe(op, outcome, started);
    return value;
  }

  private async write<R>(
    op: string,
    ns: string,
    options: WriteOptions | undefined,
    call: (options: WriteOptions) => Promise<R>,
    apply: (entry: Entry, result: R) => void,
  ): Promise<R> {
    const started = performance.now();
    const entry = this.entries.get(ns);
    let applied: number | undefined;
    const result = await call({
      ...options,
      onApplied: (writes) => {
        applied = writes;
        options?.onApplied?.(writes);
      },
    });
    // Nothing applied (a replayed opId): the store did not change, so the copy is still right.
    if (applied !== undefined && entry && this.entries.get(ns) === entry) {
      if (entry.writes !== -1 && applied === entry.writes + 1) {
        entry.writes = applied;
        entry.generation += 1;
        apply(entry, result);
        this.evict(ns);
      } else {
        // Someone else wrote in between (or the copy's count is unknown): refill from the store.
        this.reset(entry, -1);
      }
    }
    this.observe(op, 'write', started);
    return result;
  }

  /** The valid copy of `ns`, after checking the stamp; undefined if the worker keeps no copy of it. */
  private async current(ns: string): Promise<Entry | undefined> {
    const entry = this.entries.get(ns);
    if (!entry) return undefined;
    const stamp = await this.inner.stamp(ns);
    if (this.entries.get(ns) !== entry) return undefined; // replaced meanwhile: do not trust either
    if (stamp.owner?.owner !== this.workerId || stamp.owner.epoch !== entry.epoch) {
      this.drop(ns, 'invalidation');
      return undefined;
    }
    if (stamp.writes !== entry.writes) {
      if (entry.writes !== -1) stateCacheEvents.inc({ event: 'invalidation' });
      this.reset(entry, stamp.writes);
    }
    // Most recently used goes last.
    this.entries.delete(ns);
    this.entries.set(ns, entry);
    return entry;
  }

  private storeValue(entry: Entry, key: string, value: StoredValue | null): void {
    const size = (v: StoredValue | null): number => key.length + (v?.value.length ?? 0);
    const old = entry.values.get(key);
    this.resize(entry, size(value) - (old === undefined ? 0 : size(old)));
    entry.values.set(key, value);
  }

  private storeList(entry: Entry, list: string, items: string[]): void {
    this.removeList(entry, list);
    this.resize(
      entry,
      items.reduce((n, s) => n + s.length, list.length),
    );
    entry.lists.set(list, items);
  }

  private removeList(entry: Entry, list: string): void {
    const old = entry.lists.get(list);
    if (!old) return;
    this.resize(entry, -old.reduce((n, s) => n + s.length, list.length));
    entry.lists.delete(list);
  }

  private resize(entry: Entry, delta: number): void {
    entry.bytes += delta;
    this.setTotal(this.totalBytes + delta);
  }

  /** Empties a copy and records the change count it now reflects. */
  private reset(entry: Entry, writes: number): void {
    this.setTotal(this.totalBytes - entry.bytes);
    entry.bytes = 0;
    entry.values = new Map();
    entry.lists = new Map();
    delete entry.keys;
    delete entry.listNames;
    entry.writes = writes;
    entry.generation += 1;
  }

  private replace(ns: string, entry: Entry): void {
    this.drop(ns);
    this.entries.set(ns, entry);
  }

  private drop(ns: string, event?: 'invalidation' | 'eviction'): boolean {
    const entry = this.entries.get(ns);
    if (!entry) return false;
    this.entries.delete(ns);
    this.setTotal(this.totalBytes - entry.bytes);
    entry.generation += 1; // in-flight loads must not store into a dropped copy
    if (event) stateCacheEvents.inc({ event });
    return true;
  }

  /** Evicts least recently used sessions while over the bound; `keep` goes last (alone over the bound: it goes too). */
  private evict(keep: string): void {
    for (const ns of this.entries.keys()) {
      if (this.totalBytes <= this.maxBytes) return;
      if (ns !== keep) this.drop(ns, 'eviction');
    }
    if (this.totalBytes > this.maxBytes) this.drop(keep, 'eviction');
  }

  private setTotal(bytes: number): void {
    // By difference: the gauge is per process, and a process may hold several caches (the benchmark does).
    stateCacheBytes.inc(bytes - this.totalBytes);
    this.totalBytes = bytes;
  }

  private observe(op: string, outcome: CacheOutcome, started: number): void {
    stateOpDuration.observe({ backend: this.inner.backend, op, cache: outcome }, (performance.now() - started) / 1000);
    if (outcome === 'hit' || outcome === 'miss') stateCacheEvents.inc({ event: outcome });
  }
}

/** Wraps `store` in a worker-local cache of the sessions `workerId` owns. */
export function createCachedSessionStore(store: SessionStore, options: CachedSessionStoreOptions): CachedSessionStore {
  return new CachedSessionStore(store, options);
}
