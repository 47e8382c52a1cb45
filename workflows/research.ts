/**
 * A tool-calling agent workflow: the `researcher` model decides which tools to call; `agentLoop` runs every
 * call as a future (the calls of one reply in parallel) and feeds the results back until the model answers.
 */
import { library, researcher, textTools } from '../stubs/generated';
import { agentLoop, useSession } from '../stubs/workflow';
import { withInput } from '../stubs/workflow/input';
import { researchInput } from './inputs';

export type { ResearchInput } from './inputs';

export interface ResearchResult {
  answer: string;
  /** Model calls made (1 = answered without tools). */
  steps: number;
  /** The tools called, in the model's order. */
  toolsCalled: string[];
}

export const researchWorkflow = withInput(
  researchInput,
  async function researchWorkflow(input): Promise<ResearchResult> {
    useSession(input);
    const result = await agentLoop({
      model: (messages) => researcher.step({ messages, ...(input.toolChoice && { toolChoice: input.toolChoice }) }),
      tools: { search: library.search, countWords: textTools.countWords },
      messages: [{ role: 'user', content: input.question }],
      ...(input.maxSteps !== undefined && { maxSteps: input.maxSteps }),
    });
    const toolsCalled = result.messages.flatMap((m) =>
      m.role === 'assistant' ? (m.toolCalls ?? []).map((c) => c.name) : [],
    );
    return { answer: result.content, steps: result.steps, toolsCalled };
  },
);
