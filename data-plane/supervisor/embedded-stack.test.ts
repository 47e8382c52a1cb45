import { loadConfig } from '../../common/config';
import { embeddedStack } from './embedded-stack';

const stack = (env: NodeJS.ProcessEnv) =>
  embeddedStack({ config: loadConfig({ env, cwd: '/srv/nalar' }), temporalBin: 'temporal', env: {} });

test('npm start runs the codec server right after the dev server and names its port setting', () => {
  const components = stack({});
  expect(components.map((c) => c.name)).toEqual(['temporal', 'codec', 'sim', 'worker-1']);
  const codec = components[1]!;
  expect(codec.ports).toEqual([{ host: '127.0.0.1', port: 8234, what: 'codec server', setting: 'NALAR_CODEC_PORT' }]);
  expect(codec.endpoints.join('\n')).toContain('http://127.0.0.1:8234');
  expect(codec.endpoints.join('\n')).toContain('--codec-endpoint http://127.0.0.1:8234');
});

test('NALAR_CODEC_PORT=0 leaves the codec server out', () => {
  expect(stack({ NALAR_CODEC_PORT: '0' }).map((c) => c.name)).toEqual(['temporal', 'sim', 'worker-1']);
});

test('a codec server bound beyond loopback without a token stops the stack before anything starts', () => {
  expect(() => stack({ NALAR_CODEC_HOST: '0.0.0.0' })).toThrow(/NALAR_CODEC_TOKEN/);
  const withToken = stack({ NALAR_CODEC_HOST: '0.0.0.0', NALAR_CODEC_TOKEN: 'x'.repeat(32) });
  const endpoints = withToken.find((c) => c.name === 'codec')?.endpoints.join('\n') ?? '';
  expect(endpoints).toContain('bearer token');
  expect(endpoints).not.toContain('x'.repeat(32)); // the secret is never printed
});
