/**
 * The store variants the state benchmark measures: each backend on its real server (filesystem, Redis,
 * PostgreSQL), and each behind a worker's state cache. A variant writes only under names unique to the run
 * and removes them after.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { createClient } from 'redis';
import { createCachedSessionStore } from '../../../state/placement/cached-store';
import { createSessionStore, type SessionStore } from '../../../state/session-store';
import { backendNames, type BackendName, type StateBenchOptions } from './options';

/** The worker id the cached variants own their sessions as. */
export const BENCH_WORKER_ID = 'bench-worker';

/**
 * One store configuration under test. Adding one (a cache in front of a backend, another server) is one
 * entry of {@link stateVariants}: `create` returns a ready store or rejects when its server is unreachable
 * (the variant is then reported as skipped); `cleanup` removes everything the run wrote, after `close`.
 */
export interface StateVariant {
  name: string;
  create(): Promise<SessionStore>;
  cleanup(): Promise<void>;
}

/** One backend's variant, writing only under names unique to this run and variant. */
function backendVariant(o: StateBenchOptions, backend: BackendName, id: string): StateVariant {
  switch (backend) {
    case 'filesystem': {
      let fileDir: string | undefined;
      return {
        name: backend,
        async create() {
          fileDir = await mkdtemp(path.join(os.tmpdir(), 'nalar-bench-state-'));
          const store = createSessionStore({ backend: 'filesystem', dir: fileDir });
          await store.waitUntilReady();
          return store;
        },
        async cleanup() {
          if (fileDir) await rm(fileDir, { recursive: true, force: true });
        },
      };
    }
    case 'redis': {
      const redisPrefix = `nalar-bench-state:${id}:`;
      return {
        name: backend,
        async create() {
          const store = createSessionStore({ backend: 'redis', redis: { url: o.redisUrl, prefix: redisPrefix } });
          await store.waitUntilReady().catch(async (err: unknown) => {
            await store.close().catch(() => undefined);
            throw err;
          });
          return store;
        },
        async cleanup() {
          const client = createClient({ url: o.redisUrl, socket: { connectTimeout: 5_000, reconnectStrategy: false } });
          client.on('error', () => undefined);
          await client.connect();
          try {
            const keys: string[] = [];
            for await (const batch of client.scanIterator({ MATCH: `${redisPrefix}*`, COUNT: 1000 }))
              keys.push(...batch);
            for (let i = 0; i < keys.length; i += 1000) await client.del(keys.slice(i, i + 1000));
          } finally {
            await client.close();
          }
        },
      };
    }
    case 'postgres': {
      const schema = `nalar_bench_state_${id}`;
      return {
        name: backend,
        async create() {
          const store = createSessionStore({
            backend: 'postgres',
            postgres: { connectionString: o.postgresUrl, schema },
          });
          await store.waitUntilReady().catch(async (err: unknown) => {
            await store.close().catch(() => undefined);
            throw err;
          });
          return store;
        },
        async cleanup() {
          const admin = new Pool({ connectionString: o.postgresUrl, connectionTimeoutMillis: 5_000, max: 1 });
          try {
            await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          } finally {
            await admin.end();
          }
        },
      };
    }
  }
}

/** The variants named in `o.backends`, each writing only under names unique to this run (`runId`). */
export function stateVariants(o: StateBenchOptions, runId: string): StateVariant[] {
  return o.backends.map((name) => {
    const [backend, layer] = name.split('+') as [string, string | undefined];
    if (!(backendNames as readonly string[]).includes(backend) || (layer !== undefined && layer !== 'cache')) {
      throw new Error(`unknown state variant '${name}'`);
    }
    const inner = backendVariant(o, backend as BackendName, layer ? `${runId}_cache` : runId);
    if (!layer) return inner;
    return {
      name,
      // What a worker uses for the sessions it owns: the store behind its cache.
      create: async () => createCachedSessionStore(await inner.create(), { workerId: BENCH_WORKER_ID }),
      cleanup: () => inner.cleanup(),
    };
  });
}
