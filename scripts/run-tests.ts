/**
 * `npm test`: provisions the toolchain, then runs the type check, ESLint and Jest (unit and integration
 * tests against a real Temporal dev server), and prints `tests: N passed, N failed` as its last line.
 * Every step runs even when an earlier one failed, so one run shows every problem. Jest's tests count one
 * each; the toolchain, type check and lint steps count one each.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { isNalarError } from '../common/errors';
import { packageFile } from './package-bin';
import { provisionTools } from './toolchain';

const usage = `Usage: npm test [-- [--skip=toolchain,typecheck,stubs,lint,jest] [jest arguments]] [--help]

Runs, in order: toolchain provisioning, tsc --noEmit, the stale-stub check (nalar stubs --check), eslint,
jest. Extra arguments go to jest, e.g.
'npm test -- --skip=typecheck,lint test/hello-agent' runs one test file. The last line is
'tests: N passed, N failed'; a summary is written to .nalar/test-summary.json.`;

const steps = ['toolchain', 'typecheck', 'stubs', 'lint', 'jest'] as const;
type Step = (typeof steps)[number];

const root = path.resolve(__dirname, '..');
const reportDir = path.join(root, '.nalar');
const jestResultsFile = path.join(reportDir, 'jest-results.json');

/** The part of Jest's `--json` output this runner reads. */
const jestResults = z.object({
  numPassedTests: z.number(),
  numFailedTests: z.number(),
  numRuntimeErrorTestSuites: z.number(),
});

interface StepResult {
  step: Step;
  passed: number;
  failed: number;
  seconds: number;
}

function run(command: string, args: string[]): boolean {
  const res = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  return res.status === 0;
}

function runJest(jestArgs: string[]): { passed: number; failed: number } {
  rmSync(jestResultsFile, { force: true });
  const ok = run(process.execPath, [
    packageFile('jest', 'bin/jest.js'),
    '--json',
    `--outputFile=${jestResultsFile}`,
    ...jestArgs,
  ]);
  try {
    const r = jestResults.parse(JSON.parse(readFileSync(jestResultsFile, 'utf8')));
    // A suite that fails to load has no test results; count it so it cannot pass unnoticed.
    const failed = r.numFailedTests + r.numRuntimeErrorTestSuites;
    return { passed: r.numPassedTests, failed: failed === 0 && !ok ? 1 : failed };
  } catch {
    return { passed: 0, failed: 1 };
  }
}

async function runStep(step: Step, jestArgs: string[]): Promise<{ passed: number; failed: number }> {
  const one = (ok: boolean) => ({ passed: ok ? 1 : 0, failed: ok ? 0 : 1 });
  switch (step) {
    case 'toolchain':
      try {
        await provisionTools();
        return one(true);
      } catch (err) {
        console.error(`nalar: ${isNalarError(err) ? `${err.code}: ${err.message}` : String(err)}`);
        return one(false);
      }
    case 'typecheck':
      return one(run(process.execPath, [packageFile('typescript', 'bin/tsc'), '--noEmit', '-p', 'tsconfig.json']));
    case 'stubs':
      // Generated stubs must match the definitions (`npm run stubs` regenerates them).
      return one(run(process.execPath, ['--import', 'tsx', path.join(root, 'stubs', 'cli.ts'), '--check']));
    case 'lint':
      return one(run(process.execPath, [packageFile('eslint', 'bin/eslint.js'), '--max-warnings', '0', '.']));
    case 'jest':
      return runJest(jestArgs);
  }
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(usage);
    return 0;
  }
  const skipArg = args.find((a) => a.startsWith('--skip='));
  const skip = new Set(skipArg ? skipArg.slice('--skip='.length).split(',') : []);
  const unknown = [...skip].filter((s) => !(steps as readonly string[]).includes(s));
  if (unknown.length) {
    console.error(`nalar: unknown step(s) in --skip: ${unknown.join(', ')}\n\n${usage}`);
    return 2;
  }
  const jestArgs = args.filter((a) => a !== skipArg);

  mkdirSync(reportDir, { recursive: true });
  const results: StepResult[] = [];
  for (const step of steps) {
    if (skip.has(step)) continue;
    console.log(`\n=== ${step} ===`);
    const started = Date.now();
    const r = await runStep(step, jestArgs);
    results.push({ step, ...r, seconds: Math.round((Date.now() - started) / 100) / 10 });
  }
  const passed = results.reduce((n, r) => n + r.passed, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  writeFileSync(path.join(reportDir, 'test-summary.json'), JSON.stringify({ passed, failed, steps: results }, null, 2));
  console.log(
    '\n' + results.map((r) => `${r.step.padEnd(10)} ${r.passed} passed, ${r.failed} failed (${r.seconds}s)`).join('\n'),
  );
  console.log(`tests: ${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    console.log('tests: 0 passed, 1 failed');
    process.exit(1);
  },
);
