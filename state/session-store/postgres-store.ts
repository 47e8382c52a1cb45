/**
 * PostgreSQL backend. Every write is one call of a server-side function (migration 3), so it costs one
 * round trip and commits as one statement: it claims its opId row first (`INSERT ... ON CONFLICT DO
 * NOTHING` waits for a concurrent claimer of the same opId, so a duplicate sees the committed record), then
 * changes data with single conditional statements whose row locks serialise concurrent writers; a
 * compare-and-set conflict raises, which rolls the claim back too. Timestamps come from the store's clock,
 * not the database's, so an injected clock works the same as on the other backends.
 */
import { Pool, type PoolClient } from 'pg';
import { configDefaults } from '../../common/config';
import { conflictError, SessionStoreError, SessionStoreErrorCode, unavailableError } from './errors';
import {
  type CommonStoreOptions,
  type NamespaceOwner,
  type NamespaceStamp,
  type SessionStore,
  type StoredValue,
  type StoreStats,
  type WriteOptions,
} from './interface';
import { migrations } from './postgres-migrations';
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

/** Options of {@link createPostgresSessionStore}. */
export interface PostgresSessionStoreOptions extends CommonStoreOptions {
  /** @default NALAR_POSTGRES_URL's default (postgres://postgres@127.0.0.1:5432/postgres) */
  connectionString?: string;
  /** Schema holding the tables (created by `migrate()`); letters, digits and '_' only. @default 'nalar_state' */
  schema?: string;
  /** Time allowed to obtain a connection. @default 5_000 */
  connectTimeoutMs?: number;
  /** Most connections the pool opens. @default 10 */
  maxConnections?: number;
}

const connectionErrorCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EPIPE']);

function isConnectionError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (connectionErrorCodes.has(code) || code.startsWith('08') || code.startsWith('57P'))) {
    return true;
  }
  const message = (err as { message?: unknown }).message;
  return typeof message === 'string' && /Connection terminated|timeout exceeded when trying to connect/i.test(message);
}

type Row = Record<string, unknown>;

/** SQLSTATE the write functions raise on a compare-and-set conflict; the message is the current version. */
const CONFLICT_SQLSTATE = 'NLR01';

class PostgresSessionStore implements SessionStore {
  readonly backend = 'postgres' as const;
  private readonly pool: Pool;
  private readonly schema: string;
  private readonly now: () => number;
  private readonly t: { kv: string; listMeta: string; lists: string; ops: string; owners: string; namespaces: string };

  constructor(private readonly options: PostgresSessionStoreOptions) {
    this.schema = options.schema ?? 'nalar_state';
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(this.schema)) {
      throw new SessionStoreError(
        SessionStoreErrorCode.INVALID,
        `schema '${this.schema}' must be 1-63 letters, digits or '_' (not starting with a digit)`,
      );
    }
    this.now = options.now ?? Date.now;
    const q = (table: string): string => `"${this.schema}".${table}`;
    this.t = {
      kv: q('kv'),
      listMeta: q('list_meta'),
      lists: q('lists'),
      ops: q('ops'),
      owners: q('owners'),
      namespaces: q('namespaces'),
    };
    this.pool = new Pool({
      connectionString: options.connectionString ?? configDefaults.postgresUrl,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      max: options.maxConnections ?? 10,
    });
    // An idle client losing its connection emits 'error' on the pool; unhandled, it would crash the process.
    this.pool.on('error', () => undefined);
  }

  private wrap(err: unknown, detail: string): unknown {
    return isConnectionError(err) ? unavailableError('postgres', detail, err) : err;
  }

  async waitUntilReady(): Promise<void> {
    try {
      await this.migrate();
    } catch (err) {
      if (SessionStoreError.is(err)) throw err;
      throw unavailableError('postgres', `cannot migrate schema ${this.schema}`, err);
    }
  }

  /** Creates the schema and applies pending migrations; safe to run from several processes at once. */
  async migrate(): Promise<void> {
    await this.tx(async (c) => {
      // Serialises concurrent migrators: CREATE ... IF NOT EXISTS alone still races on the catalog.
      await c.query("SELECT pg_advisory_xact_lock(hashtext('nalar-session-store:' || $1))", [this.schema]);
      await c.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
      await c.query(`SET LOCAL search_path TO "${this.schema}"`);
      await c.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      const applied = new Set(
        (await c.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version),
      );
      for (const m of migrations) {
        if (applied.has(m.version)) continue;
        await c.query(m.sql);
        await c.query('INSERT INTO schema_migrations (version, description) VALUES ($1, $2)', [
          m.version,
          m.description,
        ]);
      }
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async query(sql: string, params: unknown[]): Promise<Row[]> {
    try {
      return (await this.pool.query<Row>(sql, params)).rows;
    } catch (err) {
      throw this.wrap(err, 'query failed');
    }
  }

  private async tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    let c: PoolClient;
    try {
      c = await this.pool.connect();
    } catch (err) {
      throw unavailableError('postgres', 'cannot connect', err);
    }
    let broken: Error | undefined;
    try {
      await c.query('BEGIN');
      const result = await fn(c);
      await c.query('COMMIT');
      return result;
    } catch (err) {
      if (isConnectionError(err)) broken = err as Error;
      else await c.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw this.wrap(err, 'transaction failed');
    } finally {
      // A broken connection is destroyed instead of going back to the pool.
      c.release(broken);
    }
  }

  /**
   * Runs one of the write functions of migration 3 (one round trip; the statement commits by itself).
   * Returns its status (`ok`, or `op`: the opId was applied before, `result` is its record), its result and
   * the namespace's change count after an applied change; a compare-and-set conflict becomes the typed error.
   */
  private async write(
    fn: 'nalar_put' | 'nalar_delete' | 'nalar_append',
    params: unknown[],
    conflictOp: string,
    expected: number | undefined,
  ): Promise<{ status: string; result: string; writes: number | undefined }> {
    const placeholders = params.map((_, i) => `$${i + 1}`).join(', ');
    let row: Row | undefined;
    try {
      [row] = (await this.pool.query<Row>(`SELECT * FROM "${this.schema}".${fn}(${placeholders})`, params)).rows;
    } catch (err) {
      if ((err as { code?: unknown }).code === CONFLICT_SQLSTATE) {
        throw conflictError(conflictOp, expected ?? 0, Number((err as Error).message));
      }
      throw this.wrap(err, `${fn} failed`);
    }
    return {
      status: String(row?.o_status),
      result: String(row?.o_result),
      writes: row?.o_writes == null ? undefined : Number(row.o_writes),
    };
  }

  async get(ns: string, key: string): Promise<StoredValue | undefined> {
    validateName('namespace', ns);
    validateName('key', key);
    const [row] = await this.query(`SELECT value, version FROM ${this.t.kv} WHERE ns = $1 AND key = $2`, [ns, key]);
    return row ? { value: String(row.value), version: Number(row.version) } : undefined;
  }

  async put(ns: string, key: string, value: string, options?: WriteOptions): Promise<number> {
    validateName('namespace', ns);
    validateName('key', key);
    validateValue(value);
    validateWriteOptions(options);
    const { expectedVersion: expected, opId } = options ?? {};
    const { status, result, writes } = await this.write(
      'nalar_put',
      [ns, key, value, expected ?? null, opId ?? null, this.now()],
      `put ${ns}/${key}`,
      expected,
    );
    if (status === 'op') return decodeOpRecord(result, 'put', opId ?? '');
    if (writes !== undefined) options?.onApplied?.(writes);
    return Number(result);
  }

  async delete(ns: string, key: string, options?: WriteOptions): Promise<boolean> {
    validateName('namespace', ns);
    validateName('key', key);
    validateWriteOptions(options);
    const { expectedVersion: expected, opId } = options ?? {};
    const { status, result, writes } = await this.write(
      'nalar_delete',
      [ns, key, expected ?? null, opId ?? null, this.now()],
      `delete ${ns}/${key}`,
      expected,
    );
    if (status === 'op') return decodeOpRecord(result, 'delete', opId ?? '');
    if (writes !== undefined) options?.onApplied?.(writes);
    return result === 'true';
  }

  async keys(ns: string): Promise<string[]> {
    validateName('namespace', ns);
    const rows = await this.query(`SELECT key FROM ${this.t.kv} WHERE ns = $1`, [ns]);
    return sortKeys(rows.map((r) => String(r.key)));
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
    const opId = options?.opId;
    const { status, result, writes } = await this.write(
      'nalar_append',
      [ns, list, value, opId ?? null, this.now()],
      `append ${ns}/${list}`,
      undefined,
    );
    if (status === 'op') return decodeOpRecord(result, 'append', opId ?? '');
    if (writes !== undefined) options?.onApplied?.(writes);
    return Number(result);
  }

  async range(ns: string, list: string, start: number, end?: number): Promise<string[]> {
    validateName('namespace', ns);
    validateName('list', list);
    validateRange(start, end);
    // One round trip: the bounds are resolved against the length in the same statement (slice semantics).
    // Items are never rewritten, so the length and the items always agree.
    const rows = await this.query(
      `WITH m AS (SELECT length FROM ${this.t.listMeta} WHERE ns = $1 AND list = $2),
            b AS (SELECT CASE WHEN $3::bigint < 0 THEN greatest(m.length + $3::bigint, 0) ELSE least($3::bigint, m.length) END AS lo,
                         CASE WHEN $4::bigint IS NULL THEN m.length
                              WHEN $4::bigint < 0 THEN greatest(m.length + $4::bigint, 0)
                              ELSE least($4::bigint, m.length) END AS hi
                  FROM m)
       SELECT l.value FROM ${this.t.lists} l, b
       WHERE l.ns = $1 AND l.list = $2 AND l.idx >= b.lo AND l.idx < b.hi ORDER BY l.idx`,
      [ns, list, start, end ?? null],
    );
    return rows.map((r) => String(r.value));
  }

  async length(ns: string, list: string): Promise<number> {
    validateName('namespace', ns);
    validateName('list', list);
    const [row] = await this.query(`SELECT length FROM ${this.t.listMeta} WHERE ns = $1 AND list = $2`, [ns, list]);
    return row ? Number(row.length) : 0;
  }

  async listNames(ns: string): Promise<string[]> {
    validateName('namespace', ns);
    const rows = await this.query(`SELECT list FROM ${this.t.listMeta} WHERE ns = $1 AND length > 0`, [ns]);
    return sortKeys(rows.map((r) => String(r.list)));
  }

  async dropNamespace(ns: string): Promise<void> {
    validateName('namespace', ns);
    return this.tx(async (c) => {
      for (const table of Object.values(this.t)) await c.query(`DELETE FROM ${table} WHERE ns = $1`, [ns]);
    });
  }

  async idleNamespaces(olderThanMs: number): Promise<string[]> {
    validateAge(olderThanMs);
    const rows = await this.query(`SELECT ns FROM ${this.t.namespaces} WHERE last_write < $1`, [
      this.now() - olderThanMs,
    ]);
    return sortKeys(rows.map((r) => String(r.ns)));
  }

  async getOwner(ns: string): Promise<NamespaceOwner | undefined> {
    validateName('namespace', ns);
    const [row] = await this.query(`SELECT owner, epoch FROM ${this.t.owners} WHERE ns = $1`, [ns]);
    return row ? { owner: String(row.owner), epoch: Number(row.epoch) } : undefined;
  }

  async setOwner(ns: string, owner: string, expectedEpoch: number): Promise<number> {
    validateName('namespace', ns);
    validateName('owner', owner);
    validateEpoch(expectedEpoch);
    return this.tx(async (c) => {
      const { rows } =
        expectedEpoch === 0
          ? await c.query<{ epoch: string }>(
              `INSERT INTO ${this.t.owners} (ns, owner, epoch) VALUES ($1, $2, 1) ON CONFLICT DO NOTHING RETURNING epoch`,
              [ns, owner],
            )
          : await c.query<{ epoch: string }>(
              `UPDATE ${this.t.owners} SET owner = $2, epoch = epoch + 1 WHERE ns = $1 AND epoch = $3 RETURNING epoch`,
              [ns, owner, expectedEpoch],
            );
      if (!rows[0]) {
        const current = await c.query<{ epoch: string }>(`SELECT epoch FROM ${this.t.owners} WHERE ns = $1`, [ns]);
        throw conflictError(`setOwner ${ns}`, expectedEpoch, Number(current.rows[0]?.epoch ?? 0));
      }
      await c.query(`SELECT "${this.schema}".nalar_finish($1, NULL, NULL, $2)`, [ns, this.now()]);
      return Number(rows[0].epoch);
    });
  }

  async stamp(ns: string): Promise<NamespaceStamp> {
    validateName('namespace', ns);
    const [row] = await this.query(
      `SELECT o.owner, o.epoch, (SELECT writes FROM ${this.t.namespaces} WHERE ns = $1) AS writes
       FROM (SELECT 1) AS one LEFT JOIN ${this.t.owners} o ON o.ns = $1`,
      [ns],
    );
    const owner = row?.owner == null ? undefined : { owner: String(row.owner), epoch: Number(row.epoch) };
    return { ...(owner ? { owner } : {}), writes: Number(row?.writes ?? 0) };
  }

  async stats(): Promise<StoreStats> {
    const [row] = await this.query(
      `SELECT (SELECT count(*) FROM ${this.t.namespaces}) AS namespaces,
              (SELECT coalesce(sum(octet_length(value)), 0) FROM ${this.t.kv})
            + (SELECT coalesce(sum(octet_length(value)), 0) FROM ${this.t.lists}) AS bytes`,
      [],
    );
    return { namespaces: Number(row?.namespaces ?? 0), bytes: Number(row?.bytes ?? 0) };
  }
}

/** A session store on PostgreSQL (`pg` Pool); `waitUntilReady` connects and runs the migrations. */
export function createPostgresSessionStore(options: PostgresSessionStoreOptions = {}): SessionStore & {
  migrate(): Promise<void>;
} {
  return new PostgresSessionStore(options);
}
