/**
 * The activity behind the first example workflow. It answers from a fixed rule so the foundation can be
 * tested end to end before the model backends exist; the LLM-backed agents replace it as the real path.
 */
import { ErrorCode, nalarFailure } from '../common/errors';

export interface AnswerQuestionInput {
  question: string;
  sessionId: string;
}

/** Answers a question; rejects an empty one with a non-retryable `NALAR_ERR_INVALID_INPUT` failure. */
export async function answerQuestion(input: AnswerQuestionInput): Promise<string> {
  const question = input.question.trim();
  if (!question) {
    throw nalarFailure(ErrorCode.INVALID_INPUT, 'question must not be empty');
  }
  const words = question.split(/\s+/).length;
  return `You asked "${question}" (${words} word${words === 1 ? '' : 's'}) in session ${input.sessionId}.`;
}
