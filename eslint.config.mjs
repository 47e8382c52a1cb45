// ESLint flat config. Besides type-aware TypeScript rules, it enforces the workflow sandbox boundary:
// code under workflows/ (and the workflow side of stubs/) is replayed deterministically by Temporal, so it
// may not import Node built-ins, I/O libraries or worker-side Temporal packages, and it may reach
// activities only through `import type`.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Modules that do I/O or only exist outside the workflow sandbox. */
export const bannedInWorkflows = [
  ...builtinModules,
  'openai',
  'pg',
  'redis',
  'ioredis',
  'prom-client',
  'pino',
  'fastify',
  'zod/v4/locales',
  '@temporalio/activity',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/testing',
];

/** The rules that keep workflow code inside the sandbox (also used by the lint boundary test). */
export const workflowSandboxRules = {
  '@typescript-eslint/no-restricted-imports': [
    'error',
    {
      paths: bannedInWorkflows.map((name) => ({
        name,
        message: 'Workflow code runs in the deterministic sandbox: no Node built-ins or I/O libraries.',
      })),
      patterns: [
        { group: ['node:*'], message: 'Workflow code runs in the deterministic sandbox: no Node built-ins.' },
        {
          // Relative paths into the worker-side folders (not packages such as @temporalio/common).
          regex: '^(\\.{1,2}/)+(activities|control-plane|common)(/|$)',
          allowTypeImports: true,
          message: 'Workflow code reaches worker-side code only through `import type` and proxyActivities.',
        },
      ],
    },
  ],
};

/** Files that run inside the workflow sandbox. */
export const workflowFiles = ['workflows/**/*.ts', 'stubs/workflow/**/*.ts', 'stubs/generated/**/*.ts'];

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', '.nalar/', 'coverage/', 'dist/', 'jest.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.mjs', 'scripts/*.mjs', 'test/helpers/*.mjs'] } },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  { files: ['**/*.mjs', '**/*.js'], languageOptions: { globals: globals.node } },
  {
    files: workflowFiles,
    ignores: ['**/*.test.ts'],
    rules: workflowSandboxRules,
  },
);
