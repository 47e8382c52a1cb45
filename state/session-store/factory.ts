/**
 * Chooses a session-store backend from configuration; every default is applied here, in one place.
 */
import path from 'node:path';
import { configDefaults, type NalarConfig } from '../../common/config';
import { createFileSessionStore, type FileSessionStoreOptions } from './file-store';
import { type CommonStoreOptions, type SessionStore, type SessionStoreBackend } from './interface';
import { createPostgresSessionStore, type PostgresSessionStoreOptions } from './postgres-store';
import { createRedisSessionStore, type RedisSessionStoreOptions } from './redis-store';

/** Configuration of {@link createSessionStore}. */
export interface SessionStoreConfig extends CommonStoreOptions {
  /** Which backend serves the store. @default 'filesystem' */
  backend?: SessionStoreBackend;
  /** Base folder of local state; the filesystem store uses `<dataDir>/state`. @default NALAR_DATA_DIR's default */
  dataDir?: string;
  /** Filesystem: the store's folder, overriding `<dataDir>/state`. */
  dir?: string;
  /** Filesystem: lock tuning. */
  file?: Omit<FileSessionStoreOptions, keyof CommonStoreOptions>;
  /** Redis options. @default the store's: NALAR_REDIS_URL's default server, prefix 'nalar:state:' */
  redis?: Omit<RedisSessionStoreOptions, keyof CommonStoreOptions>;
  /** PostgreSQL options. @default the store's: NALAR_POSTGRES_URL's default database, schema 'nalar_state' */
  postgres?: Omit<PostgresSessionStoreOptions, keyof CommonStoreOptions>;
}

/** The default folder of the filesystem store for a data folder (NALAR_DATA_DIR's default when none is given). */
export function defaultStateDir(dataDir: string = configDefaults.dataDir): string {
  return path.resolve(dataDir, 'state');
}

/** Creates (but does not connect) the configured store; call `waitUntilReady()` before use. */
export function createSessionStore(config: SessionStoreConfig = {}): SessionStore {
  const common: CommonStoreOptions = config.now ? { now: config.now } : {};
  switch (config.backend ?? 'filesystem') {
    case 'filesystem':
      return createFileSessionStore(config.dir ?? defaultStateDir(config.dataDir), { ...config.file, ...common });
    case 'redis':
      return createRedisSessionStore({ ...config.redis, ...common });
    case 'postgres':
      return createPostgresSessionStore({ ...config.postgres, ...common });
  }
}

/** The store NALAR_STATE_BACKEND names, with the configured folder, Redis server and PostgreSQL database. */
export function sessionStoreFromConfig(
  config: Pick<NalarConfig, 'stateBackend' | 'dataDir' | 'redisUrl' | 'postgresUrl'>,
): SessionStore {
  return createSessionStore({
    backend: config.stateBackend,
    dataDir: config.dataDir,
    redis: { url: config.redisUrl },
    postgres: { connectionString: config.postgresUrl },
  });
}
