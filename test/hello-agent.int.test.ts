/**
 * The first agent workflow end to end on the real dev server: started with the Temporal client, served by
 * a Nalar worker, and replayed from its recorded history (fresh and checked-in) to catch non-determinism.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { createNalarWorker, workflowsPath } from '../data-plane/worker/worker';
import { helloAgentWorkflow } from '../workflows';
import { bundle, connectTestEnv, uniqueTaskQueue, type NalarWorkflowBundle } from './temporal';

const fixture = path.join(__dirname, 'fixtures', 'hello-agent-history.json');

let env: TestWorkflowEnvironment;
let workflowBundle: NalarWorkflowBundle;

beforeAll(async () => {
  env = await connectTestEnv();
  workflowBundle = await bundle(workflowsPath);
});

afterAll(async () => {
  await env?.teardown();
});

async function withWorker<T>(taskQueue: string, fn: () => Promise<T>): Promise<T> {
  const worker = await createNalarWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    workflowBundle,
  });
  return worker.runUntil(fn());
}

test('answers a question through the agent activity and keeps the session id', async () => {
  const taskQueue = uniqueTaskQueue('hello');
  const result = await withWorker(taskQueue, () =>
    env.client.workflow.execute(helloAgentWorkflow, {
      taskQueue,
      workflowId: `hello-${taskQueue}`,
      args: [{ question: 'What is Nalar?', sessionId: 'session-42' }],
    }),
  );
  expect(result).toEqual({
    sessionId: 'session-42',
    answer: 'You asked "What is Nalar?" (3 words) in session session-42.',
  });
});

test('uses the workflow id as session id when none is given', async () => {
  const taskQueue = uniqueTaskQueue('hello');
  const workflowId = `hello-default-session-${taskQueue}`;
  const result = await withWorker(taskQueue, () =>
    env.client.workflow.execute(helloAgentWorkflow, { taskQueue, workflowId, args: [{ question: 'hi' }] }),
  );
  expect(result.sessionId).toBe(workflowId);
});

test('rejects an empty question with a typed, non-retryable failure', async () => {
  const taskQueue = uniqueTaskQueue('hello');
  const run = withWorker(taskQueue, () =>
    env.client.workflow.execute(helloAgentWorkflow, {
      taskQueue,
      workflowId: `hello-empty-${taskQueue}`,
      args: [{ question: '   ' }],
    }),
  );
  const err = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect((cause as ApplicationFailure).type).toBe('NALAR_ERR_INVALID_INPUT');
});

describe('replay', () => {
  test('a freshly recorded history replays without non-determinism', async () => {
    const taskQueue = uniqueTaskQueue('hello-replay');
    const workflowId = `hello-replay-${taskQueue}`;
    await withWorker(taskQueue, () =>
      env.client.workflow.execute(helloAgentWorkflow, {
        taskQueue,
        workflowId,
        args: [{ question: 'replay me', sessionId: 'replay-session' }],
      }),
    );
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    if (process.env.NALAR_RECORD_FIXTURES === '1') writeFileSync(fixture, historyToJSON(history) + '\n');
    await expect(Worker.runReplayHistory({ workflowBundle }, history, workflowId)).resolves.toBeUndefined();
  });

  test('the checked-in history of an earlier version still replays', async () => {
    const history: unknown = JSON.parse(readFileSync(fixture, 'utf8'));
    await expect(Worker.runReplayHistory({ workflowBundle }, history, 'hello-fixture')).resolves.toBeUndefined();
  });

  test('a changed workflow is caught as non-deterministic', async () => {
    const changedBundle = await bundle(
      path.join(__dirname, 'fixtures', 'workflows', 'nondeterministic-hello-agent.ts'),
    );
    const history: unknown = JSON.parse(readFileSync(fixture, 'utf8'));
    await expect(
      Worker.runReplayHistory({ workflowBundle: changedBundle }, history, 'hello-fixture'),
    ).rejects.toMatchObject({ name: 'DeterminismViolationError' });
  });
});
