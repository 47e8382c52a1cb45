/** The first agent workflow: one question, one agent activity, one answer. */
import { ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type * as activities from '../activities';
import type { ErrorCode } from '../common/errors';

// Workflow code does not value-import common/: the annotation fails the type check if the code is not registered.
const INVALID_INPUT: typeof ErrorCode.INVALID_INPUT = 'NALAR_ERR_INVALID_INPUT';

const { answerQuestion } = proxyActivities<typeof activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3 },
});

export interface HelloAgentInput {
  question: string;
  /** Conversation this request belongs to. @default the workflow id */
  sessionId?: string;
}

export interface HelloAgentResult {
  sessionId: string;
  answer: string;
}

/** Asks the answering agent one question; fails with `NALAR_ERR_INVALID_INPUT` on a missing question. */
export async function helloAgentWorkflow(input: HelloAgentInput): Promise<HelloAgentResult> {
  if (typeof input?.question !== 'string' || input.question.trim() === '') {
    throw ApplicationFailure.nonRetryable('input.question must be a non-empty string', INVALID_INPUT);
  }
  const sessionId = input.sessionId ?? workflowInfo().workflowId;
  const answer = await answerQuestion({ question: input.question, sessionId });
  return { sessionId, answer };
}
