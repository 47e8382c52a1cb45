/**
 * The tool activities on a real Temporal worker and dev server: a workflow calls searchCorpus then
 * runCode through proxyActivities, and invalid input reaches the workflow as a typed, non-retryable failure.
 */
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { bundle, connectTestEnv, uniqueTaskQueue, type NalarWorkflowBundle } from '../../test/temporal';
import { simulatedLatencyMs } from './code-run';
import * as tools from './index';
import { toolsWorkflow } from './test-fixtures/workflows/tools';

let env: TestWorkflowEnvironment;
let workflowBundle: NalarWorkflowBundle;

beforeAll(async () => {
  env = await connectTestEnv();
  workflowBundle = await bundle(path.join(__dirname, 'test-fixtures', 'workflows', 'tools.ts'));
});

afterAll(async () => {
  await env?.teardown();
});

async function withWorker<T>(taskQueue: string, fn: () => Promise<T>): Promise<T> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    workflowBundle,
    activities: tools,
  });
  return worker.runUntil(fn());
}

test('a workflow searches the corpus and runs code through the tool activities', async () => {
  const taskQueue = uniqueTaskQueue('tools');
  const code = 'function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }\nconsole.log("fib ready");';
  const result = await withWorker(taskQueue, () =>
    env.client.workflow.execute(toolsWorkflow, {
      taskQueue,
      workflowId: `tools-${taskQueue}`,
      args: [{ query: 'inverted yield curve recession', code, tests: ['fib(10) === 55', 'fib(1) === 2'] }],
    }),
  );
  expect(result.hits).toHaveLength(3);
  expect(result.hits[0]).toMatchObject({ id: 'mkt-yield-curve', title: 'Bond yields and the yield curve' });
  expect(result.run).toMatchObject({
    passed: false,
    output: 'fib ready',
    results: [
      { test: 'fib(10) === 55', passed: true },
      { test: 'fib(1) === 2', passed: false, error: 'returned false' },
    ],
  });
  // Inside an activity the simulated latency is waited with Context.sleep; it is part of durationMs.
  expect(result.run.durationMs).toBeGreaterThanOrEqual(Math.floor(simulatedLatencyMs(code)) - 1);
});

test('invalid tool input fails the workflow with an ActivityFailure caused by NALAR_ERR_INVALID_INPUT', async () => {
  const taskQueue = uniqueTaskQueue('tools-invalid');
  const err = await withWorker(taskQueue, () =>
    env.client.workflow.execute(toolsWorkflow, {
      taskQueue,
      workflowId: `tools-invalid-${taskQueue}`,
      args: [{ query: '   ', code: '', tests: [] }],
    }),
  ).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const activityFailure = (err as WorkflowFailedError).cause;
  expect(activityFailure).toBeInstanceOf(ActivityFailure);
  expect((activityFailure as ActivityFailure).activityType).toBe('searchCorpus');
  const cause = (activityFailure as ActivityFailure).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect((cause as ApplicationFailure).type).toBe('NALAR_ERR_INVALID_INPUT');
  expect((cause as ApplicationFailure).nonRetryable).toBe(true);
  expect((cause as ApplicationFailure).message).toContain('query');
});
