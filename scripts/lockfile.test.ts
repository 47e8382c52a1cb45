/**
 * The lockfile installs as it is: `npm ci` (what `npm start` and `npm test` run on a fresh clone) accepts it
 * for every platform, so it never falls back to `npm install`, which would rewrite it. (`.ci/run` also checks
 * that a whole test run on a clean clone leaves `git status --porcelain` empty.)
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const root = path.resolve(__dirname, '..');

test('npm ci accepts package-lock.json as it is and leaves it unchanged', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nalar-lockfile-'));
  try {
    for (const f of ['package.json', 'package-lock.json']) copyFileSync(path.join(root, f), path.join(dir, f));
    // A dry run resolves the whole tree from the lockfile (and rejects one out of sync) without downloading.
    await promisify(execFile)('npm', ['ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: dir,
      timeout: 120_000,
    });
    expect(readFileSync(path.join(dir, 'package-lock.json'), 'utf8')).toBe(
      readFileSync(path.join(root, 'package-lock.json'), 'utf8'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the lockfile lists every platform's optional native packages (npm ci on another OS needs them)", () => {
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { optionalDependencies?: Record<string, string> }>;
  };
  const missing = Object.entries(lock.packages).flatMap(([, pkg]) =>
    Object.keys(pkg.optionalDependencies ?? {}).filter(
      (dep) =>
        !Object.keys(lock.packages).some((p) => p === `node_modules/${dep}` || p.endsWith(`/node_modules/${dep}`)),
    ),
  );
  expect(missing).toEqual([]);
});
