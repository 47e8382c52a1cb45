/**
 * The list of workflow-side paths (workflow-side.json) for code that bundles workflows: tests and benchmarks
 * assert that every entry they hand to the bundler is a file ESLint lints as workflow code.
 */
import path from 'node:path';
import workflowSide from './workflow-side.json';

const root = path.resolve(__dirname, '..', '..');
const patterns = workflowSide.patterns.map((p) => new RegExp(p));

/** True for a repo-relative path (with '/') that ESLint lints as workflow code. */
export function isWorkflowSideFile(rel: string): boolean {
  return patterns.some((re) => re.test(rel));
}

/**
 * Fails unless `file` is where ESLint applies the sandbox allow-list (scripts/lint/workflow-side.json): every
 * entry a test or benchmark bundles is linted as workflow code, and the allow-list keeps everything it imports
 * there too.
 */
export function assertWorkflowSide(file: string): void {
  const rel = path.relative(root, path.resolve(file)).split(path.sep).join('/');
  if (!isWorkflowSideFile(rel)) {
    throw new Error(`${rel} is bundled as workflow code but is not workflow-side: move it under a workflows/ folder`);
  }
}
