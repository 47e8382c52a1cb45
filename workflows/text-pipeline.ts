/**
 * A small agent pipeline written with stubs and futures: shout every sentence (fan-out), join the results
 * (fan-in: the join depends on every shout), count the words of the joined text. Its vanilla twin below
 * does the same with plain `proxyActivities`; the benchmarks compare the two.
 */
import { proxyActivities } from '@temporalio/workflow';
import { textTools, type TextToolsActivities } from '../stubs/generated';
import { useSession } from '../stubs/workflow';
import { withInput } from '../stubs/workflow/input';
import { textPipelineInput } from './inputs';

export type { TextPipelineInput } from './inputs';

export interface TextPipelineResult {
  text: string;
  words: number;
  /** Ids of the futures this run created, in call order. */
  futureIds: string[];
}

export const textPipelineWorkflow = withInput(
  textPipelineInput,
  async function textPipelineWorkflow(input): Promise<TextPipelineResult> {
    useSession(input);
    const shouted = input.sentences.map((text) => textTools.shout({ text }));
    const joined = textTools.join({ parts: shouted, separator: ' ' });
    const words = textTools.countWords({ text: joined });
    return { text: await joined, words: await words, futureIds: [...shouted, joined, words].map((f) => f.id) };
  },
);

const vanilla = proxyActivities<TextToolsActivities>({ startToCloseTimeout: '10 seconds' });

/** The same pipeline on the vanilla Temporal path: plain activities, no futures, no metadata. */
export const textPipelineVanillaWorkflow = withInput(
  textPipelineInput,
  async function textPipelineVanillaWorkflow(input): Promise<Omit<TextPipelineResult, 'futureIds'>> {
    const shouted = await Promise.all(input.sentences.map((text) => vanilla['textTools.shout']({ text })));
    const text = await vanilla['textTools.join']({ parts: shouted, separator: ' ' });
    const words = await vanilla['textTools.countWords']({ text });
    return { text, words };
  },
);
