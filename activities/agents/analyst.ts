/**
 * The financial-analyst workload (the paper's stateful, multi-turn workload; docs/workloads/analyst.md): per
 * user turn, the `analyst` plans, four specialists work in parallel (stock analysis, bond market, market
 * research, and news search, which calls a news tool when its model asks for it), and the analyst answers.
 *
 * The conversation is the analyst's: its prompts hold the session's brief (a seeded client and market brief of
 * `contextTokens` tokens, the same on every turn of a session) and every earlier exchange, so a turn that
 * comes back to the replica that served the session skips the prefill of that prefix and one that moves pays
 * it. Where the conversation lives is the variant's choice: the Nalar workflow keeps it in managed state (a
 * `ManagedList` of the future's session, appended by `summarise`), the vanilla baseline in workflow state,
 * passed to the activities as `history`. The prompts are the same either way.
 */
import { performance } from 'node:perf_hooks';
import { callLlm, type ChatMessage, type LlmToolCall, type LlmToolDefinition } from '../llm';
import { searchCorpus } from '../tools';
import { ManagedList } from '../../state/managed';
import { defineAgent, defineTool } from '../../stubs/define';
import { seededWords } from './seeded-text';

/** One finished exchange of an analyst session. */
export interface AnalystExchange {
  user: string;
  assistant: string;
}

/** What the analyst's two calls share: the session's prompt prefix. */
export interface AnalystContext {
  /** The user's message of this turn. */
  message: string;
  /** Seeds the session's brief (the workflow id): the same brief on every turn of one session. */
  briefKey: string;
  /** Tokens of the session's brief at the head of every analyst prompt. */
  contextTokens: number;
  /**
   * Earlier exchanges, oldest first (the vanilla baseline keeps them in workflow state). Absent: read from
   * the session's managed state (`ManagedList` `analyst-conversation`), and `summarise` appends the turn.
   */
  history?: AnalystExchange[];
  /** The session whose replica serves the calls. @default the future's session, else the workflow id */
  sessionId?: string;
}

export interface AnalystPlanInput extends AnalystContext {
  /** Tokens of the plan. */
  planTokens: number;
}

/** A model answer with the model time the engine reported (model ms; × the simulator's time scale = real). */
export interface TimedText {
  text: string;
  /** The engine's total model ms of the call (0 when the endpoint reports none). */
  modelMs: number;
}

export interface SpecialistReport {
  /** The specialist agent's name. */
  agent: string;
  text: string;
}

export interface AnalystSummaryInput extends AnalystContext {
  plan: string;
  reports: SpecialistReport[];
  /** Tokens of the answer: the workload's heavy tail. */
  answerTokens: number;
}

export interface SpecialistInput {
  message: string;
  plan: string;
  /** Seeds the specialist's data excerpt. */
  briefKey: string;
  /** Tokens of the report. */
  reportTokens: number;
  /** Tokens of the specialist's data excerpt in its prompt. */
  dataTokens: number;
  /** The session whose replica serves the call. @default the future's session, else the workflow id */
  sessionId?: string;
}

/** The managed list of an analyst session's exchanges (Nalar variant). */
export const analystConversationList = 'analyst-conversation';

/** Words of one pseudo-token each for the simulator's tokenizer (letters only, single spaces). */
const briefWords = [
  'market',
  'yield',
  'bond',
  'stock',
  'price',
  'growth',
  'rate',
  'risk',
  'fund',
  'debt',
  'cash',
  'trade',
  'sector',
  'index',
  'value',
  'gain',
  'loss',
  'share',
  'credit',
  'equity',
  'margin',
  'revenue',
  'duration',
  'spread',
  'coupon',
  'dividend',
  'earnings',
  'guidance',
  'inflation',
  'currency',
  'volatility',
  'liquidity',
];

/** `tokens` words of the finance vocabulary seeded by `key` (a session's brief, a specialist's data). */
function briefText(key: string, tokens: number): string {
  return seededWords(key, tokens, briefWords);
}

function conversation(): ManagedList<AnalystExchange> {
  return new ManagedList<AnalystExchange>(analystConversationList);
}

/** The analyst's prompt up to this turn's user message: brief, every earlier exchange, the message. */
async function analystPrefix(input: AnalystContext): Promise<ChatMessage[]> {
  const history = input.history ?? (await conversation().range());
  return [
    {
      role: 'system',
      content: `You are a financial analyst. Client and market brief: ${briefText(input.briefKey, input.contextTokens)}`,
    },
    ...history.flatMap((t): ChatMessage[] => [
      { role: 'user', content: t.user },
      { role: 'assistant', content: t.assistant },
    ]),
    { role: 'user', content: input.message },
  ];
}

async function timedCall(
  agent: string,
  messages: ChatMessage[],
  outputTokens: number,
  sessionId: string | undefined,
): Promise<TimedText> {
  const reply = await callLlm({
    agent,
    messages,
    metadata: { sim_output_tokens: String(outputTokens) },
    ...(sessionId !== undefined && { sessionId }),
  });
  return { text: reply.content, modelMs: reply.engine?.totalMs ?? 0 };
}

export const analyst = defineAgent({
  name: 'analyst',
  directives: { stateful: true, minInstances: 1, maxInstances: 8 },
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  // Bounded: an overloaded replica's 429s fail the turn after three attempts instead of queueing forever.
  retry: { initialInterval: '200 milliseconds', maximumAttempts: 3 },
  methods: {
    /** Plans the turn: which specialists to ask what. Prompt: the session prefix. */
    async plan(input: AnalystPlanInput): Promise<TimedText> {
      return timedCall('analyst', await analystPrefix(input), input.planTokens, input.sessionId);
    },
    /**
     * Answers the turn from the specialists' reports. Prompt: the plan's prompt, the plan, the reports. In the
     * Nalar variant (no `history`), appends the exchange to the session's managed conversation.
     */
    async summarise(input: AnalystSummaryInput): Promise<TimedText> {
      const messages: ChatMessage[] = [
        ...(await analystPrefix(input)),
        { role: 'assistant', content: input.plan },
        {
          role: 'user',
          content: `Specialist reports:\n${input.reports.map((r) => `[${r.agent}] ${r.text}`).join('\n')}\nAnswer the client.`,
        },
      ];
      const answer = await timedCall('analyst', messages, input.answerTokens, input.sessionId);
      if (input.history === undefined) await conversation().append({ user: input.message, assistant: answer.text });
      return answer;
    },
  },
});

/** A specialist's call: its role, its seeded data excerpt, the user's message and the analyst's plan. */
async function specialistCall(agent: string, role: string, input: SpecialistInput): Promise<TimedText> {
  return timedCall(
    agent,
    [
      {
        role: 'system',
        content: `You are a ${role}. Data: ${briefText(`${agent}/${input.briefKey}`, input.dataTokens)}`,
      },
      { role: 'user', content: `${input.message}\nAnalyst's plan: ${input.plan}` },
    ],
    input.reportTokens,
    input.sessionId,
  );
}

export const stockAnalysis = defineAgent({
  name: 'stockAnalysis',
  directives: { batchable: true },
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', maximumAttempts: 3 },
  methods: {
    /** A report on the equities the plan names. */
    async analyse(input: SpecialistInput): Promise<TimedText> {
      return specialistCall('stockAnalysis', 'stock analyst', input);
    },
  },
});

export const bondMarket = defineAgent({
  name: 'bondMarket',
  directives: { batchable: true },
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', maximumAttempts: 3 },
  methods: {
    /** A report on rates, spreads and the bonds the plan names. */
    async analyse(input: SpecialistInput): Promise<TimedText> {
      return specialistCall('bondMarket', 'bond market analyst', input);
    },
  },
});

export const marketResearch = defineAgent({
  name: 'marketResearch',
  directives: { batchable: true },
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', maximumAttempts: 3 },
  methods: {
    /** A report on sectors, flows and macro data. */
    async analyse(input: SpecialistInput): Promise<TimedText> {
      return specialistCall('marketResearch', 'market researcher', input);
    },
  },
});

/** The news-search agent's tool, as the model sees it. */
export const newsSearchTools: LlmToolDefinition[] = [
  {
    name: 'searchNews',
    description: 'Searches recent financial news; returns the best matching articles.',
    parameters: {
      type: 'object',
      properties: {
        query: { type: 'string', minLength: 1, maxLength: 120 },
        topK: { type: 'integer', minimum: 1, maximum: 5 },
      },
      required: ['query'],
      additionalProperties: false,
    },
  },
];

export interface NewsSearchStepInput {
  /** The conversation so far (what `agentLoop` passes). */
  messages: ChatMessage[];
  /** Tokens of the final (text) report. */
  reportTokens: number;
  /** The session whose replica serves the call. @default the future's session, else the workflow id */
  sessionId?: string;
}

/** One news-search model reply, with the engine's model ms. */
export interface NewsSearchTurn {
  content: string;
  toolCalls: LlmToolCall[];
  finishReason: string;
  modelMs: number;
}

export const newsSearch = defineAgent({
  name: 'newsSearch',
  directives: { batchable: true },
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', maximumAttempts: 3 },
  methods: {
    /** One model call with the news tool: must search first, then may answer. */
    async step(input: NewsSearchStepInput): Promise<NewsSearchTurn> {
      const answered = input.messages.some((m) => m.role === 'tool');
      const reply = await callLlm({
        agent: 'newsSearch',
        messages: [{ role: 'system', content: 'You find the news that matters to the question.' }, ...input.messages],
        tools: newsSearchTools,
        toolChoice: answered ? 'none' : 'required',
        parallelToolCalls: false,
        metadata: { sim_output_tokens: String(input.reportTokens) },
        ...(input.sessionId !== undefined && { sessionId: input.sessionId }),
      });
      return {
        content: reply.content,
        toolCalls: reply.toolCalls,
        finishReason: reply.finishReason,
        modelMs: reply.engine?.totalMs ?? 0,
      };
    },
  },
});

/** What the news tool returns: the articles and the real ms the search took. */
export interface NewsSearchResult {
  articles: { id: string; title: string; score: number }[];
  toolMs: number;
}

/** The news-search agent's tool: a search over the document corpus (activities/tools/search.ts). */
export const newsWire = defineTool({
  name: 'newsWire',
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3 },
  methods: {
    /** The best matching articles for `query`, timed. */
    async searchNews(input: { query: string; topK?: number }): Promise<NewsSearchResult> {
      const started = performance.now();
      const hits = await searchCorpus({ query: input.query, topK: input.topK ?? 3 });
      return {
        articles: hits.map((h) => ({ id: h.id, title: h.title, score: h.score })),
        toolMs: performance.now() - started,
      };
    },
  },
});
