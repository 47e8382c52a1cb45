/**
 * The architecture rules, checked with the project's real ESLint config on code snippets linted as if they
 * were files of the repo: workflow-side files import values only from the sandbox allow-list, and every
 * other folder imports only what its README's `May import:` line allows.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isWorkflowSideFile } from '../scripts/lint/workflow-side';

const root = path.resolve(__dirname, '..');

/** Top-level folders of the tree git tracks (not node_modules, build output or the dot folders). */
function topLevelFolders(): string[] {
  const files = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).split('\n');
  const folders = new Set(files.filter((f) => f.includes('/')).map((f) => f.split('/')[0]!));
  return [...folders].filter((f) => !f.startsWith('.'));
}

interface Snippet {
  file: string;
  code: string;
}

/** Workflow-side files of every kind the worker bundles: workflows, fixtures, benchmark workflows, runtime. */
const workflowSideFiles = [
  'workflows/hello-agent.ts',
  'test/fixtures/workflows/futures.ts',
  'load-tests/bench/workflows/state-history.ts',
  'activities/tools/test-fixtures/workflows/tools.ts',
  'stubs/workflow/future.ts',
  'stubs/generated/writer.ts',
  'state/workflow/move-session.ts',
];

/** `[file, code, expected message]`: imports the sandbox allow-list rejects. */
const rejectedInWorkflows: [string, string, string][] = [
  ['workflows/hello-agent.ts', "import { currentFuture } from '../stubs/future-context';", 'is worker-side code'],
  ['workflows/hello-agent.ts', "import { defineAgent } from '../stubs/define';", 'is worker-side code'],
  ['workflows/hello-agent.ts', "import { SimPool } from '../sim/pool';", 'is worker-side code'],
  ['workflows/hello-agent.ts', "import { answerQuestion } from '../activities';", 'is worker-side code'],
  ['workflows/hello-agent.ts', "import { readFileSync } from 'node:fs';", "'node:fs' is not allowed in workflow code"],
  ['workflows/hello-agent.ts', "import { readFileSync } from 'fs';", "'fs' is not allowed in workflow code"],
  ['workflows/hello-agent.ts', "import OpenAI from 'openai';", "'openai' is not allowed in workflow code"],
  ['workflows/hello-agent.ts', "import { Client } from '@temporalio/client';", "'@temporalio/client' is not allowed"],
  [
    'stubs/workflow/future.ts',
    "import { msToNumber } from '@temporalio/common/lib/time';",
    "'@temporalio/common/lib/time' is not allowed",
  ],
  ['stubs/workflow/future.ts', "import { z } from 'zod-mini';", "'zod-mini' is not allowed in workflow code"],
  ['test/fixtures/workflows/futures.ts', "import { ManagedList } from '../../../state/managed';", 'worker-side'],
  [
    'load-tests/bench/workflows/state-history.ts',
    "import { loadConfig } from '../../../common/config';",
    'worker-side',
  ],
  ['state/workflow/move-session.ts', "import { moveSession } from '../placement/move-session';", 'worker-side'],
  ['stubs/generated/writer.ts', "const define = require('../define');", 'is worker-side code'],
  ['workflows/hello-agent.ts', "export { defineAgent } from '../stubs/define';", 'is worker-side code'],
  ['workflows/hello-agent.ts', "export const load = () => import('../common/config');", 'is worker-side code'],
];

/** Imports workflow-side files may make. */
const allowedInWorkflows: Snippet[] = [
  "import { proxyActivities, sleep } from '@temporalio/workflow';",
  "import type * as activities from '../activities';",
  "import type { Definition } from '../stubs/define';",
  "import { type currentFuture } from '../stubs/future-context';",
  "import type { Duration } from '@temporalio/common';",
  "import { useSession } from '../stubs/workflow';",
  "import { writer } from '../stubs/generated';",
  "import { shouldContinueAsNew } from '../state/workflow';",
  "import { textPipelineWorkflow } from './text-pipeline';",
  "import { z } from 'zod';",
  "import { describeIssues } from '../common/workflow/input-issues';",
].map((line) => ({ file: 'workflows/hello-agent.ts', code: `${line}\nexport {};\n` }));

/** `[file, code, expected message]`: worker-side imports a folder's README does not allow. */
const rejectedByLayers: [string, string, string][] = [
  ['state/managed.ts', "import { callLlm } from '../activities/llm';", 'state/ may not import activities/'],
  ['common/log.ts', "import { loadConfig } from '../state/managed';", 'common/ may not import state/'],
  [
    'control-plane/local-controller/local-controller.ts',
    "import { createNalarWorker } from '../../data-plane/worker/worker';",
    'control-plane/ may not import data-plane/',
  ],
  [
    'control-plane/local-controller/local-controller.ts',
    "import { isNalarFuture } from '../../stubs/workflow/future';",
    'only with `import type`',
  ],
  ['common/log.ts', "import OpenAI from 'openai';", "may not import the package 'openai'"],
  ['sim/engine.ts', "import { Client } from '@temporalio/client';", "may not import the package '@temporalio/client'"],
];

/** Imports the READMEs allow. */
const allowedByLayers: Snippet[] = [
  { file: 'state/managed.ts', code: "import { loadConfig } from '../common/config';\nexport const c = loadConfig;\n" },
  {
    file: 'activities/hello-agent.ts',
    code: "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n",
  },
  {
    file: 'control-plane/local-controller/local-controller.ts',
    code: "import type { FutureEvent } from '../../stubs/workflow/types';\nexport type E = FutureEvent;\n",
  },
  { file: 'test/some.int.test.ts', code: "import { SimPool } from '../sim/pool';\nexport const p = SimPool;\n" },
];

const floating: Snippet = {
  file: 'activities/hello-agent.ts',
  code: 'async function f(): Promise<void> {}\nf();\nexport {};\n',
};

const toSnippet = ([file, code]: [string, string, string]): Snippet => ({ file, code: `${code}\nexport {};\n` });

let results: { file: string; errors: string[] }[];

/** Errors of the architecture rules only (snippets may trip others, such as unused imports). */
const architectureErrors = (i: number): string[] => (results[i]?.errors ?? []).filter((e) => e.startsWith('nalar/'));
const offsets = {
  rejectedInWorkflows: 0,
  allowedInWorkflows: rejectedInWorkflows.length,
  rejectedByLayers: rejectedInWorkflows.length + allowedInWorkflows.length,
  allowedByLayers: rejectedInWorkflows.length + allowedInWorkflows.length + rejectedByLayers.length,
  floating: rejectedInWorkflows.length + allowedInWorkflows.length + rejectedByLayers.length + allowedByLayers.length,
};

beforeAll(() => {
  const snippets: Snippet[] = [
    ...rejectedInWorkflows.map(toSnippet),
    ...allowedInWorkflows,
    ...rejectedByLayers.map(toSnippet),
    ...allowedByLayers,
    floating,
  ];
  const res = spawnSync(process.execPath, [path.join(__dirname, 'helpers', 'lint-snippets.mjs')], {
    cwd: root,
    input: JSON.stringify(snippets),
    encoding: 'utf8',
  });
  if (res.status !== 0) throw new Error(`lint-snippets failed: ${res.stderr}`);
  results = JSON.parse(res.stdout) as typeof results;
});

describe('workflow sandbox allow-list', () => {
  test.each(rejectedInWorkflows.map(([file, code, message], i) => [file, code, message, i] as const))(
    '%s may not use: %s',
    (_file, _code, message, i) => {
      expect(results[offsets.rejectedInWorkflows + i]?.errors.join('\n')).toContain(message);
    },
  );

  test.each(allowedInWorkflows.map((s, i) => [s.code.split('\n')[0], i] as const))('workflows may use: %s', (_l, i) => {
    expect(architectureErrors(offsets.allowedInWorkflows + i)).toEqual([]);
  });

  test('every kind of file the worker bundles is workflow-side', () => {
    for (const file of workflowSideFiles) expect([file, isWorkflowSideFile(file)]).toEqual([file, true]);
    for (const file of ['stubs/define.ts', 'state/managed.ts', 'data-plane/worker/worker.ts']) {
      expect([file, isWorkflowSideFile(file)]).toEqual([file, false]);
    }
  });
});

describe("each folder imports only what its README's `May import:` line allows", () => {
  test.each(rejectedByLayers.map(([file, code, message], i) => [file, code, message, i] as const))(
    '%s may not use: %s',
    (_file, _code, message, i) => {
      expect(results[offsets.rejectedByLayers + i]?.errors.join('\n')).toContain(message);
    },
  );

  test.each(allowedByLayers.map((s, i) => [s.file, s.code.split('\n')[0], i] as const))(
    '%s may use: %s',
    (_f, _l, i) => {
      expect(architectureErrors(offsets.allowedByLayers + i)).toEqual([]);
    },
  );

  test('every top-level code folder has a README with a May import line', () => {
    const codeFolders = topLevelFolders().filter((f) => f !== 'docs');
    expect(codeFolders.length).toBeGreaterThan(8);
    for (const folder of codeFolders) {
      const readme = readFileSync(path.join(root, folder, 'README.md'), 'utf8');
      expect([folder, /^(\s*-\s*)?May import:/m.test(readme)]).toEqual([folder, true]);
    }
  });
});

test("the README's layout table lists exactly the top-level folders", () => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Layout'), readme.indexOf('\n## ', readme.indexOf('## Layout') + 1));
  const listed = [...section.matchAll(/^\| `([a-z0-9-]+)\/` +\|/gm)].map((m) => m[1]);
  expect(listed.sort()).toEqual(topLevelFolders().sort());
});

test('floating promises are errors everywhere', () => {
  expect(results[offsets.floating]?.errors.join('\n')).toContain('no-floating-promises');
});
