import path from 'node:path';
import { defaultResultsRoot, parseLoadArgs } from './options';

const scenarios = ['chat', 'hello'];
const parse = (args: string[], env: NodeJS.ProcessEnv = {}) => parseLoadArgs(args, env, scenarios);

test('a scenario alone runs the constant profile into load-tests/results/k6/<scenario>/', () => {
  expect(parse(['hello'])).toEqual({
    scenario: 'hello',
    profile: 'constant',
    out: path.join(defaultResultsRoot, 'hello'),
  });
});

test('options take a value after a space or an equals sign; the target loses its trailing slash', () => {
  expect(
    parse(['chat', '--target', 'http://127.0.0.1:8235/', '--rate=2.5', '--duration', '2m', '--profile', 'ramping']),
  ).toMatchObject({ scenario: 'chat', target: 'http://127.0.0.1:8235', rate: 2.5, duration: '2m', profile: 'ramping' });
});

test('the token comes from --token or NALAR_LOAD_TOKEN', () => {
  expect(parse(['hello'], { NALAR_LOAD_TOKEN: 'from-env' })?.token).toBe('from-env');
  expect(parse(['hello', '--token', 'flag'], { NALAR_LOAD_TOKEN: 'from-env' })?.token).toBe('flag');
});

test('--help asks for the usage text', () => {
  expect(parse(['hello', '--help'])).toBeUndefined();
});

test.each([
  [['nope'], /unknown scenario nope; the scenarios are chat, hello/],
  [[], /which scenario\?/],
  [['hello', 'chat'], /one scenario, got hello chat/],
  [['hello', '--target', 'localhost:8235'], /--target: must be an http:\/\/ or https:\/\/ URL/],
  [['hello', '--rate', '0'], /--rate: must be a positive number/],
  [['hello', '--duration', 'soon'], /--duration: must be a duration like 30s/],
  [['hello', '--profile', 'soak'], /--profile:/],
  [['hello', '--rate'], /--rate needs a value/],
  [['hello', '--verbose', 'x'], /unknown option --verbose/],
])('%j is refused with a usage error that says why', (args, message) => {
  expect(() => parse(args)).toThrow(message);
  expect(() => parse(args)).toThrow(/NALAR_ERR_USAGE|Usage: npm run load/);
});
