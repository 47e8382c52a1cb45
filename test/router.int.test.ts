/**
 * The router workload end to end (workflows/router.ts and its vanilla twin router-baseline.ts) on the real
 * dev server and simulator replicas over HTTP: each agent has its own replicas; a chat request is served by
 * the classifier's and the chat branch's replicas, a coding request by the classifier's and the coder's,
 * whose program the code-run tool runs; both variants report the same critical path shape; a full replica
 * fails a request with the engine's 429 after bounded retries; a request out of time fails with
 * NALAR_ERR_DEADLINE_EXCEEDED. Plus the replay tests (fresh and checked-in histories).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { ErrorCode, failureCode } from '../common/errors';
import { workflowsPath } from '../data-plane/worker/worker';
import { requestText } from '../activities/agents/router';
import type { SimPool } from '../sim/pool';
import { clientFor, startTestPool } from '../sim/test-helpers';
import { countTokens } from '../sim/tokens';
import { routerBaselineWorkflow, routerWorkflow, type RouterInput, type RouterResult } from '../workflows';
import { waitFor } from './helpers/wait-for';
import { bundle, connectTestEnv, withNalarWorker, type NalarWorkflowBundle } from './temporal';

const fixtures = {
  routerWorkflow: path.join(__dirname, 'fixtures', 'router-history.json'),
  routerBaselineWorkflow: path.join(__dirname, 'fixtures', 'router-baseline-history.json'),
};
const fixtureIds = { routerWorkflow: 'router-fixture', routerBaselineWorkflow: 'router-baseline-fixture' };

let env: TestWorkflowEnvironment;
let workflowBundle: NalarWorkflowBundle;
let pool: SimPool;

/** chat-0's count of requests its engine failed for `reason` (nalar_sim_requests_rejected_total). */
async function rejected(reason: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics', pool.baseUrls[1]))).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('nalar_sim_requests_rejected_total{') && l.includes(`reason="${reason}"`));
  return Number(line?.split(' ').at(-1) ?? NaN);
}

/** Replicas: 0 classifier; 1 chat branch (one sequence at a time, one waiting: the 429 test fills both); 2 coder. */
const replicas = [
  { name: 'classifier-0', model: 'router-classifier' },
  // 20× slower than the default profile, so the deadline test's long reply cannot finish in time.
  { name: 'chat-0', model: 'router-chat', maxNumSeqs: 1, maxWaiting: 1, speed: 20 },
  { name: 'coder-0', model: 'router-coder' },
];

beforeAll(async () => {
  env = await connectTestEnv();
  [workflowBundle, pool] = await Promise.all([bundle(workflowsPath), startTestPool({ replicas, timeScale: 0.01 })]);
  // Agents in this process read their bindings when the first one runs (after this).
  process.env.NALAR_AGENT_MODELS = JSON.stringify({
    classifier: { model: 'router-classifier', baseUrls: [pool.baseUrls[0]] },
    chatBranch: { model: 'router-chat', baseUrls: [pool.baseUrls[1]] },
    coder: { model: 'router-coder', baseUrls: [pool.baseUrls[2]] },
  });
  // The code-run tool's simulated test-suite time off: the tool's own time is still measured.
  process.env.NALAR_TOOL_TIME_SCALE = '0';
  // The agents convert a deadline to the engine's model ms with it.
  process.env.NALAR_SIM_TIME_SCALE = '0.01';
});

afterAll(async () => {
  await pool?.close();
  await env?.teardown();
});

const chatRequest: RouterInput = { kind: 'chat', promptTokens: 300, outputTokens: 40, seed: 1, deadlineMs: 60_000 };
const codingRequest: RouterInput = { kind: 'coding', promptTokens: 600, outputTokens: 20, seed: 2, deadlineMs: 60_000 };

test("a request's prompt is rebuilt from its seed at exactly its token count (the simulator's tokenizer)", () => {
  for (const [seed, tokens] of [
    [1, 1],
    [2, 64],
    [3, 1469],
    [4, 7168],
  ] as const) {
    expect(countTokens(requestText(seed, tokens))).toBe(tokens);
    expect(requestText(seed, tokens)).toBe(requestText(seed, tokens));
  }
  expect(requestText(1, 50)).not.toBe(requestText(2, 50));
});

const variants = [
  ['routerWorkflow', routerWorkflow],
  ['routerBaselineWorkflow', routerBaselineWorkflow],
] as const;

describe.each(variants)('%s', (name, workflow) => {
  test('routes chat to the chat replicas and coding to the coder, whose program runs and passes', async () => {
    const workflowId = fixtureIds[name];
    const { chat, coding, history } = await withNalarWorker(env, name, { workflowBundle }, async (taskQueue) => {
      const coding = await env.client.workflow.execute(workflow, {
        taskQueue,
        workflowId,
        args: [codingRequest],
      });
      const chat = await env.client.workflow.execute(workflow, {
        taskQueue,
        workflowId: `${taskQueue}-chat`,
        args: [chatRequest],
      });
      return { chat, coding, history: await env.client.workflow.getHandle(workflowId).fetchHistory() };
    });
    expect(chat).toEqual<RouterResult>({
      branch: 'chat',
      replyChars: expect.any(Number) as number,
      criticalPath: { modelMs: expect.any(Number) as number, toolMs: 0 },
      replicas: ['classifier-0', 'chat-0'],
    });
    expect(chat.replyChars).toBeGreaterThan(40); // 40 tokens of prose
    expect(coding).toEqual<RouterResult>({
      branch: 'coding',
      passed: true,
      criticalPath: { modelMs: expect.any(Number) as number, toolMs: expect.any(Number) as number },
      replicas: ['classifier-0', 'coder-0'],
    });
    // Model time: 40 output tokens of at least 12 model ms each on the chat branch, plus the classifier's.
    expect(chat.criticalPath.modelMs).toBeGreaterThan(40 * 12);
    expect(coding.criticalPath.modelMs).toBeGreaterThan(20 * 12);
    expect(coding.criticalPath.toolMs).toBeGreaterThan(0);

    if (process.env.NALAR_RECORD_FIXTURES === '1') writeFileSync(fixtures[name], historyToJSON(history) + '\n');
    await expect(Worker.runReplayHistory({ workflowBundle }, history, workflowId)).resolves.toBeUndefined();
  });

  test('the checked-in history still replays', async () => {
    const history: unknown = JSON.parse(readFileSync(fixtures[name], 'utf8'));
    await expect(Worker.runReplayHistory({ workflowBundle }, history, fixtureIds[name])).resolves.toBeUndefined();
  });

  test('a request with no time left fails with NALAR_ERR_DEADLINE_EXCEEDED before it calls a model', async () => {
    const err = await withNalarWorker(env, `${name}-deadline`, { workflowBundle }, (taskQueue) =>
      env.client.workflow
        .execute(workflow, { taskQueue, workflowId: `${taskQueue}-wf`, args: [{ ...chatRequest, deadlineMs: 1 }] })
        .then(
          () => undefined,
          (e: unknown) => e,
        ),
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause.type).toBe(ErrorCode.DEADLINE_EXCEEDED);
    expect(cause.details?.[0]).toEqual({ deadlineMs: 1, step: 'classify' });
  });

  test('the engine gets the deadline: a reply that cannot finish in time is aborted there and the request fails', async () => {
    const before = await rejected('deadline');
    // 4000 tokens at 12 × 20 model ms each: about 10 s real at time scale 0.01, against a deadline of 3 s.
    const slow = { ...chatRequest, outputTokens: 4000, deadlineMs: 3000 };
    const err = await withNalarWorker(env, `${name}-engine-deadline`, { workflowBundle }, (taskQueue) =>
      env.client.workflow.execute(workflow, { taskQueue, workflowId: `${taskQueue}-wf`, args: [slow] }).then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe(ErrorCode.DEADLINE_EXCEEDED);
    expect(cause.details?.[0]).toEqual({ deadlineMs: 3000, step: 'chat' });
    // The engine itself dropped the reply at the deadline (408 deadline_exceeded), freeing its batch slot.
    await waitFor(async () => (await rejected('deadline')) > before, { what: "chat-0's engine to abort the reply" });
    await waitFor(() => pool.replicas[1]?.engine.numRunning === 0, { what: 'chat-0 to be idle again' });
  });

  test('a full chat replica fails the request with the engine 429 after three attempts', async () => {
    // Occupy chat-0's only sequence and its only waiting place with long requests, then route a chat to it.
    const abort = new AbortController();
    const occupy = (i: number) =>
      clientFor(pool, 1)
        .chat.completions.create(
          {
            model: 'router-chat',
            messages: [{ role: 'user', content: `occupy ${i}` }],
            metadata: { sim_output_tokens: '50000' },
            stream: true,
          },
          { signal: abort.signal },
        )
        .then(async (stream) => {
          for await (const chunk of stream) void chunk;
        })
        .catch(() => undefined);
    const long = [occupy(1)];
    try {
      const replica = pool.replicas[1];
      await waitFor(() => replica?.engine.numRunning === 1, { what: 'chat-0 to run the first occupying request' });
      long.push(occupy(2));
      await waitFor(() => replica?.engine.numWaiting === 1, { what: 'the second occupying request to wait' });
      const { err, history } = await withNalarWorker(env, `${name}-429`, { workflowBundle }, async (taskQueue) => {
        const workflowId = `${taskQueue}-wf`;
        const err = await env.client.workflow.execute(workflow, { taskQueue, workflowId, args: [chatRequest] }).then(
          () => undefined,
          (e: unknown) => e,
        );
        return { err, history: await env.client.workflow.getHandle(workflowId).fetchHistory() };
      });
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect(failureCode(err)).toBe(ErrorCode.LLM_RATE_LIMITED);
      // The chat step's last attempt was its third (the retry policy's bound), then the request failed.
      const attempts = (history.events ?? []).flatMap((e) =>
        e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt] : [],
      );
      expect(attempts).toEqual([1, 3]);
    } finally {
      abort.abort();
      await Promise.all(long);
      // A later test must find the replica free again.
      await waitFor(() => pool.replicas[1]?.engine.numRunning === 0 && pool.replicas[1]?.engine.numWaiting === 0, {
        what: 'chat-0 to be idle again',
      });
    }
  });
});
