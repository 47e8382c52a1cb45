/**
 * Futures on the real dev server: the dependency graph the events describe, metadata seen worker-side,
 * plain TypeScript control flow, replay (fresh and checked-in), telemetry skipped on replay, and the
 * vanilla path giving the same answers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { LocalController } from '../control-plane/local-controller/local-controller';
import { nalarSinks } from '../data-plane/worker/worker';
import type { FutureEvent, FutureMeta } from '../stubs/workflow/types';
import { definitions } from '../activities/agents';
import { probe } from './fixtures/probe-tool';
import { bundle, connectTestEnv, withNalarWorker, type NalarWorkflowBundle } from './temporal';

const fixture = path.join(__dirname, 'fixtures', 'text-pipeline-history.json');

let env: TestWorkflowEnvironment;
let workflowBundle: NalarWorkflowBundle;

beforeAll(async () => {
  env = await connectTestEnv();
  workflowBundle = await bundle(path.join(__dirname, 'fixtures', 'workflows', 'futures.ts'));
});

afterAll(async () => {
  await env?.teardown();
});

async function runWorkflow<T>(type: string, args: unknown[], workflowId?: string) {
  const controller = new LocalController();
  const options = { workflowBundle, localController: controller, definitions: [...definitions, probe] };
  return withNalarWorker(env, 'futures', options, async (taskQueue) => {
    const id = workflowId ?? `${taskQueue}-wf`;
    const result = (await env.client.workflow.execute(type, { taskQueue, workflowId: id, args })) as T;
    return { result, events: controller.recent(id), workflowId: id };
  });
}

/** The last metadata reported for each future. */
function lastMeta(events: FutureEvent[]): Map<string, FutureMeta> {
  const m = new Map<string, FutureMeta>();
  for (const e of events) m.set(e.futureId, e.meta);
  return m;
}

test('the events of a fan-out/fan-in workflow describe its dependency graph', async () => {
  const { result, events, workflowId } = await runWorkflow<{ text: string; words: number; futureIds: string[] }>(
    'textPipelineWorkflow',
    [{ sentences: ['one two', 'three', 'four five six'], sessionId: 'sess-1' }],
  );
  expect(result.text).toBe('ONE TWO THREE FOUR FIVE SIX');
  expect(result.words).toBe(6);
  const id = (n: number) => `${workflowId}/${n}`;
  expect(result.futureIds).toEqual([1, 2, 3, 4, 5].map(id));

  const metas = lastMeta(events);
  const edges = [...metas.values()].flatMap((m) => m.dependencies.map((d) => `${d} -> ${m.id}`)).sort();
  expect(edges).toEqual(
    [`${id(1)} -> ${id(4)}`, `${id(2)} -> ${id(4)}`, `${id(3)} -> ${id(4)}`, `${id(4)} -> ${id(5)}`].sort(),
  );
  expect(metas.get(id(1))?.consumers).toEqual([id(4)]);
  expect(metas.get(id(4))?.consumers).toEqual([id(5), 'workflow']);
  expect(metas.get(id(5))?.consumers).toEqual(['workflow']);
  for (const m of metas.values()) {
    expect(m.sessionId).toBe('sess-1');
    expect(m.creator).toBe(workflowId);
    expect(m.executor.taskQueue).toMatch(/^futures-/);
  }
  // Every future went through its whole lifecycle, in order.
  for (const n of [1, 2, 3, 4, 5]) {
    const types = events.filter((e) => e.futureId === id(n)).map((e) => e.type);
    expect(types).toEqual(['created', 'ready', 'scheduled', 'started', 'completed']);
  }
  // Fan-in: the join became ready only after all three shouts completed.
  const at = (n: number, type: string) => events.find((e) => e.futureId === id(n) && e.type === type)?.at as number;
  expect(at(4, 'ready')).toBeGreaterThanOrEqual(Math.max(at(1, 'completed'), at(2, 'completed'), at(3, 'completed')));
});

test('worker-side code sees the future: session, priority, fairness key, dependencies', async () => {
  const { result, workflowId } = await runWorkflow<Record<string, unknown>>('whoAmIWorkflow', ['user-7']);
  expect(result).toEqual({
    tag: 'x',
    futureId: `${workflowId}/2`,
    sessionId: 'user-7',
    priority: 1,
    fairnessKey: 'user-7',
    deps: [`${workflowId}/1`],
  });
});

test('loops, branches, recursion, Promise.all, Promise.race, try/catch and value(timeout) work as plain TypeScript', async () => {
  const { result, events } = await runWorkflow<Record<string, unknown>>('controlFlowWorkflow', [3]);
  expect(result).toEqual({
    sum: 6,
    branch: 100,
    recursive: 6,
    all: 30,
    raced: 2,
    caught: 'boom',
    timeout: 'NALAR_ERR_FUTURE_TIMEOUT',
  });
  const failed = events.filter((e) => e.type === 'failed');
  // The failing call, and the call that depended on it (which never ran).
  expect(failed.map((e) => e.meta.activityType)).toEqual(['probe.fail', 'probe.echo']);
  expect(failed[1]?.meta.dependencies).toEqual([failed[0]?.futureId]);
  expect(events.some((e) => e.futureId === failed[1]?.futureId && e.type === 'scheduled')).toBe(false);
});

test('the vanilla proxyActivities path gives the same answer', async () => {
  const input = { sentences: ['a b', 'c'] };
  const stubs = await runWorkflow<{ text: string; words: number }>('textPipelineWorkflow', [input]);
  const vanilla = await runWorkflow<{ text: string; words: number }>('textPipelineVanillaWorkflow', [input]);
  expect(vanilla.result).toEqual({ text: stubs.result.text, words: stubs.result.words });
  expect(vanilla.events).toEqual([]); // no futures, no telemetry
});

describe('replay', () => {
  test('a recorded history replays, and replay sends no telemetry', async () => {
    // Future ids (and so activity ids) derive from the workflow id: replay must use the recorded one.
    const { workflowId } = await runWorkflow(
      'textPipelineWorkflow',
      [{ sentences: ['x y', 'z'] }],
      'text-pipeline-fixture',
    );
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    if (process.env.NALAR_RECORD_FIXTURES === '1') writeFileSync(fixture, historyToJSON(history) + '\n');
    const controller = new LocalController();
    await Worker.runReplayHistory({ workflowBundle, sinks: nalarSinks(controller) }, history, workflowId);
    expect(controller.recent()).toEqual([]);
  });

  test('the checked-in history of the futures workflow still replays', async () => {
    const history: unknown = JSON.parse(readFileSync(fixture, 'utf8'));
    await expect(
      Worker.runReplayHistory({ workflowBundle }, history, 'text-pipeline-fixture'),
    ).resolves.toBeUndefined();
  });
});
