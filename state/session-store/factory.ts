/**
 * Chooses a session-store backend from configuration; every default is applied here, in one place.
 */
import path from 'node:path';
import { createFileSessionStore, type FileSessionStoreOptions } from './file-store';
import { type CommonStoreOptions, type SessionStore, type SessionStoreBackend } from './interface';
import { createPostgresSessionStore, type PostgresSessionStoreOptions } from './postgres-store';
import { createRedisSessionStore, type RedisSessionStoreOptions } from './redis-store';

/** Configuration of {@link createSessionStore}. */
export interface SessionStoreConfig extends CommonStoreOptions {
  /** Which backend serves the store. @default 'filesystem' */
  backend?: SessionStoreBackend;
  /** Base folder of local state (NALAR_DATA_DIR); the filesystem store uses `<dataDir>/state`. @default '.nalar/data' */
  dataDir?: string;
  /** Filesystem: the store's folder, overriding `<dataDir>/state`. */
  dir?: string;
  /** Filesystem: lock tuning. */
  file?: Omit<FileSessionStoreOptions, keyof CommonStoreOptions>;
  /** Redis options. @default { url: 'redis://127.0.0.1:6379', prefix: 'nalar:state:' } */
  redis?: Omit<RedisSessionStoreOptions, keyof CommonStoreOptions>;
  /** PostgreSQL options. @default { connectionString: 'postgres://postgres@127.0.0.1:5432/test', schema: 'nalar_state' } */
  postgres?: Omit<PostgresSessionStoreOptions, keyof CommonStoreOptions>;
}

/** The default folder of the filesystem store for a data folder. */
export function defaultStateDir(dataDir = '.nalar/data'): string {
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
