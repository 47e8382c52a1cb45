/**
 * Redis backend: each operation is one Lua script (see `redis-scripts.ts`), so it is atomic against every
 * other client. Layout under `prefix`: `ns:<sha256(ns)>:{kv,ver,ops,owner,lists,meta}` hashes/sets (meta holds
 * the change count and bytes of the namespace), `ns:<sha256(ns)>:l:<list>` lists, `namespaces`, a sorted set of
 * namespace -> last-write time, and `bytes`, the total of the store.
 * Namespaces are hashed in key names so that any name (with ':' or '*') maps to a fixed, unambiguous key.
 * Scripts compute list keys from the set of list names, so this layout targets a single Redis, not Cluster.
 */
import { createHash } from 'node:crypto';
import { createClient, ErrorReply } from 'redis';
import { configDefaults } from '../../common/config';
import { conflictError, SessionStoreError, unavailableError } from './errors';
import {
  type CommonStoreOptions,
  type NamespaceOwner,
  type NamespaceStamp,
  type SessionStore,
  type StoredValue,
  type StoreStats,
  type WriteOptions,
} from './interface';
import * as lua from './redis-scripts';
import {
  decodeOpRecord,
  sortKeys,
  validateAge,
  validateEpoch,
  validateName,
  validateRange,
  validateValue,
  validateWriteOptions,
} from './validation';

/** Options of {@link createRedisSessionStore}. */
export interface RedisSessionStoreOptions extends CommonStoreOptions {
  /** @default NALAR_REDIS_URL's default (redis://127.0.0.1:6379) */
  url?: string;
  /** Prefix of every key this store writes. @default 'nalar:state:' */
  prefix?: string;
  /** Time allowed for the first connection. @default 5_000 */
  connectTimeoutMs?: number;
}

type Client = ReturnType<typeof createClient>;

class RedisSessionStore implements SessionStore {
  readonly backend = 'redis' as const;
  private readonly client: Client;
  private readonly prefix: string;
  private readonly url: string;
  private readonly now: () => number;
  private connected = false;
  private lastError: Error | undefined;

  constructor(options: RedisSessionStoreOptions) {
    this.url = options.url ?? configDefaults.redisUrl;
    this.prefix = options.prefix ?? 'nalar:state:';
    this.now = options.now ?? Date.now;
    this.client = createClient({
      url: this.url,
      // Fail fast instead of queueing commands while disconnected: Temporal retries the activity.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: options.connectTimeoutMs ?? 5_000,
        // Before the first connection, give up at once so waitUntilReady reports an unreachable server;
        // afterwards, reconnect with a capped back-off.
        reconnectStrategy: (retries, cause) =>
          this.connected ? Math.min(50 * 2 ** retries, 2_000) : new Error(`cannot connect: ${cause.message}`),
      },
    });
    // Without a listener an 'error' event would crash the process; the error also surfaces on the next call.
    this.client.on('error', (err: Error) => {
      this.lastError = err;
    });
  }

  async waitUntilReady(): Promise<void> {
    if (this.connected) return;
    try {
      await this.client.connect();
      await this.client.ping();
      this.connected = true;
    } catch (err) {
      throw unavailableError('redis', `cannot connect to ${this.url}`, this.lastError ?? err);
    }
  }

  async close(): Promise<void> {
    if (this.client.isOpen) await this.client.close();
  }

  private keysOf(ns: string) {
    const base = `${this.prefix}ns:${createHash('sha256').update(ns, 'utf8').digest('hex')}:`;
    return {
      kv: `${base}kv`,
      ver: `${base}ver`,
      ops: `${base}ops`,
      owner: `${base}owner`,
      lists: `${base}lists`,
      listPrefix: `${base}l:`,
      meta: `${base}meta`,
      index: `${this.prefix}namespaces`,
      total: `${this.prefix}bytes`,
    };
  }

  private async run(script: string, keys: string[], args: string[]): Promise<string[]> {
    let reply: unknown;
    try {
      reply = await this.client.eval(script, { keys, arguments: args });
    } catch (err) {
      // A script error is a bug here, not an outage: let it surface as it is.
      if (err instanceof ErrorReply) throw err;
      throw unavailableError('redis', `command failed on ${this.url}`, err);
    }
    if (!Array.isArray(reply)) throw new Error(`unexpected Redis script reply: ${JSON.stringify(reply)}`);
    return reply.map(String);
  }

  async get(ns: string, key: string): Promise<StoredValue | undefined> {
    validateName('namespace', ns);
    validateName('key', key);
    const k = this.keysOf(ns);
    const [value, version] = await this.run(lua.GET, [k.kv, k.ver], [key]);
    return value === undefined ? undefined : { value, version: Number(version) };
  }

  async put(ns: string, key: string, value: string, options?: WriteOptions): Promise<number> {
    validateName('namespace', ns);
    validateName('key', key);
    validateValue(value);
    validateWriteOptions(options);
    const k = this.keysOf(ns);
    const expected = options?.expectedVersion;
    const opId = options?.opId ?? '';
    const [status = '', payload = '', writes] = await this.run(
      lua.PUT,
      [k.kv, k.ver, k.ops, k.index, k.meta, k.total],
      [ns, key, value, expected === undefined ? '' : String(expected), opId, String(this.now())],
    );
    if (status === 'op') return decodeOpRecord(payload, 'put', opId);
    if (status === 'conflict') throw conflictError(`put ${ns}/${key}`, expected ?? 0, Number(payload));
    if (writes !== undefined) options?.onApplied?.(Number(writes));
    return Number(payload);
  }

  async delete(ns: string, key: string, options?: WriteOptions): Promise<boolean> {
    validateName('namespace', ns);
    validateName('key', key);
    validateWriteOptions(options);
    const k = this.keysOf(ns);
    const expected = options?.expectedVersion;
    const opId = options?.opId ?? '';
    const [status = '', payload = '', writes] = await this.run(
      lua.DELETE,
      [k.kv, k.ver, k.ops, k.index, k.meta, k.total],
      [ns, key, expected === undefined ? '' : String(expected), opId, String(this.now())],
    );
    if (status === 'op') return decodeOpRecord(payload, 'delete', opId);
    if (status === 'conflict') throw conflictError(`delete ${ns}/${key}`, expected ?? 0, Number(payload));
    if (writes !== undefined) options?.onApplied?.(Number(writes));
    return payload === 'true';
  }

  async keys(ns: string): Promise<string[]> {
    validateName('namespace', ns);
    return sortKeys(await this.call(() => this.client.hKeys(this.keysOf(ns).kv)));
  }

  async append(
    ns: string,
    list: string,
    value: string,
    options?: Pick<WriteOptions, 'opId' | 'onApplied'>,
  ): Promise<number> {
    validateName('namespace', ns);
    validateName('list', list);
    validateValue(value);
    validateWriteOptions(options);
    const k = this.keysOf(ns);
    const opId = options?.opId ?? '';
    const [status = '', payload = '', writes] = await this.run(
      lua.APPEND,
      [k.listPrefix + list, k.lists, k.ops, k.index, k.meta, k.total],
      [ns, list, value, opId, String(this.now())],
    );
    if (status === 'op') return decodeOpRecord(payload, 'append', opId);
    if (writes !== undefined) options?.onApplied?.(Number(writes));
    return Number(payload);
  }

  async range(ns: string, list: string, start: number, end?: number): Promise<string[]> {
    validateName('namespace', ns);
    validateName('list', list);
    validateRange(start, end);
    return this.run(
      lua.RANGE,
      [this.keysOf(ns).listPrefix + list],
      [String(start), end === undefined ? '' : String(end)],
    );
  }

  async length(ns: string, list: string): Promise<number> {
    validateName('namespace', ns);
    validateName('list', list);
    return this.call(() => this.client.lLen(this.keysOf(ns).listPrefix + list));
  }

  async listNames(ns: string): Promise<string[]> {
    validateName('namespace', ns);
    // The set keeps names of lists that were appended to; lists are never shortened, so all are non-empty.
    return sortKeys(await this.call(() => this.client.sMembers(this.keysOf(ns).lists)));
  }

  async dropNamespace(ns: string): Promise<void> {
    validateName('namespace', ns);
    const k = this.keysOf(ns);
    await this.run(lua.DROP, [k.kv, k.ver, k.ops, k.owner, k.lists, k.index, k.meta, k.total], [ns, k.listPrefix]);
  }

  async idleNamespaces(olderThanMs: number): Promise<string[]> {
    validateAge(olderThanMs);
    const cutoff = this.now() - olderThanMs;
    const index = `${this.prefix}namespaces`;
    // '(' makes the bound exclusive: strictly older than the cutoff.
    const reply = await this.call(() => this.client.sendCommand(['ZRANGEBYSCORE', index, '-inf', `(${cutoff}`]));
    if (!Array.isArray(reply)) throw new Error(`unexpected ZRANGEBYSCORE reply: ${JSON.stringify(reply)}`);
    return sortKeys(reply.map(String));
  }

  async getOwner(ns: string): Promise<NamespaceOwner | undefined> {
    validateName('namespace', ns);
    const rec = await this.call(() => this.client.hGetAll(this.keysOf(ns).owner));
    const { owner, epoch } = rec as Record<string, string | undefined>;
    return owner === undefined || epoch === undefined ? undefined : { owner, epoch: Number(epoch) };
  }

  async setOwner(ns: string, owner: string, expectedEpoch: number): Promise<number> {
    validateName('namespace', ns);
    validateName('owner', owner);
    validateEpoch(expectedEpoch);
    const k = this.keysOf(ns);
    const [status = '', payload = ''] = await this.run(
      lua.SET_OWNER,
      [k.owner, k.index, k.meta],
      [ns, owner, String(expectedEpoch), String(this.now())],
    );
    if (status === 'conflict') throw conflictError(`setOwner ${ns}`, expectedEpoch, Number(payload));
    return Number(payload);
  }

  async stamp(ns: string): Promise<NamespaceStamp> {
    validateName('namespace', ns);
    const k = this.keysOf(ns);
    const [owner = '', epoch = '', writes = '0'] = await this.run(lua.STAMP, [k.owner, k.meta], []);
    return { ...(owner && epoch ? { owner: { owner, epoch: Number(epoch) } } : {}), writes: Number(writes) };
  }

  async stats(): Promise<StoreStats> {
    const [namespaces, bytes] = await this.call(() =>
      Promise.all([this.client.zCard(`${this.prefix}namespaces`), this.client.get(`${this.prefix}bytes`)]),
    );
    return { namespaces, bytes: Number(bytes ?? 0) };
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ErrorReply || SessionStoreError.is(err)) throw err;
      throw unavailableError('redis', `command failed on ${this.url}`, err);
    }
  }
}

/** A session store on Redis (node-redis `createClient`); connect with `waitUntilReady`. */
export function createRedisSessionStore(options: RedisSessionStoreOptions = {}): SessionStore {
  return new RedisSessionStore(options);
}
