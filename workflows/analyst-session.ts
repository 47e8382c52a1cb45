/**
 * What the financial-analyst session workflows share (workflows/analyst.ts, Nalar; workflows/analyst-baseline.ts,
 * vanilla Temporal): the session itself — a long-running workflow that answers one user turn per `message`
 * Update, one turn at a time, each within a deadline — and the workload's defaults. Only how a turn runs
 * differs between the two. Session mechanics use nothing but `@temporalio/workflow`, as a vanilla app would.
 */
import {
  ApplicationFailure,
  CancellationScope,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  isCancellation,
  workflowInfo,
} from '@temporalio/workflow';
import type { ErrorCode } from '../common/errors';
import type { TimedText } from '../activities/agents/analyst';
import { longest, sequential, type CriticalPath } from './critical-path';
import { analystTurnInput, type AnalystSessionInput, type AnalystTurnInput, type ChatTurnRecord } from './inputs';
import { serveTurns } from './turn-session';

// Workflow code does not value-import common/: the annotations fail the type check if a code is not registered.
const DEADLINE_EXCEEDED: typeof ErrorCode.DEADLINE_EXCEEDED = 'NALAR_ERR_DEADLINE_EXCEEDED';
const INTERNAL: typeof ErrorCode.INTERNAL = 'NALAR_ERR_INTERNAL';

/** Every default of the analyst workload's workflows, written once (docs/workloads/analyst.md says why). */
export type { CriticalPath } from './critical-path';

export const analystDefaults = {
  /** Tokens of the session's brief at the head of every analyst prompt. */
  contextTokens: 4000,
  /** Tokens of each specialist's data excerpt. */
  dataTokens: 600,
  /** Real ms a turn may take from its message to its answer. */
  turnDeadlineMs: 120_000,
  /** Tokens of the analyst's plan. */
  planTokens: 48,
  /** Tokens of the analyst's answer when the turn does not say. */
  answerTokens: 200,
  /** Tokens of each specialist's report when the turn does not say. */
  reportTokens: 120,
  /** Model calls of the news-search agent loop (search, then report; one spare). */
  newsMaxSteps: 3,
} as const;

/** Model and tool time on a turn's critical path. */
/** What a `message` update of an analyst session returns. */
export interface AnalystTurnReply {
  /** Number of this turn in the session (1 = first). */
  turn: number;
  reply: string;
  /** The future of the analyst's answer (Nalar variant; its tokens carry this id on the SSE stream). */
  futureId?: string;
  /** Plan, then the longest specialist branch (by model ms), then the answer. */
  criticalPath: CriticalPath;
}

/** How a session ended. */
export interface AnalystSessionResult {
  turns: number;
  reason: 'idle' | 'ended';
}

/** One turn to run, with every default applied. */
export interface AnalystTurn {
  /** The session: the route key of every model call (the replica it hashes to serves the whole session). */
  session: string;
  /**
   * Seeds the session's brief: the workflow id, so two runs of one session id (the benchmark's two variants)
   * do not share a cached prefix on the replica they both hash to.
   */
  briefKey: string;
  message: string;
  /** Earlier exchanges of the session, oldest first. */
  history: ChatTurnRecord[];
  contextTokens: number;
  dataTokens: number;
  planTokens: number;
  answerTokens: number;
  reportTokens: number;
}

/** What each specialist branch of a turn brought back. */
export interface SpecialistResults {
  stock: TimedText;
  bonds: TimedText;
  research: TimedText;
  /** The news-search branch: its report and its own critical path (model calls and the search tool). */
  news: { text: string; path: CriticalPath };
}

/** The four reports, as the analyst's answer takes them (both variants send the same). */
export function specialistReports(r: SpecialistResults): { agent: string; text: string }[] {
  return [
    { agent: 'stockAnalysis', text: r.stock.text },
    { agent: 'bondMarket', text: r.bonds.text },
    { agent: 'marketResearch', text: r.research.text },
    { agent: 'newsSearch', text: r.news.text },
  ];
}

/** A turn's critical path: the plan, then the longest specialist branch, then the answer. */
export function turnCriticalPath(plan: TimedText, r: SpecialistResults, answer: TimedText): CriticalPath {
  const model = (t: TimedText): CriticalPath => ({ modelMs: t.modelMs, toolMs: 0 });
  const specialists = longest([model(r.stock), model(r.bonds), model(r.research), r.news.path]);
  return sequential(model(plan), specialists, model(answer));
}

/** How a variant answers one turn. */
export type RunAnalystTurn = (
  turn: AnalystTurn,
) => Promise<{ reply: string; futureId?: string; criticalPath: CriticalPath }>;

/** Sends the next user turn; answers with the analyst's reply. Rejected (never recorded) when invalid. */
export const analystMessageUpdate = defineUpdate<AnalystTurnReply, [AnalystTurnInput]>('message');
/** The conversation so far, oldest turn first. */
export const analystTurnsQuery = defineQuery<ChatTurnRecord[]>('turns');
/** Ends the session once the turn in progress (if any) has been answered. */
export const analystEndSignal = defineSignal('end');

/** A turn's failure as one stable code: the innermost typed failure of the chain (an agent's LLM code, …). */
function turnFailure(err: unknown): ApplicationFailure {
  let e: unknown = err;
  let typed: ApplicationFailure | undefined;
  while (e instanceof Error) {
    if (e instanceof ApplicationFailure && e.type) typed = e;
    e = e.cause;
  }
  return ApplicationFailure.create({
    type: typed?.type ?? INTERNAL,
    message: typed?.message ?? (err instanceof Error ? err.message : String(err)),
    nonRetryable: true,
  });
}

/**
 * Runs an analyst session: one turn per `message` update, in arrival order, each failing with
 * NALAR_ERR_DEADLINE_EXCEEDED (its calls cancelled) when not answered within `turnDeadlineMs` of its
 * arrival; a failed turn fails its update, not the session. Ends after `idleTimeoutMs` without a message or
 * on the `end` signal; continues as new between turns when history grows long.
 */
export async function runAnalystSession(
  name: string,
  input: AnalystSessionInput,
  session: string,
  runTurn: RunAnalystTurn,
): Promise<AnalystSessionResult> {
  const deadlineMs = input.turnDeadlineMs ?? analystDefaults.turnDeadlineMs;
  const outcome = await serveTurns({
    name,
    message: analystTurnInput,
    update: analystMessageUpdate,
    turnsQuery: analystTurnsQuery,
    endSignal: analystEndSignal,
    turns: input.turns ?? [],
    idleTimeoutMs: input.idleTimeoutMs,
    ...(input.maxHistoryEvents !== undefined && { maxHistoryEvents: input.maxHistoryEvents }),
    async answer(msg, ready) {
      try {
        // The deadline runs from the message's arrival: the wait for earlier turns counts.
        const answered = await CancellationScope.withTimeout(deadlineMs, async () => {
          const history = await ready();
          return runTurn({
            session,
            briefKey: workflowInfo().workflowId,
            message: msg.message,
            history,
            contextTokens: input.contextTokens ?? analystDefaults.contextTokens,
            dataTokens: input.dataTokens ?? analystDefaults.dataTokens,
            planTokens: analystDefaults.planTokens,
            answerTokens: msg.maxTokens ?? analystDefaults.answerTokens,
            reportTokens: msg.reportTokens ?? analystDefaults.reportTokens,
          });
        });
        return { assistant: answered.reply, extra: answered };
      } catch (err) {
        if (isCancellation(err)) {
          throw ApplicationFailure.create({
            type: DEADLINE_EXCEEDED,
            message: `${name}: turn not answered within ${deadlineMs} ms (turnDeadlineMs)`,
            nonRetryable: true,
          });
        }
        throw turnFailure(err);
      }
    },
  });
  if (outcome.kind === 'continue-as-new') {
    return continueAsNew<(i: AnalystSessionInput) => Promise<AnalystSessionResult>>({ ...input, turns: outcome.turns });
  }
  return { turns: outcome.turns, reason: outcome.reason };
}
