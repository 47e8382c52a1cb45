/**
 * The worker's stale-stub check: the same check as `nalar stubs --check` on a throw-away copy of definitions and
 * stubs, remembered while nothing changes; and a worker process that finds stale stubs refuses to start, which
 * the supervisor reports with the error code and the command that fixes it, exiting non-zero.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ErrorCode, hasErrorCode, type NalarError } from '../../common/errors';
import { createLogger } from '../../common/log';
import { createFixture, type Fixture } from '../../stubs/generator/fixtures';
import { generateStubs } from '../../stubs/generator/generate';
import { Supervisor } from '../supervisor/supervisor';
import { workerProcess } from '../supervisor/worker-process';
import { waitFor } from '../../test/helpers/wait-for';
import { checkStubs } from './stubs-check';

// The generator type-checks the definitions: seconds on a loaded machine.
jest.setTimeout(120_000);

const tool = (methods: string[]): string =>
  `import { defineTool } from 'DEFINE';\nexport const probe = defineTool({ name: 'probe', methods: {\n` +
  methods.map((m) => `  async ${m}(input: { text: string }): Promise<string> { return input.text; },\n`).join('') +
  `} });\n`;

let fx: Fixture;
let dataDir: string;

beforeEach(async () => {
  fx = createFixture();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nalar-stubs-check-'));
  fx.write('probe.ts', tool(['echo']));
  await generateStubs({ definitionsDir: fx.defs, outDir: fx.out });
});

afterEach(() => {
  fx.remove();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function staleError(run: Promise<unknown>): Promise<NalarError> {
  const err = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(hasErrorCode(err, ErrorCode.STUBS_STALE)).toBe(true);
  return err as NalarError;
}

test('passes on current stubs, is remembered, and fails with NALAR_ERR_STUBS_STALE once a method is added', async () => {
  const cacheFile = path.join(dataDir, 'stubs-check.json');
  const options = { definitionsDir: fx.defs, outDir: fx.out, cacheFile };
  expect(await checkStubs(options)).toMatchObject({ cached: false });
  expect(await checkStubs(options)).toMatchObject({ cached: true });

  fx.write('probe.ts', tool(['echo', 'critique']));
  const err = await staleError(checkStubs(options));
  // The message of `nalar stubs --check`, with the command that fixes it.
  expect(err.message).toMatch(/^generated stubs are out of date; run `npm run stubs` to regenerate them:\n {2}stale: /);
  expect(err.message).toContain('/out/probe.ts');

  // Regenerated: current again (and a full check, since the files changed).
  await generateStubs({ definitionsDir: fx.defs, outDir: fx.out });
  expect(await checkStubs(options)).toMatchObject({ cached: false });
});

test('a stale stub file edited back by hand is not hidden by the remembered check', async () => {
  const cacheFile = path.join(dataDir, 'stubs-check.json');
  const options = { definitionsDir: fx.defs, outDir: fx.out, cacheFile };
  await checkStubs(options);
  fs.appendFileSync(path.join(fx.out, 'probe.ts'), '// edited\n');
  await staleError(checkStubs(options));
});

test('npm start: a worker that finds stale stubs refuses to start; the supervisor says why and stops with 1', async () => {
  fx.write('probe.ts', tool(['echo', 'critique']));
  const lines: string[] = [];
  const worker = workerProcess({
    index: 1,
    taskQueue: 'unused',
    metricsPort: 0,
    runsStateJanitor: false,
    env: { ...process.env, NALAR_DATA_DIR: dataDir, NALAR_STUBS_CHECK: 'true' },
    command: {
      module: path.join(__dirname, '..', '..', 'test', 'fixtures', 'stale-stubs-worker.ts'),
      args: [fx.defs, fx.out],
    },
  });
  const supervisor = new Supervisor([worker], {
    log: createLogger('nalar', 'info', (line) => lines.push(line)),
    sink: (name, _stream, line) => lines.push(`[${name}] ${line}`),
    readinessTimeoutMs: 120_000,
    shutdownGraceMs: 10_000,
  });
  const err = await staleError(supervisor.start());
  expect(err.message).toMatch(/^worker-1 refused to start: generated stubs are out of date; run `npm run stubs`/);
  await supervisor.stop(1);
  expect(await supervisor.finished).toBe(1);
  // It exited by itself (not restarted, not stopped), and its own output says why.
  expect(await supervisor.processes[0]?.process.exited).toEqual({ code: 1, signal: null });
  await waitFor(
    () => lines.some((l) => l.startsWith('[worker-1] NALAR_ERR_STUBS_STALE: generated stubs are out of date')),
    {
      what: "the worker's refusal in its output",
    },
  );
});

test('NALAR_STUBS_CHECK=false starts the worker on stale stubs', async () => {
  fx.write('probe.ts', tool(['echo', 'critique']));
  const worker = workerProcess({
    index: 1,
    taskQueue: 'unused',
    metricsPort: 0,
    runsStateJanitor: false,
    env: { ...process.env, NALAR_DATA_DIR: dataDir, NALAR_STUBS_CHECK: 'false' },
    command: {
      module: path.join(__dirname, '..', '..', 'test', 'fixtures', 'stale-stubs-worker.ts'),
      args: [fx.defs, fx.out],
    },
  });
  const supervisor = new Supervisor([worker], {
    log: createLogger('nalar', 'error', () => undefined),
    sink: () => undefined,
    readinessTimeoutMs: 120_000,
    shutdownGraceMs: 10_000,
  });
  try {
    await supervisor.start();
    expect(supervisor.processes[0]?.process.running).toBe(true);
  } finally {
    await supervisor.stop(0);
  }
});
