/**
 * Runs the session-store contract against the three real backends (Redis and PostgreSQL on this machine:
 * an unreachable one fails, it is never skipped), plus backend-specific tests.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { hostname } from 'node:os';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { createClient } from 'redis';
import { configDefaults, loadConfig } from '../../common/config';
import { describeSessionStoreContract, expectStoreError } from './contract';
import { SessionStoreErrorCode } from './errors';
import { createFileSessionStore, namespaceFolder } from './file-store';
import { createPostgresSessionStore } from './postgres-store';
import { createRedisSessionStore } from './redis-store';
import { createSessionStore, defaultStateDir } from './factory';

// The servers NALAR_REDIS_URL / NALAR_POSTGRES_URL name (their defaults on this machine).
const { redisUrl: REDIS_URL, postgresUrl: POSTGRES_URL } = loadConfig();
const runId = randomBytes(4).toString('hex');

/**
 * A local server that accepts every connection and closes it at once: a backend that is there but never
 * answers. Counting its connections shows whether a store retried (no clock needed to tell).
 */
async function connectionDropper(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => connections,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('filesystem backend', () => {
  let root = '';
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'nalar-session-store-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  describeSessionStoreContract('filesystem', async (prefix, options) =>
    createFileSessionStore(path.join(root, prefix), options),
  );

  it('serialises appends of two real processes on one list (100 items, none lost)', async () => {
    const dir = path.join(root, 'two-processes');
    const script = path.join(__dirname, 'fixtures', 'append-child.ts');
    const runChild = (tag: string) =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', script, dir, 'session', 'log', '50', tag], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        // A bounded wait: a hung child is killed and fails the test instead of hanging it.
        const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
        child.on('error', reject);
        child.on('exit', (code, signal) => {
          clearTimeout(timer);
          if (code === 0) resolve();
          else reject(new Error(`child ${tag} exited with ${code ?? signal}: ${stderr}`));
        });
      });
    await Promise.all([runChild('a'), runChild('b')]);
    const store = createFileSessionStore(dir);
    await store.waitUntilReady();
    const items = (await store.range('session', 'log', 0)).map((s) => JSON.parse(s) as { tag: string; i: number });
    expect(items).toHaveLength(100);
    for (const tag of ['a', 'b']) {
      expect(items.filter((x) => x.tag === tag).map((x) => x.i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    }
    await store.close();
  }, 60_000);

  it('keeps namespace folders inside the store folder whatever the name', async () => {
    const dir = path.join(root, 'traversal');
    const store = createFileSessionStore(dir);
    await store.waitUntilReady();
    await store.put('../../escape', 'k', '1');
    await store.put('/etc/passwd', 'k', '1');
    expect((await readdir(root)).sort()).not.toContain('escape');
    expect((await readdir(path.join(dir, 'ns'))).every((f) => /^[A-Za-z0-9_-]+$/.test(f))).toBe(true);
    expect(await store.get('../../escape', 'k')).toEqual({ value: '1', version: 1 });
  });
});

describe('filesystem locks', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'nalar-session-lock-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A lock file as a holder leaves it; `legacy`: the lock directory of an earlier version. */
  async function plantLock(ns: string, pid: number, ageMs: number, legacy = false): Promise<string> {
    const lock = path.join(dir, 'locks', `${namespaceFolder(ns)}.lock`);
    const holder = JSON.stringify({ pid, host: hostname(), at: 0 });
    await mkdir(legacy ? lock : path.dirname(lock), { recursive: true });
    await writeFile(legacy ? path.join(lock, 'holder.json') : lock, holder);
    const when = new Date(Date.now() - ageMs);
    await utimes(lock, when, when);
    return lock;
  }

  async function deadPid(): Promise<number> {
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid!;
    await new Promise((resolve) => child.on('exit', resolve));
    return pid;
  }

  it('breaks a lock older than 30 s whose holder process is dead', async () => {
    const store = createFileSessionStore(dir, { lockTimeoutMs: 2_000 });
    await store.waitUntilReady();
    await plantLock('stale', await deadPid(), 31_000);
    expect(await store.put('stale', 'k', '1')).toBe(1);
    await plantLock('stale-dir', await deadPid(), 31_000, true);
    expect(await store.put('stale-dir', 'k', '1')).toBe(1);
  });

  it('does not break a lock whose holder is alive, nor a young lock of a dead holder', async () => {
    const store = createFileSessionStore(dir, { lockTimeoutMs: 300 });
    await store.waitUntilReady();
    const live = await plantLock('live', process.pid, 31_000);
    await expectStoreError(store.put('live', 'k', '1'), SessionStoreErrorCode.UNAVAILABLE, 'still held');
    const young = await plantLock('young', await deadPid(), 1_000);
    await expectStoreError(store.put('young', 'k', '1'), SessionStoreErrorCode.UNAVAILABLE, 'still held');
    const liveDir = await plantLock('live-dir', process.pid, 31_000, true);
    await expectStoreError(store.put('live-dir', 'k', '1'), SessionStoreErrorCode.UNAVAILABLE, 'still held');
    await Promise.all([live, young, liveDir].map((l) => rm(l, { recursive: true })));
  });
});

describe('redis backend', () => {
  const base = `nalar-test:${runId}:`;
  afterAll(async () => {
    // Safety net: the contract drops every namespace; delete whatever a failed test left behind.
    const client = createClient({ url: REDIS_URL });
    await client.connect();
    try {
      const leftovers: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: `${base}*`, COUNT: 1000 })) leftovers.push(...batch);
      if (leftovers.length) await client.del(leftovers);
    } finally {
      await client.close();
    }
  });

  describeSessionStoreContract('redis', async (prefix, options) =>
    createRedisSessionStore({ url: REDIS_URL, prefix: `${base}${prefix}:`, ...options }),
  );

  it('fails waitUntilReady with NALAR_ERR_STATE_UNAVAILABLE when Redis is unreachable, after one try', async () => {
    const store = createRedisSessionStore({ url: 'redis://127.0.0.1:1' });
    await expectStoreError(store.waitUntilReady(), SessionStoreErrorCode.UNAVAILABLE, '127.0.0.1:1');
    await store.close();
    const dropper = await connectionDropper();
    try {
      const dropped = createRedisSessionStore({ url: `redis://127.0.0.1:${dropper.port}` });
      await expectStoreError(dropped.waitUntilReady(), SessionStoreErrorCode.UNAVAILABLE, `127.0.0.1:${dropper.port}`);
      expect(dropper.connections()).toBe(1); // gave up instead of retrying
      await dropped.close();
    } finally {
      await dropper.close();
    }
  });
});

describe('postgres backend', () => {
  const schemas = new Set<string>();
  const admin = new Pool({ connectionString: POSTGRES_URL });
  const dropSchemas = async () => {
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    schemas.clear();
  };
  // Runs after the contract's own afterEach (inner hooks first): each test's schema is dropped after it.
  afterEach(dropSchemas);
  afterAll(async () => {
    await dropSchemas();
    await admin.end();
  });

  describeSessionStoreContract('postgres', async (prefix, options) => {
    const schema = `nalar_test_${runId}_${prefix}`;
    schemas.add(schema);
    return createPostgresSessionStore({ connectionString: POSTGRES_URL, schema, ...options });
  });

  it('records applied migrations and re-running them is a no-op', async () => {
    const schema = `nalar_test_${runId}_migrations`;
    schemas.add(schema);
    const [a, b] = [1, 2].map(() => createPostgresSessionStore({ connectionString: POSTGRES_URL, schema }));
    await Promise.all([a!.waitUntilReady(), b!.waitUntilReady()]);
    await a!.migrate();
    const { rows } = await admin.query(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`);
    expect(rows).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }]);
    await Promise.all([a!.close(), b!.close()]);
  });

  it('fails waitUntilReady with NALAR_ERR_STATE_UNAVAILABLE when PostgreSQL is unreachable, after one try', async () => {
    const store = createPostgresSessionStore({ connectionString: 'postgres://postgres@127.0.0.1:1/test' });
    await expectStoreError(store.waitUntilReady(), SessionStoreErrorCode.UNAVAILABLE);
    await store.close();
    const dropper = await connectionDropper();
    try {
      const dropped = createPostgresSessionStore({
        connectionString: `postgres://postgres@127.0.0.1:${dropper.port}/test`,
      });
      await expectStoreError(dropped.waitUntilReady(), SessionStoreErrorCode.UNAVAILABLE);
      expect(dropper.connections()).toBe(1); // gave up instead of retrying
      await dropped.close();
    } finally {
      await dropper.close();
    }
  });

  it('rejects a schema name that is not a plain identifier', () => {
    expect(() => createPostgresSessionStore({ schema: 'x"; DROP TABLE y; --' })).toThrow(/schema/);
  });
});

describe('createSessionStore', () => {
  it('chooses the backend and applies documented defaults', async () => {
    expect(createSessionStore().backend).toBe('filesystem');
    expect(defaultStateDir('/data')).toBe(path.resolve('/data/state'));
    const redis = createSessionStore({ backend: 'redis' });
    const postgres = createSessionStore({ backend: 'postgres' });
    expect([redis.backend, postgres.backend]).toEqual(['redis', 'postgres']);
    await Promise.all([redis.close(), postgres.close()]);
  });

  it.each(['redis', 'postgres'] as const)(
    'a %s store given no address uses the server of the configuration default',
    async (backend) => {
      const ns = `defaults-${runId}`;
      const prefix = `nalar-test:${runId}:defaults:`;
      const schema = `nalar_test_${runId}_defaults`;
      const implicit = createSessionStore({ backend, redis: { prefix }, postgres: { schema } });
      const explicit = createSessionStore({
        backend,
        redis: { url: configDefaults.redisUrl, prefix },
        postgres: { connectionString: configDefaults.postgresUrl, schema },
      });
      try {
        await implicit.waitUntilReady();
        await implicit.put(ns, 'k', '"written without an address"');
        await explicit.waitUntilReady();
        expect((await explicit.get(ns, 'k'))?.value).toBe('"written without an address"');
      } finally {
        await implicit.dropNamespace(ns);
        await Promise.all([implicit.close(), explicit.close()]);
        if (backend === 'redis') {
          // The store-wide byte count outlives dropNamespace.
          const client = createClient({ url: configDefaults.redisUrl });
          await client.connect();
          for await (const keys of client.scanIterator({ MATCH: `${prefix}*` }))
            if (keys.length) await client.del(keys);
          await client.close();
        }
        if (backend === 'postgres') {
          const admin = new Pool({ connectionString: configDefaults.postgresUrl });
          await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          await admin.end();
        }
      }
    },
  );
});
