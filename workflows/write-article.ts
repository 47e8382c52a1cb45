/**
 * The "first agent workflow" of docs/first-agent-workflow.md: drafts on several topics in parallel (an
 * LLM-backed agent), joined into one article (a tool call that depends on every draft), then a shorter
 * version and a word count, both depending on the article.
 */
import { textTools, writer } from '../stubs/generated';
import { useSession } from '../stubs/workflow';
import { withInput } from '../stubs/workflow/input';
import { writeArticleInput } from './inputs';

export type { WriteArticleInput } from './inputs';

export interface WriteArticleResult {
  article: string;
  summary: string;
  words: number;
}

export const writeArticleWorkflow = withInput(
  writeArticleInput,
  async function writeArticleWorkflow(input): Promise<WriteArticleResult> {
    useSession(input);
    const drafts = input.topics.map((topic) => writer.draft({ topic }));
    const article = textTools.join({ parts: drafts, separator: '\n\n---\n\n' });
    const summary = writer.tighten({ draft: article });
    const words = textTools.countWords({ text: article });
    return { article: await article, summary: await summary, words: await words };
  },
);
