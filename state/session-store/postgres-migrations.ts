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
  {
    version: 3,
    description: 'writes as server-side functions: one round trip per put, delete or append',
    // Each function runs as one statement, so it commits (or, on a conflict, rolls back — opId claim
    // included) by itself. A conflict raises SQLSTATE NLR01 with the current version as its message.
    // `SET search_path FROM CURRENT` binds the unqualified table names to this schema.
    sql: `
      CREATE FUNCTION nalar_finish(p_ns text, p_op text, p_record text, p_now bigint) RETURNS bigint
      LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
      DECLARE w bigint;
      BEGIN
        IF p_op IS NOT NULL THEN
          UPDATE ops SET record = p_record WHERE ns = p_ns AND op_id = p_op;
        END IF;
        INSERT INTO namespaces AS n (ns, last_write, writes) VALUES (p_ns, p_now, 1)
          ON CONFLICT (ns) DO UPDATE SET last_write = EXCLUDED.last_write, writes = n.writes + 1
          RETURNING n.writes INTO w;
        RETURN w;
      END $fn$;

      -- Claims an opId; returns the record of its earlier application, or NULL when this call claimed it.
      -- (A concurrent claimer of the same opId makes the INSERT wait until it commits or rolls back.)
      CREATE FUNCTION nalar_claim(p_ns text, p_op text, OUT o_claimed boolean, OUT o_record text)
      LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
      BEGIN
        o_claimed := true;
        IF p_op IS NULL THEN RETURN; END IF;
        INSERT INTO ops (ns, op_id, record) VALUES (p_ns, p_op, NULL) ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
          o_claimed := false;
          SELECT record INTO o_record FROM ops WHERE ns = p_ns AND op_id = p_op;
        END IF;
      END $fn$;

      CREATE FUNCTION nalar_put(p_ns text, p_key text, p_value text, p_expected bigint, p_op text, p_now bigint,
        OUT o_status text, OUT o_result text, OUT o_writes bigint)
      LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
      DECLARE c record; v bigint; cur bigint;
      BEGIN
        c := nalar_claim(p_ns, p_op);
        IF NOT c.o_claimed THEN o_status := 'op'; o_result := c.o_record; RETURN; END IF;
        IF p_expected IS NULL THEN
          INSERT INTO kv AS k (ns, key, value, version) VALUES (p_ns, p_key, p_value, 1)
            ON CONFLICT (ns, key) DO UPDATE SET value = EXCLUDED.value, version = k.version + 1
            RETURNING k.version INTO v;
        ELSIF p_expected = 0 THEN
          INSERT INTO kv (ns, key, value, version) VALUES (p_ns, p_key, p_value, 1)
            ON CONFLICT DO NOTHING RETURNING version INTO v;
        ELSE
          UPDATE kv SET value = p_value, version = version + 1
            WHERE ns = p_ns AND key = p_key AND version = p_expected RETURNING version INTO v;
        END IF;
        IF v IS NULL THEN
          SELECT version INTO cur FROM kv WHERE ns = p_ns AND key = p_key;
          RAISE EXCEPTION USING ERRCODE = 'NLR01', MESSAGE = coalesce(cur, 0)::text;
        END IF;
        o_writes := nalar_finish(p_ns, p_op, 'put:' || v, p_now);
        o_status := 'ok';
        o_result := v::text;
      END $fn$;

      CREATE FUNCTION nalar_delete(p_ns text, p_key text, p_expected bigint, p_op text, p_now bigint,
        OUT o_status text, OUT o_result text, OUT o_writes bigint)
      LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
      DECLARE c record; cur bigint; deleted boolean;
      BEGIN
        c := nalar_claim(p_ns, p_op);
        IF NOT c.o_claimed THEN o_status := 'op'; o_result := c.o_record; RETURN; END IF;
        IF p_expected = 0 THEN
          SELECT version INTO cur FROM kv WHERE ns = p_ns AND key = p_key;
          IF cur IS NOT NULL THEN RAISE EXCEPTION USING ERRCODE = 'NLR01', MESSAGE = cur::text; END IF;
          deleted := false;
        ELSE
          DELETE FROM kv WHERE ns = p_ns AND key = p_key AND (p_expected IS NULL OR version = p_expected);
          deleted := FOUND;
          IF NOT deleted AND p_expected IS NOT NULL THEN
            SELECT version INTO cur FROM kv WHERE ns = p_ns AND key = p_key;
            RAISE EXCEPTION USING ERRCODE = 'NLR01', MESSAGE = coalesce(cur, 0)::text;
          END IF;
        END IF;
        IF deleted OR p_op IS NOT NULL THEN
          o_writes := nalar_finish(p_ns, p_op, 'delete:' || deleted::text, p_now);
        END IF;
        o_status := 'ok';
        o_result := deleted::text;
      END $fn$;

      CREATE FUNCTION nalar_append(p_ns text, p_list text, p_value text, p_op text, p_now bigint,
        OUT o_status text, OUT o_result text, OUT o_writes bigint)
      LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
      DECLARE c record; len bigint;
      BEGIN
        c := nalar_claim(p_ns, p_op);
        IF NOT c.o_claimed THEN o_status := 'op'; o_result := c.o_record; RETURN; END IF;
        -- The list's length row is the lock appenders queue on, so indices never collide.
        INSERT INTO list_meta AS m (ns, list, length) VALUES (p_ns, p_list, 1)
          ON CONFLICT (ns, list) DO UPDATE SET length = m.length + 1 RETURNING m.length INTO len;
        INSERT INTO lists (ns, list, idx, value) VALUES (p_ns, p_list, len - 1, p_value);
        o_writes := nalar_finish(p_ns, p_op, 'append:' || len, p_now);
        o_status := 'ok';
        o_result := len::text;
      END $fn$;
    `,
  },
];
