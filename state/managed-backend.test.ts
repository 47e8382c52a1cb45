/** NALAR_STATE_BACKEND chooses where agent state lives: writes through ManagedMap land in that real server. */
import type * as Managed from './managed';
import { loadConfig } from '../common/config';
import { createSessionStore } from './session-store';

test.each(['redis', 'postgres'] as const)('NALAR_STATE_BACKEND=%s stores managed state there', async (backend) => {
  process.env.NALAR_STATE_BACKEND = backend;
  // A fresh copy of the module per backend: its default store is made from the config on first use.
  let managed!: typeof Managed;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh module instance per backend
    managed = require('./managed') as typeof Managed;
  });
  const sessionId = `backend-test-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const { redisUrl, postgresUrl } = loadConfig();
  const direct = createSessionStore({ backend, redis: { url: redisUrl }, postgres: { connectionString: postgresUrl } });
  try {
    await new managed.ManagedMap<{ n: number }>('memory', { sessionId }).set('k', { n: 42 });
    await direct.waitUntilReady();
    expect(JSON.parse((await direct.get(sessionId, 'map:memory:k'))?.value ?? 'null')).toEqual({ n: 42 });
  } finally {
    await direct.dropNamespace(sessionId);
    await direct.close();
    await managed.closeDefaultSessionStore();
    delete process.env.NALAR_STATE_BACKEND;
  }
});
