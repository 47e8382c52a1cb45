/** NALAR_STATE_BACKEND=redis: agent state written through ManagedMap lands in the real redis server. */
import { closeDefaultSessionStore, ManagedMap } from './managed';
import { createSessionStore } from './session-store';

process.env.NALAR_STATE_BACKEND = 'redis';

afterAll(closeDefaultSessionStore);

test('the configured backend stores managed state', async () => {
  const sessionId = `backend-test-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  await new ManagedMap<{ n: number }>('memory', { sessionId }).set('k', { n: 42 });
  const direct = createSessionStore({
    backend: 'redis',
    redis: { url: 'redis://127.0.0.1:6379' },
    postgres: { connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' },
  });
  await direct.waitUntilReady();
  try {
    expect(JSON.parse((await direct.get(sessionId, 'map:memory:k'))?.value ?? 'null')).toEqual({ n: 42 });
  } finally {
    await direct.dropNamespace(sessionId);
    await direct.close();
  }
});
