/**
 * Test-only workflow for `tools.int.test.ts`: searches the corpus, then runs code, through the tool
 * activities on a real worker. It reaches the tools only through `import type` + `proxyActivities`, like
 * every workflow, and imports no Node built-in.
 */
import { proxyActivities } from '@temporalio/workflow';
import type * as tools from '../../index';

const { searchCorpus, runCode } = proxyActivities<typeof tools>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 2 },
});

export interface ToolsWorkflowInput {
  query: string;
  code: string;
  tests: string[];
}

export interface ToolsWorkflowResult {
  hits: Awaited<ReturnType<typeof tools.searchCorpus>>;
  run: Awaited<ReturnType<typeof tools.runCode>>;
}

/** Calls `searchCorpus` then `runCode`; an activity failure (invalid input) fails the workflow with it as cause. */
export async function toolsWorkflow(input: ToolsWorkflowInput): Promise<ToolsWorkflowResult> {
  const hits = await searchCorpus({ query: input.query, topK: 3 });
  const run = await runCode({ code: input.code, tests: input.tests });
  return { hits, run };
}
