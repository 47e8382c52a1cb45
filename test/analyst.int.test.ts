/**
 * The financial-analyst workload end to end (docs/workloads/analyst.md): both variants on the shared dev server
 * and the simulator the test setup started, driven as the benchmark drives them (one Update per turn,
 * update-with-start on the first). What a user notices: each turn answers, the four specialists run in
 * parallel, the second turn's analyst sees the first exchange, the critical path is reported, a turn past its
 * deadline fails with a stable code and the session takes the next one; plus replay of both variants'
 * checked-in histories.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { temporal } from '@temporalio/proto';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { ErrorCode } from '../common/errors';
import { definitions } from '../activities/agents';
import { analystConversationList, type AnalystExchange } from '../activities/agents/analyst';
import { workflowsPath } from '../data-plane/worker/worker';
import { ManagedList } from '../state/managed';
import { analystWorkflowTypes, failureCodeOf, sendAnalystTurn } from '../load-tests/bench/workloads/analyst';
import type { AnalystSessionInput, AnalystTurnInput } from '../workflows/inputs';
import type { AnalystTurnReply } from '../workflows/analyst-session';
import { hangingAnalyst } from './fixtures/hanging-analyst';
import { bundle, connectTestEnv, withNalarWorker, type NalarWorkflowBundle } from './temporal';

// Agents in this process call the simulator the test setup started (read when the first agent runs).
process.env.NALAR_LLM_BASE_URL = process.env.NALAR_TEST_SIM_BASE_URL;

type Variant = keyof typeof analystWorkflowTypes;
const fixtures: Record<Variant, string> = {
  nalar: path.join(__dirname, 'fixtures', 'analyst-history.json'),
  baseline: path.join(__dirname, 'fixtures', 'analyst-baseline-history.json'),
};
const fixtureIds: Record<Variant, string> = { nalar: 'analyst-fixture', baseline: 'analyst-baseline-fixture' };
/** Small prompts and answers: the test is about behaviour, the benchmark about sizes. */
const input: AnalystSessionInput = { idleTimeoutMs: 60_000, contextTokens: 64, dataTokens: 16 };
const turns: AnalystTurnInput[] = [
  { message: 'How should we rebalance given the rate outlook?', maxTokens: 12, reportTokens: 8 },
  { message: 'And what about duration in the bond ladder?', maxTokens: 12, reportTokens: 8 },
];
const specialists = ['stockAnalysis.analyse', 'bondMarket.analyse', 'marketResearch.analyse', 'newsSearch.step'];

let env: TestWorkflowEnvironment;
let workflowBundle: NalarWorkflowBundle;

beforeAll(async () => {
  env = await connectTestEnv();
  workflowBundle = await bundle(workflowsPath);
});

afterAll(async () => {
  await env?.teardown();
});

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Per turn (split at the analyst's `plan`): history indexes of the specialists' scheduled and finished events. */
function specialistSteps(events: HistoryEvent[]): { scheduled: number[]; finished: number[] }[] {
  const typeOf = new Map<string, string>();
  const steps: { scheduled: number[]; finished: number[] }[] = [];
  events.forEach((e, i) => {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) {
      const type = s.activityType?.name ?? '';
      typeOf.set(String(e.eventId), type);
      if (type === 'analyst.plan') steps.push({ scheduled: [], finished: [] });
      // The first news-search step is the branch's start; its later steps follow its tool.
      else if (specialists.includes(type) && !(type === 'newsSearch.step' && steps.at(-1)?.scheduled.length === 4))
        steps.at(-1)?.scheduled.push(i);
    }
    const done = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes;
    const type = done ? typeOf.get(String(done.scheduledEventId)) : undefined;
    if (type && specialists.includes(type) && type !== 'newsSearch.step') steps.at(-1)?.finished.push(i);
  });
  return steps;
}

async function runSession(variant: Variant, workflowId: string, taskQueue: string): Promise<AnalystTurnReply[]> {
  const replies: AnalystTurnReply[] = [];
  for (const turn of turns) {
    replies.push(
      await sendAnalystTurn(env.client, {
        workflowType: analystWorkflowTypes[variant],
        workflowId,
        taskQueue,
        input,
        turn,
      }),
    );
  }
  await env.client.workflow.getHandle(workflowId).signal('end');
  await env.client.workflow.getHandle(workflowId).result();
  return replies;
}

describe.each(['nalar', 'baseline'] as const)('%s variant', (variant) => {
  test('two turns: answered in order, specialists in parallel, critical path reported; replays', async () => {
    const workflowId = fixtureIds[variant];
    // The state store outlives test runs: count only this run's exchanges.
    const conversation = new ManagedList<AnalystExchange>(analystConversationList, { sessionId: workflowId });
    const storedBefore = await conversation.length();
    const { replies, history } = await withNalarWorker(env, `analyst-${variant}`, { workflowBundle }, async (tq) => {
      const replies = await runSession(variant, workflowId, tq);
      return { replies, history: await env.client.workflow.getHandle(workflowId).fetchHistory() };
    });
    expect(replies.map((r) => r.turn)).toEqual([1, 2]);
    for (const r of replies) {
      expect(r.reply.length).toBeGreaterThan(0);
      // Plan, the longest specialist, the answer: all on the simulator's clock.
      expect(r.criticalPath.modelMs).toBeGreaterThan(0);
      expect(r.criticalPath.toolMs).toBeGreaterThanOrEqual(0);
    }
    if (variant === 'nalar') expect(replies[1]?.futureId).toEqual(expect.any(String));

    const steps = specialistSteps(history.events ?? []);
    expect(steps).toHaveLength(2);
    for (const s of steps) {
      expect(s.scheduled).toHaveLength(4);
      expect(s.finished).toHaveLength(3);
      // All four were scheduled before the first of them finished: a fan-out, not a sequence.
      expect(Math.max(...s.scheduled)).toBeLessThan(Math.min(...s.finished));
    }
    // The news-search branch called its tool (the model had to search first).
    const types = (history.events ?? []).flatMap(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? [],
    );
    expect(types.filter((t) => t === 'newsWire.searchNews')).toHaveLength(2);

    if (variant === 'nalar') {
      // The conversation grew in managed state, not in activity inputs.
      expect(await conversation.range(storedBefore)).toEqual(
        turns.map((t, i) => ({ user: t.message, assistant: replies[i]?.reply })),
      );
    }

    if (process.env.NALAR_RECORD_FIXTURES === '1') {
      // Activity ids of the Nalar variant contain the workflow id: the fixture is recorded under its stable id.
      writeFileSync(fixtures[variant], historyToJSON(history) + '\n');
    }
    await expect(Worker.runReplayHistory({ workflowBundle }, history, workflowId)).resolves.toBeUndefined();
  });

  test('a turn past its deadline fails with NALAR_ERR_DEADLINE_EXCEEDED and its call is cancelled', async () => {
    const hanging = [...definitions.filter((d) => d.name !== 'analyst'), hangingAnalyst];
    const workflowId = `analyst-deadline-${variant}-${Date.now()}`;
    const err = await withNalarWorker(
      env,
      `analyst-deadline-${variant}`,
      { workflowBundle, definitions: hanging },
      (tq) =>
        sendAnalystTurn(env.client, {
          workflowType: analystWorkflowTypes[variant],
          workflowId,
          taskQueue: tq,
          input: { ...input, turnDeadlineMs: 1500 },
          turn: turns[0] as AnalystTurnInput,
        }).then(
          () => undefined,
          async (e: unknown) => {
            // The session is still running: the failure was the turn's, not the session's.
            const handle = env.client.workflow.getHandle(workflowId);
            const described = await handle.describe();
            await handle.signal('end');
            await handle.result();
            return { e, status: described.status.name, history: await handle.fetchHistory() };
          },
        ),
    );
    expect(err).toBeDefined();
    expect(failureCodeOf(err?.e)).toBe(ErrorCode.DEADLINE_EXCEEDED);
    expect(err?.status).toBe('RUNNING');
    // The deadline cancelled the hanging call instead of leaving it running.
    expect((err?.history.events ?? []).some((e) => e.activityTaskCancelRequestedEventAttributes)).toBe(true);
  });

  test('the checked-in history still replays', async () => {
    const history: unknown = JSON.parse(readFileSync(fixtures[variant], 'utf8'));
    await expect(Worker.runReplayHistory({ workflowBundle }, history, fixtureIds[variant])).resolves.toBeUndefined();
  });
});
