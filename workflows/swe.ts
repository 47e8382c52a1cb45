/**
 * The software-engineering workload (the paper's recursive one) written with stubs and futures: the `planner`
 * splits the task, a `developer` per subtask implements it (all of a round in parallel; each developer's model
 * may look up documentation through `agentLoop`, every lookup a future), the `tester` writes tests and the
 * code-run tool runs them; failed subtasks re-enter at the planner until they pass or `maxDepth` re-plans.
 * Its vanilla Temporal twin is `swe-baseline.ts`; docs/workloads/swe.md documents every parameter.
 */
import { developer, planner, sweTools, tester } from '../stubs/generated';
import { agentLoop, useSession } from '../stubs/workflow';
import { withInput } from '../stubs/workflow/input';
import type { Subtask } from '../activities/agents/swe';
import { sweInput, type SweInput } from './inputs';
import {
  lookupDocsArgs,
  runSweJob,
  sequential,
  sweDefaults,
  withDeadline,
  type CriticalPath,
  type SubtaskOutcome,
  type SweResult,
} from './swe-shared';

export type { SweInput } from './inputs';
export type { SweResult } from './swe-shared';

/** One subtask: the developer's agent loop, then the tester, then the code-run tool. */
async function implementAndTest(input: SweInput, subtask: Subtask, round: number): Promise<SubtaskOutcome> {
  const passProbability = input.passProbability ?? sweDefaults.passProbability;
  let code = '';
  let lookups = 0;
  let modelMs = 0;
  let toolMs = 0;
  // Tool ms of the current step: its lookups run in parallel, so the step takes the longest of them.
  let stepToolMs = 0;
  await agentLoop({
    model: async (messages) => {
      toolMs += stepToolMs;
      stepToolMs = 0;
      const turn = await developer.step({ messages, seed: input.seed, subtask, round, passProbability });
      modelMs += turn.modelMs;
      if (turn.code !== undefined) code = turn.code;
      return turn;
    },
    tools: {
      lookupDocs: {
        input: lookupDocsArgs,
        run: async (args: { query: string; topK?: number }) => {
          lookups++;
          const found = await sweTools.lookupDocs(args);
          stepToolMs = Math.max(stepToolMs, found.toolMs);
          return found.pages;
        },
      },
    },
    messages: [{ role: 'user', content: `Subtask ${subtask.id}: ${subtask.title}` }],
    maxSteps: input.maxDeveloperSteps ?? sweDefaults.maxDeveloperSteps,
  });
  const written = await tester.writeTests({ seed: input.seed, subtask, round, code });
  const run = await sweTools.runTests({ code, tests: written.tests });
  const path: CriticalPath = sequential(
    { modelMs, toolMs },
    { modelMs: written.modelMs, toolMs: 0 },
    { modelMs: 0, toolMs: run.toolMs },
  );
  return { id: subtask.id, passed: run.passed, lookups, path };
}

export const sweWorkflow = withInput(sweInput, async function sweWorkflow(input): Promise<SweResult> {
  useSession(input);
  return withDeadline(input.deadlineMs, () =>
    runSweJob(input, {
      plan: async (p) => planner.plan(p),
      subtask: (s, round) => implementAndTest(input, s, round),
    }),
  );
});
