/**
 * The ESLint boundary of the workflow sandbox, checked with the project's real config: code under
 * workflows/ may not import Node built-ins or I/O libraries, and reaches activities only as types.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '..');
const workflowFile = 'workflows/hello-agent.ts';
const activityFile = 'activities/hello-agent.ts';

interface Snippet {
  file: string;
  code: string;
}

const forbiddenInWorkflows: [string, string][] = [
  ["import { readFileSync } from 'fs';\nexport const x = readFileSync;\n", "'fs' import is restricted"],
  ["import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n", "'node:fs' import is restricted"],
  ["import OpenAI from 'openai';\nexport const x = OpenAI;\n", "'openai' import is restricted"],
  [
    "import { Client } from '@temporalio/client';\nexport const x = Client;\n",
    "'@temporalio/client' import is restricted",
  ],
  ["import { answerQuestion } from '../activities';\nexport const x = answerQuestion;\n", 'only through `import type`'],
];

const allowed: Snippet[] = [
  {
    file: workflowFile,
    code: [
      "import { proxyActivities } from '@temporalio/workflow';",
      "import type * as activities from '../activities';",
      "export const acts = proxyActivities<typeof activities>({ startToCloseTimeout: '1 minute' });",
      '',
    ].join('\n'),
  },
  { file: activityFile, code: "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n" },
];

const floating: Snippet = { file: activityFile, code: 'async function f(): Promise<void> {}\nf();\nexport {};\n' };

let results: { file: string; errors: string[] }[];

beforeAll(() => {
  const snippets: Snippet[] = [
    ...forbiddenInWorkflows.map(([code]) => ({ file: workflowFile, code })),
    ...allowed,
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

test.each(forbiddenInWorkflows.map(([code, message], i) => [code.split('\n')[0], message, i] as const))(
  'workflow code may not use %s',
  (_line, message, i) => {
    expect(results[i]?.errors.join('\n')).toContain(message);
  },
);

test('workflow code may import activities as types and use the workflow API', () => {
  expect(results[forbiddenInWorkflows.length]?.errors).toEqual([]);
});

test('worker-side code may use Node built-ins', () => {
  expect(results[forbiddenInWorkflows.length + 1]?.errors).toEqual([]);
});

test('floating promises are errors everywhere', () => {
  expect(results[forbiddenInWorkflows.length + 2]?.errors.join('\n')).toContain('no-floating-promises');
});
