/** An LLM-backed agent: drafts and tightens short texts with the model bound to `writer`. */
import { callLlm } from '../llm';
import { defineAgent } from '../../stubs/define';

export interface DraftInput {
  topic: string;
  /** Target length in tokens. @default 120 */
  length?: number;
}

export const writer = defineAgent({
  name: 'writer',
  directives: { stateful: true, minInstances: 1, maxInstances: 4 },
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  methods: {
    /** Writes a first draft about the topic. */
    async draft(input: DraftInput): Promise<string> {
      const reply = await callLlm({
        agent: 'writer',
        messages: [
          { role: 'system', content: 'You are a concise technical writer.' },
          { role: 'user', content: `Write about: ${input.topic}` },
        ],
        metadata: { sim_output_tokens: String(input.length ?? 120) },
      });
      return reply.content;
    },
    /** Rewrites a draft shorter. */
    async tighten(input: { draft: string }): Promise<string> {
      const reply = await callLlm({
        agent: 'writer',
        messages: [
          { role: 'system', content: 'You are a concise technical writer.' },
          { role: 'user', content: `Make this shorter:\n${input.draft}` },
        ],
        metadata: { sim_output_tokens: '40' },
      });
      return reply.content;
    },
  },
});
