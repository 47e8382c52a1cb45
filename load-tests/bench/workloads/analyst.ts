/**
 * The financial-analyst workload for the end-to-end benchmark (`npm run bench -- analyst`; guide:
 * docs/workloads/analyst.md). An arrival is a multi-turn session: the client sends each turn as the session
 * workflow's `message` Update (update-with-start on the first), waits for the answer, thinks, sends the next;
 * one record per turn. Sessions stay on the analyst replica their id hashes to, so long turns (the heavy tail)
 * block the short turns of other sessions queued behind them on the same replica.
 */
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import { Prng, seedFrom } from '../../../sim/prng';
import type { PoolProfileInput, ReplicaProfileInput } from '../../../sim/profile';
import type { AnalystSessionInput, AnalystTurnInput } from '../../../workflows/inputs';
import type { AnalystTurnReply } from '../../../workflows/analyst-session';
import type { Arrival, BenchVariant, BenchWorkload, RequestRecord, RunContext } from './types';

/** Every seeded distribution of the workload, with its default (docs/workloads/analyst.md says why). */
export const analystParams = {
  /** Turns per session: uniform integer in [min, max]. */
  turns: { min: 2, max: 3 },
  /** Think time before a follow-up turn, in MODEL ms (× time scale = real ms): lognormal, capped. */
  thinkModelMs: { median: 3_000, sigma: 0.5, max: 8_000 },
  /** Share of turns asking for a long answer (the heavy tail). */
  longTurnShare: 0.15,
  /** Answer tokens of a short turn: lognormal, capped. */
  shortAnswerTokens: { median: 150, sigma: 0.35, max: 320 },
  /** Answer tokens of a long turn: lognormal, capped. */
  longAnswerTokens: { median: 640, sigma: 0.3, max: 1200 },
  /** Report tokens of each specialist: lognormal, capped. */
  reportTokens: { median: 100, sigma: 0.3, max: 200 },
  /** Tokens of the session's brief in every analyst prompt (so a moved session pays ~320 model ms of prefill). */
  contextTokens: 4000,
  /** Tokens of each specialist's data excerpt. */
  dataTokens: 600,
  /** Real ms a turn may take before it fails with NALAR_ERR_DEADLINE_EXCEEDED. */
  turnDeadlineMs: 60_000,
  /** Analyst replicas, and each one's batch size and waiting-queue bound (small: HOL blocking shows). */
  analyst: { replicas: 6, maxNumSeqs: 1, maxWaiting: 6 },
  /** Replicas of each specialist (enough that they are not the bottleneck). */
  specialist: { replicas: 1, maxNumSeqs: 16, maxWaiting: 64 },
} as const;

/** The agents with their own replicas, in replica order. */
export const analystAgents = ['analyst', 'stockAnalysis', 'bondMarket', 'marketResearch', 'newsSearch'] as const;

/** One turn of a session as the client will send it. */
export interface PlannedTurn extends AnalystTurnInput {
  /** Real ms the user thinks after the previous answer before sending this turn (0 for the first). */
  thinkMs: number;
  /** Whether this turn was drawn from the heavy tail. */
  long: boolean;
}

/** An arrival's payload: the whole session, drawn up front so both variants get the same. */
export interface AnalystSessionPlan {
  turns: PlannedTurn[];
}

const questions = [
  'How should the client rebalance between equities and bonds given the latest rate outlook?',
  'What does the new inflation print mean for the fixed-income part of the portfolio?',
  'Which sectors look overvalued after this quarter, and what should we trim?',
  'Summarise the risks to the technology holdings from this week’s news.',
  'Is now a good time to extend duration in the bond ladder?',
  'How exposed is the portfolio to a stronger dollar, and how would you hedge it?',
  'Compare the dividend outlook of the energy and utility positions.',
  'What would a recession scenario do to the credit holdings?',
];

function capped(prng: Prng, d: { median: number; sigma: number; max: number }): number {
  return Math.max(1, Math.min(d.max, Math.round(prng.lognormal(d.median, d.sigma))));
}

/** The seeded turns of one session (`timeScale` turns model think time into real ms). */
export function planSession(seed: number, id: string, timeScale: number): AnalystSessionPlan {
  const prng = new Prng(seedFrom(seed, 'analyst-session', id));
  const p = analystParams;
  const count = prng.int(p.turns.min, p.turns.max);
  const turns: PlannedTurn[] = [];
  for (let k = 0; k < count; k++) {
    const long = prng.next() < p.longTurnShare;
    turns.push({
      message: `${prng.pick(questions)} (follow-up ${k + 1})`,
      maxTokens: capped(prng, long ? p.longAnswerTokens : p.shortAnswerTokens),
      reportTokens: capped(prng, p.reportTokens),
      thinkMs: k === 0 ? 0 : Math.round(capped(prng, p.thinkModelMs) * timeScale),
      long,
    });
  }
  return { turns };
}

/** The default time scale (real ms per model ms); the arrivals need it for think times. */
const defaultTimeScale = 0.75;

/** The workflow type of each variant. */
export const analystWorkflowTypes: Record<BenchVariant, string> = {
  nalar: 'analystSessionWorkflow',
  baseline: 'analystSessionBaselineWorkflow',
};

/** The stable code of a failed turn: the innermost typed failure (`NALAR_ERR_…`), else the error's name. */
export function failureCodeOf(err: unknown): string {
  let e: unknown = err;
  let code: string | undefined;
  while (e instanceof Error) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string' && type !== '') code = type;
    e = (e as { cause?: unknown }).cause;
  }
  return code ?? (err instanceof Error ? err.name : 'UNKNOWN');
}

/**
 * Sends one turn to an analyst session with update-with-start (a running session takes it; otherwise the
 * session starts with it), as the gateway's session route does.
 */
export function sendAnalystTurn(
  client: Client,
  o: {
    workflowType: string;
    workflowId: string;
    taskQueue: string;
    input: AnalystSessionInput;
    turn: AnalystTurnInput;
  },
): Promise<AnalystTurnReply> {
  const start = new WithStartWorkflowOperation(o.workflowType, {
    workflowId: o.workflowId,
    taskQueue: o.taskQueue,
    args: [o.input],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  return client.workflow.executeUpdateWithStart<Workflow, AnalystTurnReply, [AnalystTurnInput]>('message', {
    args: [o.turn],
    startWorkflowOperation: start,
  });
}

/** The simulator profile: per agent its own replicas (the `model` names the agent). */
function simProfile(o: { seed: number; timeScale: number }): PoolProfileInput {
  const p = analystParams;
  const replicas: ReplicaProfileInput[] = [];
  for (const agent of analystAgents) {
    const spec = agent === 'analyst' ? p.analyst : p.specialist;
    for (let i = 0; i < spec.replicas; i++) {
      replicas.push({
        name: `${agent}-${i}`,
        model: `sim-${agent}`,
        maxNumSeqs: spec.maxNumSeqs,
        maxWaiting: spec.maxWaiting,
        // One search call per news-search reply: the news branch is model → tool → model.
        ...(agent === 'newsSearch' && { toolCalls: { autoProbability: 1, maxParallel: 1 } }),
      });
    }
  }
  return { seed: o.seed, timeScale: o.timeScale, replicas };
}

function agentReplicas(): Record<string, readonly number[]> {
  const p = analystParams;
  const out: Record<string, number[]> = {};
  let next = 0;
  for (const agent of analystAgents) {
    const n = agent === 'analyst' ? p.analyst.replicas : p.specialist.replicas;
    out[agent] = Array.from({ length: n }, () => next++);
  }
  return out;
}

/**
 * Poisson arrivals of sessions at `rate` per second, each with its seeded turns. One unit-rate sequence per seed,
 * scaled by 1/rate, and session i the same at every rate (common random numbers): the rates of a grid differ in
 * load only, not in which heavy-tailed sessions happened to be drawn.
 */
function arrivals(o: { rate: number; durationMs: number; seed: number }, timeScale = defaultTimeScale): Arrival[] {
  const prng = new Prng(seedFrom(o.seed, 'analyst-arrivals'));
  const out: Arrival[] = [];
  for (let t = 0, i = 0; ; i++) {
    t += (-Math.log(1 - prng.next()) / o.rate) * 1000;
    if (t >= o.durationMs) break;
    const id = `s${i}`;
    out.push({ id, atMs: Math.round(t), kind: 'session', payload: planSession(o.seed, id, timeScale) });
  }
  return out;
}

/** Plays one session: its turns in order, each after its think time; one record per turn sent. */
async function run(ctx: RunContext, arrival: Arrival): Promise<RequestRecord[]> {
  const plan = arrival.payload as AnalystSessionPlan;
  const workflowId = `${ctx.workflowIdPrefix}${arrival.id}`;
  // Both variants name the session alike (the prefix without the variant), so each arrival's session hashes to
  // the same analyst replica in both: the comparison is not one of two random placements.
  const suffix = `${ctx.variant}-`;
  const sessionPrefix = ctx.workflowIdPrefix.endsWith(suffix)
    ? ctx.workflowIdPrefix.slice(0, -suffix.length)
    : ctx.workflowIdPrefix;
  const input: AnalystSessionInput = {
    sessionId: `${sessionPrefix}${arrival.id}`,
    idleTimeoutMs: 300_000,
    contextTokens: analystParams.contextTokens,
    dataTokens: analystParams.dataTokens,
    turnDeadlineMs: analystParams.turnDeadlineMs,
  };
  const records: RequestRecord[] = [];
  for (const [k, turn] of plan.turns.entries()) {
    // Think times are drawn at the default scale; a run at another scale keeps the same model-time ratio.
    const thinkMs = (turn.thinkMs * ctx.timeScale) / defaultTimeScale;
    if (thinkMs > 0) await new Promise((resolve) => setTimeout(resolve, thinkMs));
    const sentAt = Date.now();
    const started = performance.now();
    try {
      const reply = await sendAnalystTurn(ctx.client, {
        workflowType: analystWorkflowTypes[ctx.variant],
        workflowId,
        taskQueue: ctx.taskQueue,
        input,
        turn: { message: turn.message, maxTokens: turn.maxTokens, reportTokens: turn.reportTokens },
      });
      records.push({
        id: arrival.id,
        kind: turn.long ? 'long-turn' : 'turn',
        turn: k + 1,
        sentAt,
        latencyMs: performance.now() - started,
        ok: true,
        criticalPathMs: reply.criticalPath.modelMs * ctx.timeScale + reply.criticalPath.toolMs,
      });
    } catch (err) {
      records.push({
        id: arrival.id,
        kind: turn.long ? 'long-turn' : 'turn',
        turn: k + 1,
        sentAt,
        latencyMs: performance.now() - started,
        ok: false,
        errorCode: failureCodeOf(err),
      });
      // A user whose turn failed gives up: the session's later turns are not sent.
      break;
    }
  }
  await ctx.client.workflow
    .getHandle(workflowId)
    .signal('end')
    .catch(() => undefined);
  return records;
}

export const analystWorkload: BenchWorkload = {
  name: 'analyst',
  title:
    'Financial analyst: multi-turn sessions (analyst plans, 4 specialists in parallel, analyst answers), ' +
    'think times, a heavy tail of long answers; sessions pinned to analyst replicas',
  simProfile,
  agentReplicas,
  // Sessions per second; each has 2-3 turns (mean 2.5), ~8 activities per turn: ≤ 22 activities/s at 1.1.
  defaultRates: [0.15, 0.3, 0.5, 0.7, 0.9, 1.1],
  defaultStepSeconds: 30,
  // A session is 2-3 turns with think times between them: near capacity one that arrives at the end of a step
  // takes 30-45 s, and with the runner's 30 s default it failed as TIMEOUT for its length, not for overload.
  defaultDrainSeconds: 45,
  defaultTimeScale: {
    value: defaultTimeScale,
    why:
      'a short turn is ~4.5 s of model time (plan, specialists, answer), ~3.3 s real at 0.75: more than 10x the ' +
      '~0.3 s a turn spends in Temporal (update-with-start and ~6 sequential steps), so the overhead share stays ' +
      'under 0.10; a session (2-3 turns, think times on the same clock) fits the runner’s 30 s drain',
  },
  arrivals: (o) => arrivals(o),
  run,
};
