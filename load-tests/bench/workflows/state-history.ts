/**
 * The workflow of `npm run bench -- state` (history part): an agent conversation loop in which every step
 * sends the whole conversation to an activity and gets it back one turn longer, as an agent that keeps its
 * context in workflow variables does. Bundled only by the benchmark's own in-process worker.
 */
import { proxyActivities } from '@temporalio/workflow';

/** Activities of the history benchmark (implemented in `state/history.ts`). */
export interface StateHistoryActivities {
  /** Returns `conversation` with turn number `turn` (about 1 KB of JSON) appended on a new line. */
  addTurn(input: { conversation: string; turn: number }): Promise<string>;
}

const { addTurn } = proxyActivities<StateHistoryActivities>({
  startToCloseTimeout: '1 minute',
  // A payload Temporal rejects fails the same way every time: fail the run instead of retrying forever.
  retry: { maximumAttempts: 3 },
});

/** Runs `steps` agent steps over `conversation`; returns only its final length (a small result). */
export async function stateHistoryBenchWorkflow(input: {
  conversation: string;
  steps: number;
}): Promise<{ length: number; steps: number }> {
  let conversation = input.conversation;
  for (let turn = 1; turn <= input.steps; turn++) {
    conversation = await addTurn({ conversation, turn });
  }
  return { length: conversation.length, steps: input.steps };
}
