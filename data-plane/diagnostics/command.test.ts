/**
 * `nalar stuck` as a command line: help through the real bin, usage errors (exit 2) and an unreachable server
 * (exit 1) without a stack trace. Listing real stuck workflows: test/user-mistakes.int.test.ts.
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../supervisor/ports';
import { runStuckCommand } from './command';

const nalar = path.resolve(__dirname, '..', '..', 'scripts', 'nalar.mjs');

async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runStuckCommand(args, { out: (l) => out.push(l), err: (l) => err.push(l), env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test('nalar --help lists stuck; nalar stuck --help documents every option', async () => {
  const exec = (args: string[]) => promisify(execFile)(process.execPath, [nalar, ...args], { cwd: os.tmpdir() });
  const [top, help] = await Promise.all([exec(['--help']), exec(['stuck', '--help'])]);
  expect(top.stdout).toMatch(/^ {2}stuck +open workflows whose workflow task keeps failing/m);
  expect(help.stdout).toMatch(/^Usage: nalar stuck /);
  for (const word of ['--json', '--limit', '--query', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'Exit codes']) {
    expect(help.stdout).toContain(word);
  }
}, 30_000);

test.each([
  [['--limit', '0'], /--limit: expected a positive integer, got '0'/],
  [['--limit', 'many'], /--limit: expected a positive integer, got 'many'/],
  [['--verbose'], /Unknown option '--verbose'/],
  [['extra'], /Unexpected argument 'extra'/],
])('nalar stuck %j is a usage error (exit 2)', async (args, message) => {
  const result = await run(args);
  expect(result.code).toBe(2);
  expect(result.err).toMatch(/^nalar stuck: NALAR_ERR_USAGE: /);
  expect(result.err).toMatch(message);
  expect(result.err).toContain('Usage: nalar stuck');
});

test('a Temporal server that cannot be reached is exit 1 with the address and the setting, no stack trace', async () => {
  const address = `127.0.0.1:${await freePort()}`;
  const result = await run([], { TEMPORAL_ADDRESS: address });
  expect(result.code).toBe(1);
  expect(result.err).toMatch(
    new RegExp(`^nalar stuck: cannot connect to Temporal at ${address} \\(TEMPORAL_ADDRESS\\)`),
  );
  expect(result.err).not.toMatch(/\n\s+at /);
}, 30_000);
