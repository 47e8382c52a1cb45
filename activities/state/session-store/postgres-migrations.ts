/**
 * Schema migrations of the PostgreSQL backend, applied in order by `migrate()`. Append new entries; never
 * edit an applied one (its version is recorded in `schema_migrations`).
 * Values are `text`, not `jsonb`, so the exact JSON text written is the text read back.
 */

/** One migration: SQL run in the store's schema (`search_path` is set to it). */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'kv, lists, op records, owners, namespace activity',
    sql: `
      CREATE TABLE kv (
        ns text NOT NULL,
        key text NOT NULL,
        value text NOT NULL,
        version bigint NOT NULL,
        PRIMARY KEY (ns, key)
      );
      -- One row per list: its length row is the lock appenders queue on, so indices never collide.
      CREATE TABLE list_meta (
        ns text NOT NULL,
        list text NOT NULL,
        length bigint NOT NULL,
        PRIMARY KEY (ns, list)
      );
      CREATE TABLE lists (
        ns text NOT NULL,
        list text NOT NULL,
        idx bigint NOT NULL,
        value text NOT NULL,
        PRIMARY KEY (ns, list, idx)
      );
      CREATE TABLE ops (
        ns text NOT NULL,
        op_id text NOT NULL,
        record text,
        PRIMARY KEY (ns, op_id)
      );
      CREATE TABLE owners (
        ns text PRIMARY KEY,
        owner text NOT NULL,
        epoch bigint NOT NULL
      );
      CREATE TABLE namespaces (
        ns text PRIMARY KEY,
        last_write bigint NOT NULL
      );
      CREATE INDEX namespaces_last_write ON namespaces (last_write);
    `,
  },
  {
    version: 2,
    description: 'change count per namespace (cache stamps)',
    sql: `ALTER TABLE namespaces ADD COLUMN writes bigint NOT NULL DEFAULT 0;`,
  },
];
