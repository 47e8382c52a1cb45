/** The versioned session-state store: one interface, three backends (filesystem, Redis, PostgreSQL). */
export { SessionStoreError, SessionStoreErrorCode, type SessionStoreErrorDetails } from './errors';
export type {
  CommonStoreOptions,
  NamespaceOwner,
  NamespaceStamp,
  SessionStore,
  SessionStoreBackend,
  StoredValue,
  StoreStats,
  WriteOptions,
} from './interface';
export { MAX_NAME_BYTES, MAX_OP_ID_CHARS, MAX_VALUE_BYTES } from './validation';
export { createFileSessionStore, type FileSessionStoreOptions } from './file-store';
export { createRedisSessionStore, type RedisSessionStoreOptions } from './redis-store';
export { createPostgresSessionStore, type PostgresSessionStoreOptions } from './postgres-store';
export { createSessionStore, defaultStateDir, sessionStoreFromConfig, type SessionStoreConfig } from './factory';
