/**
 * Session-scoped state for agent code: `ManagedMap` and `ManagedList`, used as if local. They are keyed by
 * the session of the future being served (`currentFuture().sessionId`), so state follows the session
 * wherever it runs. Inside an activity every write carries an idempotency key derived from the activity
 * execution of this workflow run (namespace, workflow id, run id, activity id) and the write's place in the
 * attempt, so a retried attempt — after a crash, a timeout or a duplicate delivery — never applies a write
 * twice, while the writes of a later run (continue-as-new, a reused workflow id) are new writes. The exact
 * semantics: docs/managed-state.md, "Retries and runs".
 */
import { createHash } from 'node:crypto';
import { Context, type Info } from '@temporalio/activity';
import { loadConfig } from '../common/config';
import { ErrorCode } from '../common/errors';
import { workerIdOf } from './placement/worker-identity';
import { currentFuture } from '../stubs/future-context';
import { createCachedSessionStore } from './placement/cached-store';
import { sessionStoreFromConfig, SessionStoreError, type SessionStore } from './session-store';

let defaultStore: SessionStore | undefined;
let ready: Promise<void> | undefined;

/** Replaces the store managed state uses when none is given (by default: NALAR_STATE_BACKEND's). */
export function setDefaultSessionStore(store: SessionStore): void {
  defaultStore = store;
  ready = undefined;
}

/** Closes the default store (its connections), e.g. on worker shutdown; the next use opens a new one. */
export async function closeDefaultSessionStore(): Promise<void> {
  const store = defaultStore;
  defaultStore = undefined;
  ready = undefined;
  await store?.close();
}

/**
 * The store managed state uses when none is given, connected: the NALAR_STATE_BACKEND store, wrapped in
 * this worker's cache of the sessions it owns when NALAR_STATE_CACHE is on (the default).
 */
export async function defaultSessionStore(): Promise<SessionStore> {
  if (!defaultStore) {
    const config = loadConfig();
    const store = sessionStoreFromConfig(config);
    defaultStore = config.stateCache
      ? createCachedSessionStore(store, { workerId: workerIdOf(config), maxBytes: config.stateCacheBytes })
      : store;
  }
  ready ??= defaultStore.waitUntilReady();
  await ready;
  return defaultStore;
}

function storeFor(explicit: SessionStore | undefined): Promise<SessionStore> {
  return explicit ? Promise.resolve(explicit) : defaultSessionStore();
}

export interface ManagedOptions {
  /** Session to use; by default the session of the future this activity serves. */
  sessionId?: string;
  /** @default the NALAR_STATE_BACKEND store (filesystem in NALAR_DATA_DIR/state; see setDefaultSessionStore) */
  store?: SessionStore;
}

/** Per running activity attempt (a Context is one attempt): writes made so far to each target, by scope. */
const writeCounters = new WeakMap<object, Map<string, number>>();

/**
 * What a write's key is unique to: the activity execution within one workflow run, and the written target.
 * The run id is what retries, duplicate tasks, worker restarts and replay share and what continue-as-new, a
 * new execution under a reused workflow id, a workflow retry, a reset or a cron run change.
 */
function writeScope(info: Info, session: string, target: string): string {
  const workflow = info.workflowExecution;
  // An activity started by a client, not a workflow, has a run id of its own.
  const run = workflow?.runId ?? info.activityRunId ?? '';
  return JSON.stringify([info.namespace, workflow?.workflowId ?? '', run, info.activityId, session, target]);
}

/**
 * Runs one write of `target` in `session` with its idempotency key (none outside activities):
 * `<SHA-256 of the scope, base64url>/<n>`, n counting the running attempt's writes to that target. Hashed so
 * the key stays at most ~60 characters (the stores accept 200) however long the workflow id; counted per
 * target so a retry that writes elsewhere than the first attempt is not taken for a replay. A write the
 * store refused with a conflict applied nothing and recorded nothing, so it gives its n back: a
 * compare-and-set loop numbers its one successful write alike in every attempt.
 */
async function idempotentWrite<T>(
  session: string,
  target: string,
  write: (opId: string | undefined) => Promise<T>,
): Promise<T> {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return write(undefined);
  }
  const scope = writeScope(ctx.info, session, target);
  let counts = writeCounters.get(ctx);
  if (!counts) writeCounters.set(ctx, (counts = new Map()));
  const n = (counts.get(scope) ?? 0) + 1;
  counts.set(scope, n);
  try {
    return await write(`${createHash('sha256').update(scope).digest('base64url')}/${n}`);
  } catch (err) {
    // Only when no later write of this target took a number meanwhile (concurrent writes keep theirs).
    if (SessionStoreError.hasCode(err, ErrorCode.STATE_CONFLICT) && counts.get(scope) === n) counts.set(scope, n - 1);
    throw err;
  }
}

function sessionOf(kind: string, name: string, options: ManagedOptions): string {
  const session = options.sessionId ?? currentFuture()?.sessionId;
  if (!session) {
    throw new SessionStoreError(
      ErrorCode.STATE_INVALID,
      `${kind} ${name}: no session id — use it inside an agent method called through a stub, or pass { sessionId }`,
    );
  }
  return session;
}

function serialize(kind: string, name: string, value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new SessionStoreError(
      ErrorCode.STATE_INVALID,
      `${kind} ${name}: value cannot be serialised (${(err as Error).message})`,
    );
  }
  if (text === undefined) {
    throw new SessionStoreError(
      ErrorCode.STATE_INVALID,
      `${kind} ${name}: value cannot be serialised (undefined or a function)`,
    );
  }
  return text;
}

/** A map of JSON values, scoped to the session. */
export class ManagedMap<V = unknown> {
  constructor(
    readonly name: string,
    private readonly options: ManagedOptions = {},
  ) {}

  private key(key: string): string {
    return `map:${this.name}:${key}`;
  }

  /** The value and its version, or undefined. */
  async getVersioned(key: string): Promise<{ value: V; version: number } | undefined> {
    const store = await storeFor(this.options.store);
    const stored = await store.get(sessionOf('ManagedMap', this.name, this.options), this.key(key));
    return stored && { value: JSON.parse(stored.value) as V, version: stored.version };
  }

  async get(key: string): Promise<V | undefined> {
    return (await this.getVersioned(key))?.value;
  }

  /**
   * Writes the value; returns its new version. With `expectedVersion` (0 = must not exist), a concurrent
   * writer's change makes it fail with `NALAR_ERR_STATE_CONFLICT` instead of being overwritten.
   */
  async set(key: string, value: V, options: { expectedVersion?: number } = {}): Promise<number> {
    const store = await storeFor(this.options.store);
    const session = sessionOf('ManagedMap', this.name, this.options);
    const text = serialize('ManagedMap', this.name, value);
    return idempotentWrite(session, this.key(key), (opId) =>
      store.put(session, this.key(key), text, { ...options, ...(opId !== undefined && { opId }) }),
    );
  }

  async delete(key: string): Promise<boolean> {
    const store = await storeFor(this.options.store);
    const session = sessionOf('ManagedMap', this.name, this.options);
    return idempotentWrite(session, this.key(key), (opId) =>
      store.delete(session, this.key(key), opId ? { opId } : {}),
    );
  }

  async keys(): Promise<string[]> {
    const store = await storeFor(this.options.store);
    const prefix = this.key('');
    const all = await store.keys(sessionOf('ManagedMap', this.name, this.options));
    return all.filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
  }
}

/** An append-only list of JSON values, scoped to the session (conversation turns, tool results). */
export class ManagedList<V = unknown> {
  constructor(
    readonly name: string,
    private readonly options: ManagedOptions = {},
  ) {}

  private list(): string {
    return `list:${this.name}`;
  }

  /** Appends; returns the new length. A retried activity attempt does not append again. */
  async append(value: V): Promise<number> {
    const store = await storeFor(this.options.store);
    const session = sessionOf('ManagedList', this.name, this.options);
    const text = serialize('ManagedList', this.name, value);
    return idempotentWrite(session, this.list(), (opId) =>
      store.append(session, this.list(), text, opId ? { opId } : {}),
    );
  }

  /** Items `start` to `end` (exclusive), like Array.slice. */
  async range(start = 0, end?: number): Promise<V[]> {
    const store = await storeFor(this.options.store);
    const items = await store.range(sessionOf('ManagedList', this.name, this.options), this.list(), start, end);
    return items.map((i) => JSON.parse(i) as V);
  }

  async length(): Promise<number> {
    const store = await storeFor(this.options.store);
    return store.length(sessionOf('ManagedList', this.name, this.options), this.list());
  }
}
