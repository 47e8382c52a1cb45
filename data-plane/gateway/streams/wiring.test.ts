/** The streaming parts built from the configuration, and the environment npm start gives its children. */
import Fastify from 'fastify';
import { loadConfig } from '../../../common/config';
import { gatewayStreaming, withStreamEnv } from './wiring';

test('npm start gives the gateway and the workers one fresh internal token and the gateway URL', () => {
  const env = withStreamEnv({ PATH: '/bin' }, 'http://127.0.0.1:8235');
  expect(env.NALAR_STREAM_URL).toBe('http://127.0.0.1:8235');
  expect(env.NALAR_STREAM_TOKEN?.length).toBeGreaterThanOrEqual(32);
  expect(withStreamEnv({}, 'http://x').NALAR_STREAM_TOKEN).not.toBe(env.NALAR_STREAM_TOKEN);
  // Settings the user made win; without a gateway nothing is added.
  expect(withStreamEnv({ NALAR_STREAM_TOKEN: 'mine-0123456789abcdef' }, 'http://x').NALAR_STREAM_TOKEN).toBe(
    'mine-0123456789abcdef',
  );
  expect(withStreamEnv({ PATH: '/bin' }, undefined)).toEqual({ PATH: '/bin' });
  // The generated values pass the configuration's own checks.
  expect(() => loadConfig({ env })).not.toThrow();
});

test('the embedded backend serves the ingest route with the internal token; redis needs none', async () => {
  const token = 'internal-token-0123456789';
  const embedded = gatewayStreaming(loadConfig({ env: { NALAR_STREAM_TOKEN: token } }));
  const app = Fastify();
  embedded.registerRoot(app);
  const post = (authorization?: string) =>
    app.inject({
      method: 'POST',
      url: '/internal/v1/events',
      headers: { 'content-type': 'application/json', ...(authorization && { authorization }) },
      payload: { events: [{ workflowId: 'wf', event: { kind: 'token', futureId: 'wf/1', attempt: 1, text: 'hi' } }] },
    });
  expect((await post()).statusCode).toBe(401);
  expect((await post('Bearer wrong-token-0123456789')).statusCode).toBe(401);
  expect((await post(`Bearer ${token}`)).statusCode).toBe(204);
  const bad = await app.inject({
    method: 'POST',
    url: '/internal/v1/events',
    headers: { authorization: `Bearer ${token}` },
    payload: { events: [{ workflowId: 'wf', event: { kind: 'token' } }] },
  });
  expect(bad.statusCode).toBe(400);
  expect(bad.json()).toMatchObject({
    error: { code: 'NALAR_ERR_INVALID_INPUT', message: expect.stringMatching(/^events\.0\.event/) },
  });
  expect(embedded.plugins).toHaveLength(2);
  await app.close();
  await embedded.close();

  const redis = gatewayStreaming(loadConfig({ env: { NALAR_STREAM_BACKEND: 'redis' } }));
  const other = Fastify();
  redis.registerRoot(other);
  expect((await other.inject({ method: 'POST', url: '/internal/v1/events' })).statusCode).toBe(404);
  await other.close();
  await redis.close();
});
