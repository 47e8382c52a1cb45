/**
 * The vanilla Temporal baseline of the software-engineering workload (`swe.ts`): the same agents, tools and
 * rounds through plain `proxyActivities` (activity names `<agent>.<method>`), no futures, no future metadata.
 * Every call of a job goes to the replica its workflow id hashes to (the static placement of the baselines).
 */
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { ErrorCode } from '../common/errors';
import type { DeveloperActivities, PlannerActivities, SweToolsActivities, TesterActivities } from '../stubs/generated';
import { withInput } from '../stubs/workflow/input';
import type { Subtask } from '../activities/agents/swe';
import type { ChatMessage } from '../activities/llm';
import { sweInput, type SweInput } from './inputs';
import {
  lookupDocsArgs,
  runSweJob,
  sequential,
  sweDefaults,
  withDeadline,
  type SubtaskOutcome,
  type SweResult,
} from './swe-shared';

// Workflow code does not value-import common/: the annotation fails the type check if the code is not registered.
const AGENT_MAX_STEPS: typeof ErrorCode.AGENT_MAX_STEPS = 'NALAR_ERR_AGENT_MAX_STEPS';

/** The same timeouts and bounded retries as the agents' definitions (activities/agents/swe.ts). */
const models = proxyActivities<PlannerActivities & DeveloperActivities & TesterActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumAttempts: 3 },
});
const tools = proxyActivities<SweToolsActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3 },
});

/** One subtask: a hand-written model → lookups → model loop, then the tester, then the code-run tool. */
async function implementAndTest(input: SweInput, subtask: Subtask, round: number): Promise<SubtaskOutcome> {
  const passProbability = input.passProbability ?? sweDefaults.passProbability;
  const maxSteps = input.maxDeveloperSteps ?? sweDefaults.maxDeveloperSteps;
  const messages: ChatMessage[] = [{ role: 'user', content: `Subtask ${subtask.id}: ${subtask.title}` }];
  let lookups = 0;
  let modelMs = 0;
  let toolMs = 0;
  let code: string | undefined;
  for (let step = 1; code === undefined; step++) {
    const turn = await models['developer.step']({ messages, seed: input.seed, subtask, round, passProbability });
    modelMs += turn.modelMs;
    if (turn.toolCalls.length === 0) {
      code = turn.code ?? '';
      break;
    }
    if (step >= maxSteps) {
      // As agentLoop does in the Nalar variant: a model still asking for tools at the bound fails the job.
      throw ApplicationFailure.create({
        type: AGENT_MAX_STEPS,
        message: `agent loop: the model still asked for tools after ${maxSteps} model calls (maxSteps)`,
        nonRetryable: true,
      });
    }
    messages.push({ role: 'assistant', content: turn.content === '' ? null : turn.content, toolCalls: turn.toolCalls });
    const results = await Promise.all(
      turn.toolCalls.map(async (call) => {
        const args = lookupDocsArgs.safeParse(safeJson(call.arguments));
        if (call.name !== 'lookupDocs' || !args.success) return { content: '{"error":"bad tool call"}', ms: 0 };
        lookups++;
        const found = await tools['sweTools.lookupDocs'](args.data);
        return { content: JSON.stringify(found.pages), ms: found.toolMs };
      }),
    );
    toolMs += Math.max(0, ...results.map((r) => r.ms));
    turn.toolCalls.forEach((call, i) =>
      messages.push({ role: 'tool', toolCallId: call.id, content: results[i]?.content ?? '' }),
    );
  }
  const written = await models['tester.writeTests']({ seed: input.seed, subtask, round, code });
  const run = await tools['sweTools.runTests']({ code, tests: written.tests });
  const path = sequential(
    { modelMs, toolMs },
    { modelMs: written.modelMs, toolMs: 0 },
    { modelMs: 0, toolMs: run.toolMs },
  );
  return { id: subtask.id, passed: run.passed, lookups, path };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text === '' ? '{}' : text);
  } catch {
    return undefined;
  }
}

export const sweBaselineWorkflow = withInput(sweInput, async function sweBaselineWorkflow(input): Promise<SweResult> {
  return withDeadline(input.deadlineMs, () =>
    runSweJob(input, {
      plan: (p) => models['planner.plan'](p),
      subtask: (s, round) => implementAndTest(input, s, round),
    }),
  );
});
