/**
 * A tool-calling agent: the model decides which tools to call (chat-completions `tools` / `tool_calls`);
 * the workflow runs the calls as futures (`agentLoop`, stubs/workflow/agent-loop.ts). `library` holds its
 * tools.
 */
import { callLlm, type ChatMessage, type LlmToolCall, type LlmToolDefinition } from '../llm';
import { searchCorpus, type SearchCorpusInput } from '../tools';
import { defineAgent, defineTool } from '../../stubs/define';

/** The tools the researcher offers its model, by the names the workflow maps to stubs. */
export const researcherTools: LlmToolDefinition[] = [
  {
    name: 'search',
    description: 'Searches the document corpus; returns the best matching documents.',
    parameters: {
      type: 'object',
      properties: {
        query: { type: 'string', minLength: 1, maxLength: 200 },
        topK: { type: 'integer', minimum: 1, maximum: 5 },
      },
      required: ['query'],
      additionalProperties: false,
    },
  },
  {
    name: 'countWords',
    description: 'Counts the words of a text.',
    parameters: {
      type: 'object',
      properties: { text: { type: 'string', maxLength: 500 } },
      required: ['text'],
      additionalProperties: false,
    },
  },
];

export interface ResearchStepInput {
  /** The conversation so far (what `agentLoop` passes). */
  messages: ChatMessage[];
  /** `'required'` makes every reply call tools. @default 'required' until a tool answered, then 'auto' */
  toolChoice?: 'auto' | 'required';
}

/** One model reply: text, or the tool calls the model asks for. */
export interface ResearchTurn {
  content: string;
  toolCalls: LlmToolCall[];
  finishReason: string;
}

export const researcher = defineAgent({
  name: 'researcher',
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  methods: {
    /** One model call with the research tools. */
    async step(input: ResearchStepInput): Promise<ResearchTurn> {
      // Research first: until a tool has answered, the model must call one (then it may answer).
      const answered = input.messages.some((m) => m.role === 'tool');
      const reply = await callLlm({
        agent: 'researcher',
        messages: [{ role: 'system', content: 'You answer questions using the tools.' }, ...input.messages],
        tools: researcherTools,
        toolChoice: input.toolChoice ?? (answered ? 'auto' : 'required'),
        metadata: { sim_output_tokens: '40' },
      });
      return { content: reply.content, toolCalls: reply.toolCalls, finishReason: reply.finishReason };
    },
  },
});

/** The researcher's tools as stub-callable methods. */
export const library = defineTool({
  name: 'library',
  startToCloseTimeout: '10 seconds',
  methods: {
    /** Top documents for the query (id, title and score). */
    async search(input: SearchCorpusInput): Promise<{ id: string; title: string; score: number }[]> {
      const hits = await searchCorpus(input);
      return hits.map((h) => ({ id: h.id, title: h.title, score: h.score }));
    },
  },
});
