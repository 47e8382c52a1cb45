#!/usr/bin/env node
// Entry of `npm start`, `npm run dev`, `npm test`, `npm run toolchain`, `npm run bench` and `npm run load`. Plain Node with no dependencies, because on a
// fresh clone nothing is installed yet: it checks Node, installs npm dependencies when they are missing
// or stale, then runs the TypeScript entry point for the command with tsx.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entries = {
  start: 'data-plane/supervisor/main.ts',
  dev: 'data-plane/supervisor/main.ts --watch',
  test: 'scripts/run-tests.ts',
  toolchain: 'scripts/toolchain.ts',
  bench: 'load-tests/bench/main.ts',
  load: 'load-tests/load/main.ts',
};

/** The entry's module path (made absolute) and its fixed arguments. */
function entryArgs(entry) {
  const [file, ...args] = entry.split(' ');
  return [path.join(root, file), ...args];
}

function fail(message) {
  console.error(`nalar: ${message}`);
  process.exit(1);
}

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  fail(`Node ${process.versions.node} is too old; Nalar needs Node 20.19 or newer (https://nodejs.org/).`);
}

const command = process.argv[2];
if (!(command in entries)) fail(`usage: node scripts/bootstrap.mjs ${Object.keys(entries).join('|')} [args]`);

// npm writes node_modules/.package-lock.json on every install; older than package-lock.json means stale.
const installed = path.join(root, 'node_modules', '.package-lock.json');
const lock = path.join(root, 'package-lock.json');
const stale = !existsSync(installed) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(installed).mtimeMs);
if (stale) {
  // `npm ci` installs exactly what package-lock.json says and never rewrites it. Only when the lockfile
  // does not match package.json (someone edited dependencies without running npm install) do we fall back
  // to `npm install`, which rewrites the lockfile: say so, because that change must be committed.
  console.log('nalar: installing npm dependencies (npm ci, exactly as package-lock.json says)...');
  const ci = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: ['inherit', 'inherit', 'pipe'] });
  const ciErrors = ci.stderr?.toString() ?? '';
  process.stderr.write(ciErrors);
  if (ci.status !== 0) {
    if (!/can only install packages when your package\.json and package-lock\.json/.test(ciErrors)) {
      fail(`npm ci failed (exit ${ci.status}); fix the error above and run again.`);
    }
    console.error(
      'nalar: package-lock.json does not match package.json, so npm ci refused it. Falling back to npm install,\n' +
        'which rewrites package-lock.json: review and commit that change (git diff package-lock.json).',
    );
    const res = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
    if (res.status !== 0) fail(`npm install failed (exit ${res.status}); fix the error above and run again.`);
  }
}

const child = spawn(process.execPath, ['--import', 'tsx', ...entryArgs(entries[command]), ...process.argv.slice(3)], {
  cwd: root,
  stdio: 'inherit',
});
// A terminal's Ctrl-C reaches the whole foreground group, the child included: let the child handle it and
// report its own exit code. A signal sent to this process alone is passed on.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (child.exitCode === null) child.kill(signal);
  });
}
// npm does not pass SIGTERM on to its script: it just dies, and we are re-parented. Treat the loss of our
// parent as SIGTERM so the stack stops instead of running on as orphans.
const parent = process.ppid;
const watchParent = setInterval(() => {
  if (process.ppid !== parent && child.exitCode === null) {
    clearInterval(watchParent);
    child.kill('SIGTERM');
  }
}, 500);
child.on('exit', (code, signal) => {
  clearInterval(watchParent);
  process.exit(code ?? (signal ? 1 : 0));
});
