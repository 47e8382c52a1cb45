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
}

/** Which implementation serves a store. */
export type SessionStoreBackend = 'filesystem' | 'redis' | 'postgres';

/** The owner record of a namespace. */
export interface NamespaceOwner {
  owner: string;
  /** Grows by one on every successful `setOwner`; a fencing token for the serving worker. */
  epoch: number;
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
  append(ns: string, list: string, value: string, options?: Pick<WriteOptions, 'opId'>): Promise<number>;
  /** Like `Array.prototype.slice` (negative indices count from the end); integers only. */
  range(ns: string, list: string, start: number, end?: number): Promise<string[]>;
  length(ns: string, list: string): Promise<number>;
  /** Deletes everything of the namespace (a session's state): values, lists, opId records, owner. */
  dropNamespace(ns: string): Promise<void>;
  /** Namespaces whose last write is older than `olderThanMs` (for TTL expiry after a session ends). */
  idleNamespaces(olderThanMs: number): Promise<string[]>;
  /** Owner record of a namespace (which worker/instance serves the session) with a monotonically growing epoch. */
  getOwner(ns: string): Promise<NamespaceOwner | undefined>;
  /** Sets the owner if the current epoch equals expectedEpoch (0 = none yet); returns the new epoch. */
  setOwner(ns: string, owner: string, expectedEpoch: number): Promise<number>;
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
