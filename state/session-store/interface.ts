/**
 * The session-state store contract. Every backend (filesystem, Redis, PostgreSQL) passes the same
 * conformance suite in `contract.ts`, so callers never depend on which one is configured.
 */

/** A map entry: a JSON text and its version (1 after the first write, +1 per write; restarts after delete). */
export interface StoredValue {
  value: string;
  version: number;
}

/** Options of a write. */
export interface WriteOptions {
  /** Compare-and-set: write only if the current version equals this (0 = key must be absent). */
  expectedVersion?: number;
  /**
   * Idempotency key: an operation with an opId already applied in this namespace is not applied again;
   * the call returns the result of the first application. (A retried activity attempt reuses its opId.)
   * Records live until the namespace is dropped. Reusing an opId for another kind of operation is invalid.
   */
  opId?: string;
  /**
   * Called, before the call resolves, when the call changed the namespace, with the namespace's change
   * count right after this change (the `writes` of {@link SessionStore.stamp}, read in the same atomic step).
   * Not called for a replayed opId or a call that changed nothing. Lets a cache tell its own write from
   * an interleaved foreign one without another round trip.
   */
  onApplied?: (writes: number) => void;
}

/** Which implementation serves a store. */
export type SessionStoreBackend = 'filesystem' | 'redis' | 'postgres';

/** The owner record of a namespace. */
export interface NamespaceOwner {
  owner: string;
  /** Grows by one on every successful `setOwner`; a fencing token for the serving worker. */
  epoch: number;
}

/** What a cache checks to know whether its copy of a namespace is still current. */
export interface NamespaceStamp {
  owner?: NamespaceOwner;
  /**
   * Grows by exactly one with every applied change of the namespace (a put, a delete that removed or
   * recorded something, an append, an owner change); 0 for a namespace without state. A replayed opId or a
   * failed compare-and-set changes nothing and does not count.
   */
  writes: number;
}

/** Size of a store, for metrics. */
export interface StoreStats {
  /** Namespaces (sessions) holding state. */
  namespaces: number;
  /** Bytes of stored state as the backend measures it (JSON texts of values and list items, or documents on disk). */
  bytes: number;
}

/**
 * Versioned per-session state: maps of JSON values with compare-and-set, append-only lists, idempotent
 * writes keyed by opId, and an owner record with an epoch. Every write is atomic with its opId record
 * and with the namespace's last-write time, also across processes sharing the backend.
 */
export interface SessionStore {
  readonly backend: SessionStoreBackend;
  /** Connects / creates schema or folders; rejects with `NALAR_ERR_STATE_UNAVAILABLE` if unreachable. */
  waitUntilReady(): Promise<void>;
  /** Releases connections; the store cannot be used afterwards. */
  close(): Promise<void>;
  get(ns: string, key: string): Promise<StoredValue | undefined>;
  /** Returns the new version. */
  put(ns: string, key: string, value: string, options?: WriteOptions): Promise<number>;
  /** True if a value was deleted. */
  delete(ns: string, key: string, options?: WriteOptions): Promise<boolean>;
  /** Map keys of the namespace, sorted by UTF-16 code units (JavaScript's default sort) on every backend. */
  keys(ns: string): Promise<string[]>;
  /** Returns the new length. */
  append(ns: string, list: string, value: string, options?: Pick<WriteOptions, 'opId' | 'onApplied'>): Promise<number>;
  /** Like `Array.prototype.slice` (negative indices count from the end); integers only. */
  range(ns: string, list: string, start: number, end?: number): Promise<string[]>;
  length(ns: string, list: string): Promise<number>;
  /** Names of the namespace's non-empty lists, sorted like `keys`. */
  listNames(ns: string): Promise<string[]>;
  /** Deletes everything of the namespace (a session's state): values, lists, opId records, owner. */
  dropNamespace(ns: string): Promise<void>;
  /** Namespaces whose last write is older than `olderThanMs` (for TTL expiry after a session ends). */
  idleNamespaces(olderThanMs: number): Promise<string[]>;
  /** Owner record of a namespace (which worker/instance serves the session) with a monotonically growing epoch. */
  getOwner(ns: string): Promise<NamespaceOwner | undefined>;
  /** Sets the owner if the current epoch equals expectedEpoch (0 = none yet); returns the new epoch. */
  setOwner(ns: string, owner: string, expectedEpoch: number): Promise<number>;
  /** Owner and change count of a namespace, read together in one round trip. */
  stamp(ns: string): Promise<NamespaceStamp>;
  /** Namespace count and stored bytes of the whole store (may scan it: for periodic metrics, not hot paths). */
  stats(): Promise<StoreStats>;
}

/** Options every backend accepts. */
export interface CommonStoreOptions {
  /** Clock for last-write times (`idleNamespaces`); tests inject one. @default Date.now */
  now?: () => number;
}

/** Kinds of operation recorded under an opId. */
export type OpKind = 'put' | 'delete' | 'append';

/** Encodes the result of an applied operation for its opId record (`kind:result`). */
export function encodeOpRecord(kind: OpKind, result: number | boolean): string {
  return `${kind}:${String(result)}`;
}
