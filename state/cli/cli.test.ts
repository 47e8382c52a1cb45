import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { blobStoreOf } from '../payloads/data-converter';
import { ManagedList } from '../managed';
import { createFileSessionStore, defaultStateDir } from '../session-store';
import { runStateCommand } from './command';

const nalar = path.resolve(__dirname, '..', '..', 'scripts', 'nalar.mjs');

/** Runs the real `nalar` bin from a folder outside the repo; resolves with its exit code and output. */
async function runBin(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [nalar, ...args], { cwd: os.tmpdir() });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runStateCommand(args, { out: (l) => out.push(l), err: (l) => err.push(l), env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test('nalar state --help lists the commands; a bad flag exits 2 with a usage error', async () => {
  const [help, bad] = await Promise.all([runBin(['state', '--help']), runBin(['state', 'gc', '--gracefully'])]);
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/Usage: nalar state <command>/);
  expect(help.stdout).toMatch(/^ {2}gc .*\n {2}expire .*\n {2}stats /m);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/nalar state gc: NALAR_ERR_USAGE: Unknown option '--gracefully'/);
  expect(bad.stderr).toMatch(/Usage: nalar state gc/);
}, 30_000);

test.each([
  [['frobnicate'], /unknown command 'frobnicate'/],
  [['gc', '--grace', 'soon'], /--grace: expected a duration .* got 'soon'/],
  [['gc', '--grace=-5m'], /--grace: expected a duration .* got '-5m'/],
  [['expire', '--ttl'], /--ttl/],
  [['expire', '--grace', '1h'], /Unknown option '--grace'/],
  [['stats', '--dry-run'], /Unknown option '--dry-run'/],
  [['stats', 'extra'], /Unexpected argument 'extra'/],
])('nalar state %j is a usage error (exit 2)', async (args, message) => {
  const result = await run(args);
  expect(result.code).toBe(2);
  expect(result.err).toMatch(/NALAR_ERR_USAGE/);
  expect(result.err).toMatch(message);
});

test('each command has its own --help', async () => {
  for (const command of ['gc', 'expire', 'stats']) {
    const result = await run([command, '--help']);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(new RegExp(`^Usage: nalar state ${command}`));
  }
});

test('stats and expire on a data folder; a bad setting exits 1', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nalar-state-cli-'));
  const env = { NALAR_DATA_DIR: dataDir };
  let now = Date.now() - 3 * 3_600_000;
  const store = createFileSessionStore(defaultStateDir(dataDir), { now: () => now });
  await store.waitUntilReady();
  await new ManagedList('turns', { store, sessionId: 'ended' }).append('bye');
  now = Date.now();
  await new ManagedList('turns', { store, sessionId: 'active' }).append('hi');
  await store.close();
  await blobStoreOf({ dataDir }).put(new Uint8Array(2048));

  const stats = await run(['stats'], env);
  expect(stats.code).toBe(0);
  expect(stats.out).toMatch(/blobs: 1 in .*, 2\.0 KiB \(2048 bytes\)/);
  expect(stats.out).toMatch(/session state \(filesystem\): 2 session\(s\)/);

  const dry = await run(['expire', '--ttl', '1h', '--dry-run'], env);
  expect(dry).toMatchObject({ code: 0 });
  expect(dry.out).toMatch(/1 idle session\(s\) \(dry run: nothing deleted\)\n.* {2}ended$/);
  expect((await run(['expire', '--ttl', '1h'], env)).out).toMatch(/deleted the state of 1 session\(s\)\n.* {2}ended$/);
  expect((await run(['expire', '--ttl', '1h', '--dry-run'], env)).out).toMatch(/0 idle session\(s\)/);

  const badConfig = await run(['stats'], { ...env, NALAR_STATE_BACKEND: 'floppy' });
  expect(badConfig.code).toBe(1);
  expect(badConfig.err).toMatch(/NALAR_ERR_CONFIG_INVALID.*NALAR_STATE_BACKEND/s);
});
