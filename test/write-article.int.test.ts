/**
 * The documented first agent workflow, end to end: LLM-backed agent calls on the simulator started by the
 * test setup, tool calls, futures as arguments; plus its replay test (fresh and checked-in history).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { LocalController } from '../control-plane/local-controller/local-controller';
import { createNalarWorker, workflowsPath } from '../data-plane/worker/worker';
import { writeArticleWorkflow } from '../workflows';
import { bundle, connectTestEnv, uniqueTaskQueue, type NalarWorkflowBundle } from './temporal';

// Agents in this process call the simulator the test setup started (read when the first agent runs).
process.env.NALAR_LLM_BASE_URL = process.env.NALAR_TEST_SIM_BASE_URL;

const fixture = path.join(__dirname, 'fixtures', 'write-article-history.json');
let env: TestWorkflowEnvironment;
let workflowBundle: NalarWorkflowBundle;

beforeAll(async () => {
  env = await connectTestEnv();
  workflowBundle = await bundle(workflowsPath);
});

afterAll(async () => {
  await env?.teardown();
});

test('drafts in parallel, joins them, tightens and counts: every call a future', async () => {
  const controller = new LocalController();
  const taskQueue = uniqueTaskQueue('article');
  const worker = await createNalarWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    workflowBundle,
    localController: controller,
  });
  const workflowId = 'write-article-fixture';
  const result = await worker.runUntil(
    env.client.workflow.execute(writeArticleWorkflow, {
      taskQueue,
      workflowId,
      args: [{ topics: ['batching', 'prefix caching', 'retries'], sessionId: 'docs-demo' }],
    }),
  );
  expect(result.article.split('\n\n---\n\n')).toHaveLength(3);
  expect(result.words).toBe(result.article.trim().split(/\s+/).length); // '---' counts as a word
  expect(result.summary.length).toBeGreaterThan(0);
  const types = [...new Map(controller.recent(workflowId).map((e) => [e.futureId, e.meta.activityType])).values()];
  expect(types).toEqual([
    'writer.draft',
    'writer.draft',
    'writer.draft',
    'textTools.join',
    'writer.tighten',
    'textTools.countWords',
  ]);

  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  if (process.env.NALAR_RECORD_FIXTURES === '1') writeFileSync(fixture, historyToJSON(history) + '\n');
  await expect(Worker.runReplayHistory({ workflowBundle }, history, workflowId)).resolves.toBeUndefined();
});

test('the checked-in history of the first agent workflow still replays', async () => {
  const history: unknown = JSON.parse(readFileSync(fixture, 'utf8'));
  await expect(Worker.runReplayHistory({ workflowBundle }, history, 'write-article-fixture')).resolves.toBeUndefined();
});
