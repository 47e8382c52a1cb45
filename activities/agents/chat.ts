/** A conversational agent: answers the next user message of a chat session, given the turns so far. */
import { callLlm } from '../llm';
import { defineAgent } from '../../stubs/define';

/** One exchange of a conversation. */
export interface ChatTurn {
  user: string;
  assistant: string;
}

export interface ChatReplyInput {
  /** Earlier turns, oldest first: the model sees the whole conversation. */
  turns: ChatTurn[];
  message: string;
  /** Reply length in tokens (the simulator honours it). @default the model's choice */
  maxTokens?: number;
}

export const chat = defineAgent({
  name: 'chat',
  directives: { stateful: true, minInstances: 1, maxInstances: 4 },
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  methods: {
    /** The assistant's reply to `message`, streamed token by token to the session's SSE clients. */
    async reply(input: ChatReplyInput): Promise<string> {
      const reply = await callLlm({
        agent: 'chat',
        messages: [
          { role: 'system', content: 'You are a helpful assistant.' },
          ...input.turns.flatMap((t) => [
            { role: 'user' as const, content: t.user },
            { role: 'assistant' as const, content: t.assistant },
          ]),
          { role: 'user', content: input.message },
        ],
        ...(input.maxTokens !== undefined && { maxTokens: input.maxTokens }),
      });
      return reply.content;
    },
  },
});
