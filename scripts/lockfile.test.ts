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

/**
 * Whether `version` (x.y.z) satisfies an npm `engines` range, for the range forms the lockfile holds:
 * `a || b`, space-separated comparators (all must hold), operators `>=`, `>`, `<=`, `<`, `=`, `^`, `~`, and
 * partial versions or wildcards (`20`, `20.x`, `*`). Returns undefined for anything else, so the test names
 * a range it cannot read instead of guessing.
 */
function satisfies(version: string, range: string): boolean | undefined {
  const v = version.split('.').map(Number);
  const cmp = (a: number[], b: number[]): number => {
    for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
    return 0;
  };
  const comparator = (text: string): boolean | undefined => {
    const m = /^(>=|<=|>|<|=|\^|~)?v?(\*|\d+)(?:\.(\*|x|\d+))?(?:\.(\*|x|\d+))?$/i.exec(text);
    if (!m) return undefined;
    const op = m[1] ?? '';
    const parts = [m[2], m[3], m[4]].filter((p) => p !== undefined && !/^[*x]$/i.test(p)).map(Number);
    if (m[2] === '*') return op === '' || op === '>=';
    const base = [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0];
    // The exclusive upper bound of `^`, `~`, or a partial version such as `20` or `20.1`.
    const upper = (level: number): number[] => base.map((n, i) => (i < level ? n : i === level ? n + 1 : 0));
    const within = (level: number): boolean => cmp(v, base) >= 0 && cmp(v, upper(level)) < 0;
    switch (op) {
      case '>=':
        return cmp(v, base) >= 0;
      case '>':
        return parts.length < 3 ? cmp(v, upper(parts.length - 1)) >= 0 : cmp(v, base) > 0;
      case '<=':
        return parts.length < 3 ? cmp(v, upper(parts.length - 1)) < 0 : cmp(v, base) <= 0;
      case '<':
        return cmp(v, base) < 0;
      case '^':
        return within(base[0] !== 0 || parts.length === 1 ? 0 : base[1] !== 0 || parts.length === 2 ? 1 : 2);
      case '~':
        return within(parts.length === 1 ? 0 : 1);
      default:
        return within(parts.length - 1 < 2 ? parts.length - 1 : 3) || cmp(v, base) === 0;
    }
  };
  const results = range.split('||').map((set) => {
    const comparators = set
      .trim()
      .replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1')
      .split(/\s+/)
      .filter(Boolean);
    const values = comparators.map(comparator);
    return values.includes(undefined) ? undefined : values.every(Boolean);
  });
  if (results.includes(true)) return true;
  return results.includes(undefined) ? undefined : false;
}

test('the engines range reader agrees with npm on the forms the lockfile uses', () => {
  const cases: [string, boolean][] = [
    ['>=20.19.0', true],
    ['>=22', false],
    ['>= 18', true],
    ['^20.19.0 || ^22.12.0 || >=23', true],
    ['^20.20.0 || >=22', false],
    ['^18.18.0 || ^20.9.0 || >=21.1.0', true],
    ['18 || 20 || >=22', true],
    ['18 || >=22', false],
    ['>=16 || 14 >=14.17', true],
    ['6.* || 8.* || >= 10.*', true],
    ['>=0.8.x', true],
    ['~20.18.0', false],
    ['*', true],
  ];
  for (const [range, expected] of cases) expect([range, satisfies('20.19.0', range)]).toEqual([range, expected]);
});

test('every package the lockfile installs runs on the oldest Node the README promises', () => {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
  const oldest = /^>=(\d+\.\d+\.\d+)$/.exec(pkg.engines.node)?.[1];
  expect(oldest).toBeDefined();
  const [major, minor] = (oldest as string).split('.');
  // The README and package.json promise the same version.
  expect(readFileSync(path.join(root, 'README.md'), 'utf8')).toContain(`Node ${major}.${minor}+`);
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
  };
  const excluded = Object.entries(lock.packages).flatMap(([where, p]) => {
    const range = Array.isArray(p.engines) ? undefined : p.engines?.node;
    if (range === undefined || satisfies(oldest as string, range) === true) return [];
    // npm warns EBADENGINE on install; fix with an `overrides` entry or by bumping the package that pulls it in.
    return [`${where || 'package.json'}@${p.version ?? ''} needs node ${range}`];
  });
  expect(excluded).toEqual([]);
});
