/**
 * The financial-analyst session as a vanilla Temporal app would write it: the same agents, prompts and lengths
 * as workflows/analyst.ts, through plain `proxyActivities` (no futures, no future metadata, no managed state).
 * The conversation is kept in workflow state and passed to the analyst's activities as `history`; every model
 * call names the session explicitly (`sessionId`: the input's, else the workflow id), so it goes to the replica
 * the session hashes to (pinned for the session, as with Nalar); the news-search agent's loop is written out by
 * hand.
 */
import { ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ErrorCode } from '../common/errors';
import type {
  AnalystActivities,
  BondMarketActivities,
  MarketResearchActivities,
  NewsSearchActivities,
  NewsWireActivities,
  StockAnalysisActivities,
} from '../stubs/generated';
import type { ChatMessage } from '../activities/llm';
import { withInput } from '../stubs/workflow/input';
import {
  analystDefaults,
  runAnalystSession,
  specialistReports,
  turnCriticalPath,
  type AnalystSessionResult,
  type AnalystTurn,
} from './analyst-session';
import type { CriticalPath } from './critical-path';
import { analystSessionInput } from './inputs';

const AGENT_MAX_STEPS: typeof ErrorCode.AGENT_MAX_STEPS = 'NALAR_ERR_AGENT_MAX_STEPS';

// The same timeouts and bounded retries as the agents' definitions (activities/agents/analyst.ts).
const agents = proxyActivities<
  AnalystActivities & StockAnalysisActivities & BondMarketActivities & MarketResearchActivities & NewsSearchActivities
>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', maximumAttempts: 3 },
});
const tools = proxyActivities<NewsWireActivities>({ startToCloseTimeout: '10 seconds', retry: { maximumAttempts: 3 } });

/** The news-search loop by hand: model → the tool calls it asks for (in parallel) → model, bounded. */
async function newsBranch(turn: AnalystTurn, plan: string): Promise<{ text: string; path: CriticalPath }> {
  const messages: ChatMessage[] = [{ role: 'user', content: `${turn.message}\nAnalyst's plan: ${plan}` }];
  const path = { modelMs: 0, toolMs: 0 };
  for (let step = 1; step <= analystDefaults.newsMaxSteps; step++) {
    const reply = await agents['newsSearch.step']({
      messages,
      reportTokens: turn.reportTokens,
      sessionId: turn.session,
    });
    path.modelMs += reply.modelMs;
    if (reply.toolCalls.length === 0) return { text: reply.content, path };
    messages.push({
      role: 'assistant',
      content: reply.content === '' ? null : reply.content,
      toolCalls: reply.toolCalls,
    });
    const results = await Promise.all(
      reply.toolCalls.map(async (call) => {
        try {
          const args = JSON.parse(call.arguments === '' ? '{}' : call.arguments) as { query: string; topK?: number };
          const found = await tools['newsWire.searchNews'](args);
          return { content: JSON.stringify(found.articles), toolMs: found.toolMs };
        } catch (err) {
          return { content: JSON.stringify({ error: err instanceof Error ? err.message : String(err) }), toolMs: 0 };
        }
      }),
    );
    path.toolMs += Math.max(0, ...results.map((r) => r.toolMs));
    reply.toolCalls.forEach((call, i) =>
      messages.push({ role: 'tool', toolCallId: call.id, content: results[i]?.content ?? '' }),
    );
  }
  // As agentLoop: the model still asked for tools after its last allowed call.
  throw ApplicationFailure.create({
    type: AGENT_MAX_STEPS,
    message: 'news search: still calling tools',
    nonRetryable: true,
  });
}

export const analystSessionBaselineWorkflow = withInput(
  analystSessionInput,
  async function analystSessionBaselineWorkflow(input): Promise<AnalystSessionResult> {
    const session = input.sessionId ?? workflowInfo().workflowId;
    return runAnalystSession('analystSessionBaselineWorkflow', input, session, async (turn) => {
      const context = {
        message: turn.message,
        briefKey: turn.briefKey,
        contextTokens: turn.contextTokens,
        history: turn.history,
        sessionId: turn.session,
      };
      const plan = await agents['analyst.plan']({ ...context, planTokens: turn.planTokens });
      const brief = {
        message: turn.message,
        plan: plan.text,
        briefKey: turn.briefKey,
        reportTokens: turn.reportTokens,
        dataTokens: turn.dataTokens,
        sessionId: turn.session,
      };
      const [s, b, r, n] = await Promise.all([
        agents['stockAnalysis.analyse'](brief),
        agents['bondMarket.analyse'](brief),
        agents['marketResearch.analyse'](brief),
        newsBranch(turn, plan.text),
      ]);
      const results = { stock: s, bonds: b, research: r, news: n };
      const summary = await agents['analyst.summarise']({
        ...context,
        plan: plan.text,
        answerTokens: turn.answerTokens,
        reports: specialistReports(results),
      });
      return { reply: summary.text, criticalPath: turnCriticalPath(plan, results, summary) };
    });
  },
);
