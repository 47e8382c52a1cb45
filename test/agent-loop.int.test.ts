/**
 * The agent loop (stubs/workflow/agent-loop.ts) end to end: the researcher's model on the simulator started by
 * the test setup decides which tools to call; every call is a future, the calls of one reply are scheduled
 * before any completes, the loop is bounded; plus a scripted model for the tool calls a model gets wrong, and
 * the replay test of researchWorkflow (fresh and checked-in history).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { ErrorCode } from '../common/errors';
import { definitions } from '../activities/agents';
import { workflowsPath } from '../data-plane/worker/worker';
import type { AgentMessage, AgentToolCall } from '../stubs/workflow';
import { researchWorkflow } from '../workflows';
import { probe } from './fixtures/probe-tool';
import type { scriptedAgentLoopWorkflow } from './fixtures/workflows/agent-loop';
import { bundle, connectTestEnv, withNalarWorker, type NalarWorkflowBundle } from './temporal';

// Agents in this process call the simulator the test setup started (read when the first agent runs).
process.env.NALAR_LLM_BASE_URL = process.env.NALAR_TEST_SIM_BASE_URL;

const fixture = path.join(__dirname, 'fixtures', 'research-history.json');
/** A question whose first (seeded) simulator reply calls several tools at once. */
const question = 'Which papers discuss batching, and how long are their abstracts?';
let env: TestWorkflowEnvironment;
let workflowBundle: NalarWorkflowBundle;
let scriptedBundle: NalarWorkflowBundle;

beforeAll(async () => {
  env = await connectTestEnv();
  [workflowBundle, scriptedBundle] = await Promise.all([
    bundle(workflowsPath),
    bundle(path.join(__dirname, 'fixtures', 'workflows', 'agent-loop.ts')),
  ]);
});

afterAll(async () => {
  await env?.teardown();
});

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/**
 * The tool activities of each model step, in history order: the `scheduled` and `completed` event indexes of
 * every activity scheduled after the step's model call completed and before the next model call.
 */
function toolStepsOf(events: HistoryEvent[], modelType: string): { scheduled: number[]; completed: number[] }[] {
  const typeByEventId = new Map<string, string>();
  const steps: { scheduled: number[]; completed: number[] }[] = [];
  events.forEach((e, i) => {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const type = scheduled.activityType?.name ?? '';
      typeByEventId.set(String(e.eventId), type);
      if (type === modelType) steps.push({ scheduled: [], completed: [] });
      else steps.at(-1)?.scheduled.push(i);
    }
    const completed = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes;
    if (completed && typeByEventId.get(String(completed.scheduledEventId)) !== modelType)
      steps.at(-1)?.completed.push(i);
  });
  return steps.filter((s) => s.scheduled.length > 0);
}

/** Every step's tool calls were all scheduled before the first of them completed. */
function expectScheduledBeforeCompleted(steps: { scheduled: number[]; completed: number[] }[]): void {
  for (const s of steps) {
    expect(s.completed).toHaveLength(s.scheduled.length);
    expect(Math.max(...s.scheduled)).toBeLessThan(Math.min(...s.completed));
  }
}

test('the model calls tools, gets their results, then answers: parallel calls scheduled together', async () => {
  const workflowId = 'research-fixture';
  const { result, history } = await withNalarWorker(env, 'research', { workflowBundle }, async (taskQueue) => {
    const result = await env.client.workflow.execute(researchWorkflow, {
      taskQueue,
      workflowId,
      args: [{ question, sessionId: 'docs-demo' }],
    });
    return { result, history: await env.client.workflow.getHandle(workflowId).fetchHistory() };
  });
  expect(result.steps).toBe(2); // model → tools → model → text
  expect(result.toolsCalled.length).toBeGreaterThan(1);
  for (const name of result.toolsCalled) expect(['search', 'countWords']).toContain(name);
  expect(result.answer.length).toBeGreaterThan(0);

  const steps = toolStepsOf(history.events ?? [], 'researcher.step');
  expect(steps).toHaveLength(1);
  expect(steps[0]?.scheduled).toHaveLength(result.toolsCalled.length);
  expectScheduledBeforeCompleted(steps);

  if (process.env.NALAR_RECORD_FIXTURES === '1') writeFileSync(fixture, historyToJSON(history) + '\n');
  await expect(Worker.runReplayHistory({ workflowBundle }, history, workflowId)).resolves.toBeUndefined();
});

test('maxSteps bounds the loop: a model that keeps calling tools fails the run with a typed error', async () => {
  const err = await withNalarWorker(env, 'research-bound', { workflowBundle }, (taskQueue) =>
    env.client.workflow
      .execute(researchWorkflow, {
        taskQueue,
        workflowId: `${taskQueue}-wf`,
        args: [{ question, toolChoice: 'required', maxSteps: 2 }],
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      ),
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect((cause as ApplicationFailure).type).toBe(ErrorCode.AGENT_MAX_STEPS);
  expect((cause as ApplicationFailure).nonRetryable).toBe(true);
});

test('what the model got wrong becomes the tool result, not a workflow failure', async () => {
  const call = (id: string, name: string, args: string): AgentToolCall => ({ id, name, arguments: args });
  const script = [
    [
      call('c1', 'echo', '{"value":1}'),
      call('c2', 'slow', '{"ms":0,"value":2}'),
      call('c3', 'echo', '{"value":'),
      call('c4', 'echo', '{"value":"three"}'),
      call('c5', 'lookUp', '{}'),
      call('c6', 'fail', '{"message":"boom"}'),
    ],
  ];
  const workflowId = `agent-loop-scripted-${Date.now()}`;
  const { messages, history } = await withNalarWorker(
    env,
    'agent-loop',
    { workflowBundle: scriptedBundle, definitions: [...definitions, probe] },
    async (taskQueue) => {
      const messages = await env.client.workflow.execute<typeof scriptedAgentLoopWorkflow>(
        'scriptedAgentLoopWorkflow',
        {
          taskQueue,
          workflowId,
          args: [script],
        },
      );
      return { messages, history: await env.client.workflow.getHandle(workflowId).fetchHistory() };
    },
  );
  const results = Object.fromEntries(
    messages.flatMap((m: AgentMessage) => (m.role === 'tool' ? [[m.toolCallId, m.content]] : [])),
  );
  expect(results.c1).toBe('1');
  expect(results.c2).toBe('2');
  expect(JSON.parse(results.c3 as string)).toEqual({
    error: expect.stringMatching(/^arguments of echo are not valid JSON/),
  });
  expect(JSON.parse(results.c4 as string)).toEqual({
    error: expect.stringMatching(/^invalid arguments of echo: value: /),
  });
  expect(JSON.parse(results.c5 as string)).toEqual({ error: "unknown tool 'lookUp'; the tools are: echo, slow, fail" });
  expect(JSON.parse(results.c6 as string)).toEqual({ error: 'boom' });
  expect(messages.at(-1)).toEqual({ role: 'assistant', content: 'done' });
  // Only the three well-formed calls ran; all were scheduled before any completed.
  const events = history.events ?? [];
  const scheduled = events.flatMap((e, i) => (e.activityTaskScheduledEventAttributes ? [i] : []));
  const finished = events.flatMap((e, i) =>
    e.activityTaskCompletedEventAttributes || e.activityTaskFailedEventAttributes ? [i] : [],
  );
  expect(scheduled).toHaveLength(3);
  expect(finished).toHaveLength(3);
  expect(Math.max(...scheduled)).toBeLessThan(Math.min(...finished));
});

test('the checked-in history of researchWorkflow still replays', async () => {
  const history: unknown = JSON.parse(readFileSync(fixture, 'utf8'));
  await expect(Worker.runReplayHistory({ workflowBundle }, history, 'research-fixture')).resolves.toBeUndefined();
});
