/**
 * `npm run dev` (data-plane/supervisor/main.ts --watch) on a copy of the repo: a change of activity code
 * restarts the worker, which then serves the changed code; a syntax error leaves the stack up and waiting;
 * a changed definition regenerates the stubs before the restart. The copy uses the run's dev server (so
 * dev mode starts workers only) and this checkout's node_modules.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { helloAgentWorkflow } from '../workflows';
import { waitFor } from './helpers/wait-for';
import { connectTestEnv, uniqueTaskQueue } from './temporal';

const root = path.resolve(__dirname, '..');

// Every restart bundles the workflows again: slow on a loaded machine.
jest.setTimeout(300_000);

let copy: string;
let env: TestWorkflowEnvironment;
let dev: ChildProcess | undefined;
let output = '';

/** The repo's files (tracked and new, as in this working tree) in a temporary folder, node_modules linked. */
function copyRepo(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nalar-dev-'));
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((f) => f && !f.startsWith('load-tests/results/'));
  for (const f of files) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    try {
      cpSync(path.join(root, f), path.join(dir, f));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // deleted but not yet committed
    }
  }
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

function edit(file: string, change: (text: string) => string): void {
  const full = path.join(copy, file);
  writeFileSync(full, change(readFileSync(full, 'utf8')));
}

const count = (text: string): number => output.split(text).length - 1;

/** Waits until `text` has been printed more than `before` times; fails at once if dev mode exits. */
function waitForOutput(text: string, before: number): Promise<unknown> {
  return waitFor(
    () => {
      if (dev?.exitCode !== null) throw new Error(`dev mode exited (${dev?.exitCode}):\n${output}`);
      return count(text) > before;
    },
    { what: () => `"${text}" in the output:\n${output}`, timeoutMs: 180_000, intervalMs: 100 },
  );
}

beforeAll(async () => {
  env = await connectTestEnv();
  copy = copyRepo();
});

afterAll(async () => {
  if (dev?.pid && dev.exitCode === null) process.kill(-dev.pid, 'SIGKILL');
  await env?.teardown();
  rmSync(copy, { recursive: true, force: true });
});

test('npm run dev restarts the worker on a change, survives a syntax error and regenerates stubs', async () => {
  const taskQueue = uniqueTaskQueue('npm-dev');
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NALAR_DEV_SERVER: 'false',
    NALAR_SIM: 'false',
    TEMPORAL_ADDRESS: process.env.NALAR_TEST_TEMPORAL_ADDRESS,
    NALAR_TASK_QUEUE: taskQueue,
    NALAR_DATA_DIR: path.join(copy, '.nalar', 'data'),
    NALAR_METRICS_PORT: '0',
    NALAR_CODEC_PORT: '0',
    NALAR_CONTROLLER_PORT: '0',
    NALAR_STATE_GC_INTERVAL: '0',
    NALAR_SHUTDOWN_GRACE: '60 seconds',
  };
  delete childEnv.FORCE_COLOR;
  dev = spawn(process.execPath, ['--import', 'tsx', 'data-plane/supervisor/main.ts', '--watch'], {
    cwd: copy,
    env: childEnv,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  dev.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  dev.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  await waitForOutput('Press Ctrl-C to stop', 0);
  // stdout and stderr are separate pipes: the log line may arrive after the banner.
  await waitForOutput('watching workflows, activities, stubs', 0);
  const ask = async (question: string): Promise<string> => {
    const result = await env.client.workflow.execute<typeof helloAgentWorkflow>('helloAgentWorkflow', {
      taskQueue,
      workflowId: `npm-dev-${Date.now()}`,
      args: [{ question }],
    });
    return result.answer;
  };
  expect(await ask('first?')).toContain('You asked "first?"');

  // A change of activity code: the worker restarts and serves the new code.
  const restarted = count('workers restarted with the changed code');
  edit('activities/hello-agent.ts', (t) => t.replace('`You asked ', '`Dev mode heard '));
  await waitForOutput('workers restarted with the changed code', restarted);
  expect(output).toContain('changed: activities/hello-agent.ts');
  expect(output).toMatch(/stopped worker-1 \(exit code 0\)[\s\S]*starting worker-1/); // old one gone first
  expect(await ask('second?')).toContain('Dev mode heard "second?"');

  // A syntax error: reported, the stack keeps running and waits for the next change.
  const failed = count('workers did not start');
  edit('activities/hello-agent.ts', (t) =>
    t.replace('export async function answerQuestion', 'export async function ('),
  );
  await waitForOutput('workers did not start', failed);
  expect(dev.exitCode).toBeNull();

  // Fixed, together with a new tool method: stubs are regenerated, then the worker restarts.
  const again = count('workers restarted with the changed code');
  edit('activities/agents/text-tools.ts', (t) =>
    t.replace(
      '    /** Counts the words of the text. */',
      '    /** Lower-cases the text. */\n    async whisper(input: TextInput): Promise<string> {\n      return input.text.toLowerCase();\n    },\n    /** Counts the words of the text. */',
    ),
  );
  edit('activities/hello-agent.ts', (t) =>
    t.replace('export async function (', 'export async function answerQuestion'),
  );
  await waitForOutput('workers restarted with the changed code', again);
  expect(output).toMatch(/stubs regenerated \(npm run stubs\): .*written stubs\/generated\/textTools\.ts/);
  expect(readFileSync(path.join(copy, 'stubs/generated/textTools.ts'), 'utf8')).toContain('whisper');
  expect(await ask('third?')).toContain('Dev mode heard "third?"');
  expect(output).not.toContain('\x1b[');

  process.kill(-(dev.pid as number), 'SIGINT');
  const code = await new Promise<number | null>((resolve) =>
    dev?.exitCode !== null ? resolve(dev?.exitCode ?? null) : dev.on('exit', resolve),
  );
  expect(code).toBe(0);
  expect(output).toContain('[nalar] stopped (exit code 0)');
});
