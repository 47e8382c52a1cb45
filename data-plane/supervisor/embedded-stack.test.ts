import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../common/config';
import { embeddedStack } from './embedded-stack';
import { ManagedProcess } from './managed-process';

const stack = (env: NodeJS.ProcessEnv) =>
  embeddedStack({ config: loadConfig({ env, cwd: '/srv/nalar' }), temporalBin: 'temporal', env: {} });

test('npm start runs the codec server right after the dev server and names its port setting', () => {
  const components = stack({});
  expect(components.map((c) => c.name)).toEqual(['temporal', 'codec', 'sim', 'controller', 'worker-1', 'gateway']);
  const codec = components[1]!;
  expect(codec.ports).toEqual([{ host: '127.0.0.1', port: 8234, what: 'codec server', setting: 'NALAR_CODEC_PORT' }]);
  expect(codec.endpoints.join('\n')).toContain('http://127.0.0.1:8234');
  expect(codec.endpoints.join('\n')).toContain('--codec-endpoint http://127.0.0.1:8234');
});

test('NALAR_CODEC_PORT=0 leaves the codec server out', () => {
  expect(stack({ NALAR_CODEC_PORT: '0' }).map((c) => c.name)).toEqual([
    'temporal',
    'sim',
    'controller',
    'worker-1',
    'gateway',
  ]);
});

test('a codec server bound beyond loopback without a token stops the stack before anything starts', () => {
  expect(() => stack({ NALAR_CODEC_HOST: '0.0.0.0' })).toThrow(/NALAR_CODEC_TOKEN/);
  const withToken = stack({ NALAR_CODEC_HOST: '0.0.0.0', NALAR_CODEC_TOKEN: 'x'.repeat(32) });
  const endpoints = withToken.find((c) => c.name === 'codec')?.endpoints.join('\n') ?? '';
  expect(endpoints).toContain('bearer token');
  expect(endpoints).not.toContain('x'.repeat(32)); // the secret is never printed
});

test('npm start runs the gateway last, on loopback without tokens, and names its port setting', () => {
  const gateway = stack({}).at(-1)!;
  expect(gateway.name).toBe('gateway');
  expect(gateway.ports).toEqual([{ host: '127.0.0.1', port: 8235, what: 'gateway', setting: 'NALAR_GATEWAY_PORT' }]);
  expect(gateway.description).toContain('loopback only');
  expect(stack({ NALAR_GATEWAY_PORT: '0' }).map((c) => c.name)).not.toContain('gateway');
});

test('a gateway bound beyond loopback without tokens stops the stack before anything starts; tokens are never printed', () => {
  expect(() => stack({ NALAR_GATEWAY_HOST: '0.0.0.0' })).toThrow(/NALAR_GATEWAY_TOKENS/);
  const token = 't'.repeat(32);
  expect(() => stack({ NALAR_GATEWAY_TOKENS: '{"short": "a"}' })).toThrow(/token #1 is shorter/);
  expect(() => stack({ NALAR_GATEWAY_TOKENS: `{"${token}": "no spaces allowed"}` })).toThrow(/tenant of token #1/);
  let message = '';
  try {
    stack({ NALAR_GATEWAY_TOKENS: `{"${token}": ` });
  } catch (err) {
    message = (err as Error).message;
  }
  expect(message).toContain('not JSON');
  expect(message).not.toContain(token);
  const gateway = stack({ NALAR_GATEWAY_HOST: '0.0.0.0', NALAR_GATEWAY_TOKENS: `{"${token}": "acme"}` }).at(-1)!;
  expect(gateway.description).toContain('bearer tokens');
  expect(JSON.stringify(gateway)).not.toContain(token);
});

test('npm start runs the global controller before the workers and gives them its URL', async () => {
  const components = stack({});
  const controller = components.find((c) => c.name === 'controller')!;
  expect(controller.ports).toEqual([
    { host: '127.0.0.1', port: 8236, what: 'global controller', setting: 'NALAR_CONTROLLER_PORT' },
  ]);
  expect(controller.description).toContain('loopback only');
  expect(components.map((c) => c.name).indexOf('controller')).toBeLessThan(
    components.map((c) => c.name).indexOf('worker-1'),
  );
  // The URL reaches the workers through the environment their processes are started with.
  const seen: NodeJS.ProcessEnv[] = [];
  jest.spyOn(ManagedProcess, 'start').mockImplementation(async (spec) => {
    seen.push(spec.env ?? {});
    throw new Error('not started in this test');
  });
  await expect(components.find((c) => c.name === 'worker-1')!.launch(() => {})).rejects.toThrow('not started');
  expect(seen[0]?.NALAR_CONTROLLER_URL).toBe('http://127.0.0.1:8236');
  jest.restoreAllMocks();
  const without = stack({ NALAR_CONTROLLER_PORT: '0' });
  expect(without.map((c) => c.name)).not.toContain('controller');
});

test('a global controller bound beyond loopback without a token stops the stack before anything starts', () => {
  expect(() => stack({ NALAR_CONTROLLER_HOST: '0.0.0.0' })).toThrow(/NALAR_CONTROL_TOKEN/);
  expect(() => stack({ NALAR_CONTROL_TOKEN: 'short' })).toThrow(/too short/);
  const token = 'c'.repeat(32);
  const controller = stack({ NALAR_CONTROLLER_HOST: '0.0.0.0', NALAR_CONTROL_TOKEN: token }).find(
    (c) => c.name === 'controller',
  )!;
  expect(controller.description).toContain('bearer token');
  expect(JSON.stringify(controller)).not.toContain(token);
});

test('docker-compose.yml runs the global controller on loopback with the worker in its network, as npm start does', () => {
  const compose = readFileSync(path.resolve(__dirname, '..', '..', 'docker-compose.yml'), 'utf8');
  expect(compose).toMatch(
    /^ {2}controller:\n(?: {4}.*\n|\n)*? {6}\['sh', '-c', '.*control-plane\/global-controller\/main\.ts'\]/m,
  );
  expect(compose).toContain('NALAR_CONTROLLER_HOST: ${NALAR_CONTROLLER_HOST:-127.0.0.1}');
  expect(compose).toMatch(/^ {2}worker:\n(?: {4}.*\n|\n)*? {4}network_mode: service:controller$/m);
  expect(compose).toContain('NALAR_CONTROLLER_URL: http://127.0.0.1:8236');
});
