/** The first agent workflow: one question, one agent activity, one answer. */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type * as activities from '../activities';
import { withInput } from '../stubs/workflow/input';
import { helloAgentInput } from './inputs';

export type { HelloAgentInput } from './inputs';

const { answerQuestion } = proxyActivities<typeof activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3 },
});

export interface HelloAgentResult {
  sessionId: string;
  answer: string;
}

/** Asks the answering agent one question; fails with `NALAR_ERR_INVALID_INPUT` on a missing or blank question. */
export const helloAgentWorkflow = withInput(
  helloAgentInput,
  async function helloAgentWorkflow(input): Promise<HelloAgentResult> {
    const sessionId = input.sessionId ?? workflowInfo().workflowId;
    const answer = await answerQuestion({ question: input.question, sessionId });
    return { sessionId, answer };
  },
);
