// ESLint flat config. Besides type-aware TypeScript rules, it enforces the architecture
// (scripts/lint/layers.mjs): workflow-side files import values only from the sandbox allow-list, and every
// other file imports only what the README of its folder allows.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { nalarPlugin } from './scripts/lint/layers.mjs';

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', '.nalar/', 'coverage/', 'dist/', 'jest.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.mjs', 'scripts/*.mjs', 'scripts/lint/*.mjs', 'test/helpers/*.mjs'] },
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  { files: ['**/*.mjs', '**/*.js'], languageOptions: { globals: globals.node } },
  // k6 scripts: plain JS modules run by k6 (not Node, not in tsconfig), with k6's globals; linted without types.
  {
    files: ['load-tests/k6/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false },
      globals: { __ENV: 'readonly', __VU: 'readonly', __ITER: 'readonly', open: 'readonly' },
    },
  },
  {
    files: ['**/*.ts', '**/*.mjs'],
    plugins: { nalar: nalarPlugin },
    rules: { 'nalar/workflow-sandbox': 'error', 'nalar/layers': 'error' },
  },
);
