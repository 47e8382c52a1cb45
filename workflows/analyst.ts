/**
 * The financial-analyst session, Nalar variant (docs/workloads/analyst.md): per user turn the `analyst` plans,
 * the four specialists run as parallel futures (news search is an agent loop whose tool calls are futures
 * too), and the analyst answers. The conversation lives in managed state (the analyst agent reads and appends
 * the session's `ManagedList`), so no activity input carries it; the session pins every model call to the
 * replica its session hashes to until the control plane moves it.
 */
import { analyst, bondMarket, marketResearch, newsSearch, newsWire, stockAnalysis } from '../stubs/generated';
import { agentLoop, useSession } from '../stubs/workflow';
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

export type { AnalystSessionInput, AnalystTurnInput } from './inputs';
export type { AnalystSessionResult, AnalystTurnReply, CriticalPath } from './analyst-session';

/** The news-search branch: model → searchNews (futures) → model, with its critical path. */
async function newsBranch(turn: AnalystTurn, plan: string): Promise<{ text: string; path: CriticalPath }> {
  let modelMs = 0;
  let toolMs = 0;
  // Tool calls of one reply run in parallel: a step's tool time is its slowest call's.
  let stepToolMs = 0;
  const result = await agentLoop({
    model: (messages) => {
      toolMs += stepToolMs;
      stepToolMs = 0;
      return newsSearch.step({ messages, reportTokens: turn.reportTokens }).then((t) => {
        modelMs += t.modelMs;
        return t;
      });
    },
    tools: {
      searchNews: (args: { query: string; topK?: number }) =>
        newsWire.searchNews(args).then((r) => {
          stepToolMs = Math.max(stepToolMs, r.toolMs);
          return r.articles;
        }),
    },
    messages: [{ role: 'user', content: `${turn.message}\nAnalyst's plan: ${plan}` }],
    maxSteps: analystDefaults.newsMaxSteps,
  });
  return { text: result.content, path: { modelMs, toolMs } };
}

export const analystSessionWorkflow = withInput(
  analystSessionInput,
  async function analystSessionWorkflow(input): Promise<AnalystSessionResult> {
    const session = useSession(input);
    return runAnalystSession('analystSessionWorkflow', input, session, async (turn) => {
      // No `history`: the analyst reads the conversation from the session's managed state.
      const context = { message: turn.message, briefKey: turn.briefKey, contextTokens: turn.contextTokens };
      const plan = await analyst.plan({ ...context, planTokens: turn.planTokens });
      const brief = {
        message: turn.message,
        plan: plan.text,
        briefKey: turn.briefKey,
        reportTokens: turn.reportTokens,
        dataTokens: turn.dataTokens,
      };
      // All four start before any is awaited: they run in parallel.
      const stock = stockAnalysis.analyse(brief);
      const bonds = bondMarket.analyse(brief);
      const research = marketResearch.analyse(brief);
      const news = newsBranch(turn, plan.text);
      const [s, b, r, n] = await Promise.all([stock, bonds, research, news]);
      const results = { stock: s, bonds: b, research: r, news: n };
      const answer = analyst.summarise({
        ...context,
        plan: plan.text,
        answerTokens: turn.answerTokens,
        reports: specialistReports(results),
      });
      const summary = await answer;
      return { reply: summary.text, futureId: answer.id, criticalPath: turnCriticalPath(plan, results, summary) };
    });
  },
);
