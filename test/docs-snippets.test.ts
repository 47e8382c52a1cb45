/**
 * Docs that run: every TypeScript snippet of README.md and docs/ (sub-folders too) is type-checked as a file of
 * the repo (one TypeScript program, the repo's tsconfig), and the client snippets marked ```ts run are executed
 * against the test stack: the run's dev server, a real Nalar worker on a fresh task queue, the simulator.
 * How a snippet says where it lives, that it is a function body, or which hidden prelude it needs:
 * test/helpers/doc-snippets.ts. A failure names the Markdown file and line of the broken snippet.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig } from '../common/config';
import { nalarDataConverter } from '../state/payloads/data-converter';
import { extractSnippets, type DocSnippet } from './helpers/doc-snippets';
import { connectTestEnv, withNalarWorker } from './temporal';

const root = path.resolve(__dirname, '..');

// Each run snippet starts a tsx process and a workflow that may call the simulator: roomy on a loaded machine.
jest.setTimeout(180_000);

function documentedSnippets(): DocSnippet[] {
  // Guides in sub-folders (docs/control-plane/, docs/workloads/) too.
  const guides = readdirSync(path.join(root, 'docs'), { recursive: true, encoding: 'utf8' });
  const docs = ['README.md', ...guides.map((f) => `docs/${f.split(path.sep).join('/')}`)].filter((f) =>
    f.endsWith('.md'),
  );
  return docs.flatMap((doc) => extractSnippets(doc, readFileSync(path.join(root, doc), 'utf8')));
}

const snippets = documentedSnippets();

/** Type-checks every snippet in one program; returns one message per problem, located in the Markdown. */
function typeCheck(all: DocSnippet[]): string[] {
  const configFile = ts.readConfigFile(path.join(root, 'tsconfig.json'), (f) => ts.sys.readFile(f));
  const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, root);
  const virtual = new Map(all.map((s) => [path.join(root, s.file), s]));
  const host = ts.createCompilerHost(options);
  // Snippets are files that exist only in this program: they shadow a real file at the same path.
  const readFile = host.readFile.bind(host);
  host.readFile = (f) => virtual.get(f)?.code ?? readFile(f);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (f) => virtual.has(f) || fileExists(f);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (f, language, ...rest) => {
    const s = virtual.get(f);
    return s ? ts.createSourceFile(f, s.code, language) : getSourceFile(f, language, ...rest);
  };
  const program = ts.createProgram([...virtual.keys()], options, host);
  const problems: string[] = [];
  for (const [file, s] of virtual) {
    const source = program.getSourceFile(file);
    const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
    for (const d of diagnostics) {
      const codeLine = d.start === undefined || !source ? 0 : source.getLineAndCharacterOfPosition(d.start).line;
      const docLine = s.docLines[codeLine];
      const where = docLine === undefined ? `${s.doc}:${s.line} (hidden prelude or wrapper)` : `${s.doc}:${docLine}`;
      const text = s.code.split('\n')[codeLine]?.trim() ?? '';
      problems.push(`${where}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}\n    ${text}`);
    }
  }
  return problems;
}

test('the docs have TypeScript snippets, and client snippets marked to run', () => {
  expect(snippets.length).toBeGreaterThan(5);
  expect(snippets.filter((s) => s.run).map((s) => s.doc)).toEqual(
    expect.arrayContaining(['README.md', 'docs/first-agent-workflow.md']),
  );
});

test('every TypeScript snippet of README.md and docs/ type-checks as a file of the repo', () => {
  expect(typeCheck(snippets).join('\n')).toBe('');
});

test('a broken snippet is reported with its Markdown file and line', () => {
  const markdown = ['# Guide', '', '```ts', "const n: number = 'one';", '```', ''].join('\n');
  const broken = extractSnippets('docs/broken.md', markdown);
  const problems = typeCheck(broken);
  expect(problems).toHaveLength(1);
  expect(problems[0]).toMatch(/^docs\/broken\.md:4: TS2322 Type 'string' is not assignable to type 'number'/);
});

describe('client snippets run against the test stack', () => {
  let env: TestWorkflowEnvironment;
  let dataDir: string;

  beforeAll(async () => {
    env = await connectTestEnv();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'nalar-doc-snippets-'));
    // Agents in this process (the worker below) call the simulator the test setup started.
    process.env.NALAR_LLM_BASE_URL = process.env.NALAR_TEST_SIM_BASE_URL;
  });

  afterAll(async () => {
    await env?.teardown();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test.each(snippets.filter((s) => s.run).map((s) => [`${s.doc}:${s.line}`, s] as const))(
    '%s exits 0',
    async (_where, snippet) => {
      const settings = { TEMPORAL_ADDRESS: process.env.NALAR_TEST_TEMPORAL_ADDRESS, NALAR_DATA_DIR: dataDir };
      const dataConverter = nalarDataConverter(loadConfig({ env: { ...process.env, ...settings } }));
      await withNalarWorker(env, 'doc-snippet', { dataConverter }, async (taskQueue) => {
        const result = await runScript(snippet, { ...settings, NALAR_TASK_QUEUE: taskQueue });
        if (result.code !== 0) {
          throw new Error(`${snippet.doc}:${snippet.line}: the snippet exited ${result.code}:\n${result.output}`);
        }
      });
    },
  );
});

/**
 * Runs a snippet as a user runs a script (`npx tsx examples/x.ts`): written beside where it lives (a dot
 * file, so imports resolve the same), with the test stack's settings in the environment.
 */
async function runScript(
  snippet: DocSnippet,
  settings: Record<string, string | undefined>,
): Promise<{ code: number | null; output: string }> {
  const file = path.join(root, path.dirname(snippet.file), `.run-${process.pid}-${path.basename(snippet.file)}`);
  writeFileSync(file, snippet.code);
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      env: { ...process.env, ...settings },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    // A script that hangs (say, its workflow is never picked up) is a failure with its output, not a test timeout.
    const deadline = setTimeout(() => {
      output += '\n[killed: still running after 120 s]';
      child.kill('SIGKILL');
    }, 120_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    clearTimeout(deadline);
    return { code, output };
  } finally {
    rmSync(file, { force: true });
  }
}
