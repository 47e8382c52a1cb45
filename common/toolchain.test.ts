import { chmodSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ErrorCode, hasErrorCode } from './errors';
import { createLogger } from './log';
import { ensureTool, pinnedTools } from './toolchain';

const log = createLogger('test', 'error');

/** Writes an executable shell script that stands in for a binary of a given version. */
function script(dir: string, name: string, body: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

test('the provisioned Temporal CLI embeds server 1.29 (priority and fairness)', async () => {
  // The jest global setup provisioned it; this finds the same binary without building.
  const bin = await ensureTool('temporal', {
    toolsDir: path.resolve(__dirname, '..', '.tools'),
    explicitPath: process.env.NALAR_TEST_TEMPORAL_BIN,
    log,
  });
  const { spawnSync } = await import('node:child_process');
  expect(spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout).toMatch(pinnedTools.temporal.accepts);
});

test('a binary on PATH is used only when its version matches the pin', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nalar-tools-'));
  const good = path.join(dir, 'good');
  script(good, 'k6', 'echo "k6 v1.8.1 (go1.26, linux/amd64)"');
  const toolsDir = path.join(dir, 'cache');
  await expect(ensureTool('k6', { toolsDir, log, searchPath: good, goCommand: '/nonexistent/go' })).resolves.toBe(
    path.join(good, 'k6'),
  );

  const old = path.join(dir, 'old');
  script(old, 'k6', 'echo "k6 v0.40.0"');
  const err = await rejection(ensureTool('k6', { toolsDir, log, searchPath: old, goCommand: '/nonexistent/go' }));
  expect(hasErrorCode(err, ErrorCode.TOOL_MISSING)).toBe(true);
});

test('without a binary or Go the error says exactly how to get one', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nalar-tools-'));
  const err = await rejection(
    ensureTool('temporal', { toolsDir: dir, log, searchPath: '', goCommand: '/nonexistent/go' }),
  );
  expect(hasErrorCode(err, ErrorCode.TOOL_MISSING)).toBe(true);
  const message = (err as Error).message;
  expect(message).toContain(`go install github.com/temporalio/cli/cmd/temporal@v1.5.1`);
  expect(message).toContain('NALAR_TEMPORAL_BIN');
  expect(message).toContain('https://go.dev/dl/');
});

test('a failing go install is reported with its output', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nalar-tools-'));
  const go = script(
    path.join(dir, 'fakego'),
    'go',
    'if [ "$1" = version ]; then echo "go version go1.26"; exit 0; fi\necho "proxy said no" >&2; exit 1',
  );
  const err = await rejection(
    ensureTool('k6', { toolsDir: path.join(dir, 'cache'), log, searchPath: '', goCommand: go }),
  );
  expect(hasErrorCode(err, ErrorCode.TOOL_BUILD_FAILED)).toBe(true);
  expect((err as Error).message).toContain('proxy said no');
});

test('a cached build is reused only with a matching pin file', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nalar-tools-'));
  const bin = path.join(dir, 'bin');
  script(bin, 'k6', 'echo "k6 v1.8.1"');
  const options = { toolsDir: dir, log, searchPath: '', goCommand: '/nonexistent/go' };
  // No pin file: it is not known to be our build, so it is not trusted.
  expect(hasErrorCode(await rejection(ensureTool('k6', options)), ErrorCode.TOOL_MISSING)).toBe(true);
  writeFileSync(path.join(bin, 'k6.pin'), 'go.k6.io/k6@v1.8.1\n');
  await expect(ensureTool('k6', options)).resolves.toBe(path.join(bin, 'k6'));
});

test('an explicit path that does not run is a clear error', async () => {
  const err = await rejection(ensureTool('temporal', { toolsDir: '/tmp', log, explicitPath: '/nonexistent/temporal' }));
  expect(hasErrorCode(err, ErrorCode.TOOL_MISSING)).toBe(true);
  expect((err as Error).message).toContain('/nonexistent/temporal');
});
