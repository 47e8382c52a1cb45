/**
 * The agent model call as a Temporal activity against real simulator replicas over HTTP: retryable
 * failures are retried by Temporal (honouring Retry-After), rejected requests fail at once with a type.
 */
import path from 'node:path';
import type { ApplicationFailure, WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { configDefaults, loadConfig } from '../common/config';
import { ErrorCode } from '../common/errors';
import { createLlmActivities, type CallLlmInput, type CallLlmResult } from '../activities/llm';
import type { SimPool } from '../sim/pool';
import type { ReplicaProfileInput } from '../sim/profile';
import { startTestPool } from '../sim/test-helpers';
import { activityFailureOf, bundle, connectTestEnv, uniqueTaskQueue, type NalarWorkflowBundle } from './temporal';

let env: TestWorkflowEnvironment;
let workflowBundle: NalarWorkflowBundle;
const pools: SimPool[] = [];

beforeAll(async () => {
  env = await connectTestEnv();
  workflowBundle = await bundle(path.join(__dirname, 'fixtures', 'workflows', 'llm.ts'));
});

afterAll(async () => {
  await env?.teardown();
});

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

const question: CallLlmInput = {
  agent: 'analyst',
  messages: [{ role: 'user', content: 'Summarise the quarter.' }],
  metadata: { sim_output_tokens: '20' },
};

interface RunOptions {
  /** Profile of a fresh replica to call; ignored when `baseUrl` is given. */
  replica?: ReplicaProfileInput;
  baseUrl?: string;
  input?: CallLlmInput;
  maximumAttempts?: number;
  apiKey?: string;
  model?: string;
}

/** Runs llmCallWorkflow on a fresh worker whose activities are bound to the given endpoint. */
async function run(o: RunOptions = {}): Promise<CallLlmResult> {
  return (await runWorkflow(o)).result;
}

/** {@link run}, also returning the workflow's handle (to read its history). */
async function runWorkflow(o: RunOptions): Promise<{ result: CallLlmResult; handle: WorkflowHandle }> {
  let baseUrl = o.baseUrl;
  if (!baseUrl) {
    const pool = await startTestPool({ replicas: [o.replica ?? {}] });
    pools.push(pool);
    baseUrl = pool.baseUrls[0] as string;
  }
  const taskQueue = uniqueTaskQueue('llm');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle,
    activities: createLlmActivities({
      llmBaseUrl: baseUrl,
      llmApiKey: o.apiKey,
      llmModel: o.model ?? configDefaults.llmModel,
      llmTimeout: loadConfig().llmTimeout,
      agentModels: {},
    }),
  });
  const handle = await env.client.workflow.start('llmCallWorkflow', {
    taskQueue,
    workflowId: `${taskQueue}-wf`,
    args: [o.input ?? question, o.maximumAttempts ?? 3],
  });
  const result = await worker.runUntil(handle.result() as Promise<CallLlmResult>);
  return { result, handle };
}

/** The ApplicationFailure under WorkflowFailedError → ActivityFailure, with the activity's retry state. */
async function activityFailure(p: Promise<unknown>): Promise<ApplicationFailure & { retryState?: string }> {
  const { activity, cause } = await activityFailureOf(p);
  return Object.assign(cause, { retryState: activity.retryState });
}

test('a streamed call returns the reply, token usage and timings', async () => {
  const result = await run();
  expect(result.content.length).toBeGreaterThan(20);
  expect(result.usage.completionTokens).toBe(20);
  expect(result.usage.promptTokens).toBeGreaterThan(3);
  expect(result.finishReason).toBe('stop');
  expect(result.attempt).toBe(1);
  expect(result.timings.ttftMs).toBeGreaterThan(0);
  expect(result.timings.totalMs).toBeGreaterThanOrEqual(result.timings.ttftMs as number);
});

test.each([true, false])('the engine report (stream %s) names the replica and its model time', async (stream) => {
  // 20 output tokens at 10 model ms each, no batching term: the simulator reports exactly that much decode.
  const result = await run({
    replica: { name: 'analyst-0', decodeBaseMs: 10, decodePerSeqMs: 0, prefillPerTokenMs: 0 },
    input: { ...question, stream },
  });
  // The engine runs on the real clock here, so a request may wait a moment for the next iteration.
  expect(result.engine?.replica).toBe('analyst-0');
  expect(result.engine?.queueMs).toBeGreaterThanOrEqual(0);
  expect((result.engine?.totalMs ?? 0) - (result.engine?.queueMs ?? 0)).toBeCloseTo(200, 0);
});

test('an agent with several replicas keeps a session on one of them and spreads sessions over all', async () => {
  const pool = await startTestPool({ replicas: [0, 1, 2].map((i) => ({ name: `r${i}` })) });
  pools.push(pool);
  const taskQueue = uniqueTaskQueue('llm-replicas');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle,
    activities: createLlmActivities({
      llmBaseUrl: 'http://127.0.0.1:9/v1', // never used: the agent's replicas win
      llmApiKey: undefined,
      llmModel: configDefaults.llmModel,
      llmTimeout: loadConfig().llmTimeout,
      agentModels: { analyst: { baseUrls: pool.baseUrls } },
    }),
  });
  // A plain activity's session is its workflow: two calls of one workflow id go to one replica. 30 sessions
  // on 3 replicas by hash: the chance that one replica gets none is 3 × (2/3)^30, about 1e-5.
  const replicaOf = (workflowId: string) =>
    env.client.workflow
      .execute('llmCallWorkflow', { taskQueue, workflowId, args: [question, 1] })
      .then((r) => (r as CallLlmResult).engine?.replica);
  const seen = await worker.runUntil(async () => {
    const out: Record<string, string | undefined> = {};
    for (let i = 0; i < 30; i++) out[`${taskQueue}-s${i}`] = await replicaOf(`${taskQueue}-s${i}`);
    // The same session again (a new run of the same workflow id) lands where it was.
    for (let i = 0; i < 3; i++) expect(await replicaOf(`${taskQueue}-s${i}`)).toBe(out[`${taskQueue}-s${i}`]);
    // An explicit `sessionId` wins over the workflow id: another workflow naming session s_i lands with it
    // (10 sessions: that all 10 land there by the other workflow's own hash has chance (1/3)^10).
    for (let i = 0; i < 10; i++) {
      const r = await env.client.workflow.execute('llmCallWorkflow', {
        taskQueue,
        workflowId: `${taskQueue}-other${i}`,
        args: [{ ...question, sessionId: `${taskQueue}-s${i}` }, 1],
      });
      expect((r as CallLlmResult).engine?.replica).toBe(out[`${taskQueue}-s${i}`]);
    }
    return out;
  });
  expect(new Set(Object.values(seen))).toEqual(new Set(['r0', 'r1', 'r2']));
});

test('priority reaches engines configured to take it, and only those', async () => {
  const pool = await startTestPool({ replicas: [{ name: 'fcfs' }, { name: 'prio', schedulingPolicy: 'priority' }] });
  pools.push(pool);
  const [fcfs, prio] = pool.baseUrls as [string, string];
  const taskQueue = uniqueTaskQueue('llm-priority');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle,
    activities: createLlmActivities({
      llmBaseUrl: fcfs,
      llmApiKey: undefined,
      llmModel: configDefaults.llmModel,
      llmTimeout: loadConfig().llmTimeout,
      agentModels: {
        plain: { baseUrl: fcfs },
        ranked: { baseUrl: prio, priority: true },
        // Misconfigured on purpose: a server without priority scheduling refuses the field (as vLLM does).
        misconfigured: { baseUrl: fcfs, priority: true },
      },
    }),
  });
  const call = (agent: string, i: number) =>
    env.client.workflow.execute('llmCallWorkflow', {
      taskQueue,
      workflowId: `${taskQueue}-${agent}-${i}`,
      args: [{ ...question, agent, priority: 3 }, 1],
    }) as Promise<CallLlmResult>;
  await worker.runUntil(async () => {
    // Not configured: the field is not sent, so the fcfs server answers.
    expect((await call('plain', 1)).engine?.replica).toBe('fcfs');
    expect((await call('ranked', 1)).engine?.replica).toBe('prio');
    const refused = await activityFailure(call('misconfigured', 1));
    expect(refused.type).toBe(ErrorCode.LLM_BAD_REQUEST);
    expect(refused.message).toMatch(/Priority scheduling is not enabled/);
  });
});

test('the shared simulator pool started by the test setup serves agents', async () => {
  const baseUrl = process.env.NALAR_TEST_SIM_BASE_URL;
  if (!baseUrl) throw new Error('NALAR_TEST_SIM_BASE_URL is not set: run through npm test');
  const result = await run({ baseUrl, input: { ...question, stream: false } });
  expect(result.usage.completionTokens).toBe(20);
});

test('structured output: the reply is JSON valid for the requested schema', async () => {
  const schema = {
    type: 'object',
    properties: { route: { type: 'string', enum: ['chat', 'coding'] } },
    required: ['route'],
    additionalProperties: false,
  };
  const result = await run({ input: { ...question, jsonSchema: { name: 'route', schema } } });
  expect(['chat', 'coding']).toContain((JSON.parse(result.content) as { route: string }).route);
});

const weatherTool = {
  name: 'weather',
  description: 'Current weather of a city.',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string' }, days: { type: 'integer', minimum: 1, maximum: 7 } },
    required: ['city', 'days'],
    additionalProperties: false,
  },
};

test.each([true, false])(
  'tools (stream %s): the reply is the tool calls, then text once the tools answered',
  async (stream) => {
    const replica: ReplicaProfileInput = { toolCalls: { autoProbability: 1, maxParallel: 1 } };
    const asked = await run({
      replica,
      input: { ...question, stream, tools: [weatherTool], toolChoice: 'required' },
    });
    expect(asked.finishReason).toBe('tool_calls');
    expect(asked.content).toBe('');
    expect(asked.toolCalls).toHaveLength(1);
    const [call] = asked.toolCalls;
    expect(call?.id).toMatch(/^call_/);
    expect(call?.name).toBe('weather');
    const args = JSON.parse(call?.arguments ?? '') as { city: unknown; days: number };
    expect(typeof args.city).toBe('string');
    expect(args.days).toBeGreaterThanOrEqual(1);

    const answered = await run({
      replica,
      input: {
        ...question,
        stream,
        tools: [weatherTool],
        messages: [
          ...question.messages,
          { role: 'assistant', content: null, toolCalls: asked.toolCalls },
          { role: 'tool', toolCallId: call?.id ?? '', content: '{"sky":"clear"}' },
        ],
      },
    });
    expect(answered.finishReason).toBe('stop');
    expect(answered.toolCalls).toEqual([]);
    expect(answered.content.length).toBeGreaterThan(0);
  },
);

test.each([true, false])('parallel tool calls (stream %s) come back whole and in order', async (stream) => {
  const replica: ReplicaProfileInput = { toolCalls: { autoProbability: 1, maxParallel: 4 } };
  const inputs = ['Weather in four places?', 'Weather in Oslo and Rome?', 'Weather please.', 'Weather twice.'];
  let calls: CallLlmResult['toolCalls'] = [];
  // The number of calls is seeded by the conversation: take the first question that gets several.
  for (const content of inputs) {
    calls = (
      await run({
        replica,
        input: {
          ...question,
          stream,
          messages: [{ role: 'user', content }],
          tools: [weatherTool],
          toolChoice: 'required',
        },
      })
    ).toolCalls;
    if (calls.length > 1) break;
  }
  expect(calls.length).toBeGreaterThan(1);
  expect(new Set(calls.map((c) => c.id)).size).toBe(calls.length);
  for (const c of calls) expect(() => JSON.parse(c.arguments) as unknown).not.toThrow();
});

test('bad tool messages are rejected before any request', async () => {
  const failure = await activityFailure(
    run({
      baseUrl: 'http://127.0.0.1:9/v1',
      input: { ...question, messages: [{ role: 'tool', content: 'x' }] as unknown as CallLlmInput['messages'] },
    }),
  );
  expect(failure.type).toBe(ErrorCode.INVALID_INPUT);
});

test('an activity retried after a 500 succeeds', async () => {
  const result = await run({ replica: { faults: { failFirst: { count: 1, kind: '500' } } } });
  expect(result.attempt).toBe(2);
  expect(result.usage.completionTokens).toBe(20);
});

test('a dropped connection is retried', async () => {
  expect((await run({ replica: { faults: { failFirst: { count: 1, kind: 'drop' } } } })).attempt).toBe(2);
});

test('a 429 is retried after the Retry-After the server sent', async () => {
  const { result, handle } = await runWorkflow({
    replica: { retryAfterSeconds: 1, faults: { failFirst: { count: 1, kind: '429' } } },
  });
  expect(result.attempt).toBe(2);
  // The retry policy alone would wait 50 ms: the failure told Temporal to wait the server's Retry-After,
  // and the second attempt started with that failure as its last one.
  const { events } = await handle.fetchHistory();
  const started = events?.find((e) => e.activityTaskStartedEventAttributes?.attempt === 2);
  const lastFailure = started?.activityTaskStartedEventAttributes?.lastFailure;
  expect(lastFailure?.applicationFailureInfo?.type).toBe(ErrorCode.LLM_RATE_LIMITED);
  expect(Number(lastFailure?.applicationFailureInfo?.nextRetryDelay?.seconds)).toBe(1);
});

test('a 400 fails at once with its type, without retries', async () => {
  const unsupported = { type: 'object', properties: { x: { type: 'integer', minimum: 5, maximum: 1 } } };
  const failure = await activityFailure(
    run({ input: { ...question, jsonSchema: { name: 'bad', schema: unsupported } }, maximumAttempts: 5 }),
  );
  expect(failure.type).toBe('NALAR_ERR_LLM_BAD_REQUEST');
  expect(failure.nonRetryable).toBe(true);
  expect(failure.retryState).toBe('NON_RETRYABLE_FAILURE'); // not MAXIMUM_ATTEMPTS_REACHED: one attempt
  expect(failure.message).toContain('HTTP 400');
});

test('a prompt beyond the context length fails at once as NALAR_ERR_LLM_CONTEXT_LENGTH', async () => {
  const failure = await activityFailure(
    run({ replica: { maxModelLen: 64 }, input: { ...question, maxTokens: 100 }, maximumAttempts: 5 }),
  );
  expect(failure.type).toBe(ErrorCode.LLM_CONTEXT_LENGTH);
  expect(failure.nonRetryable).toBe(true);
  expect(failure.retryState).toBe('NON_RETRYABLE_FAILURE');
  expect(failure.message).toMatch(/HTTP 400 context_length_exceeded: .*maximum context length is 64 tokens/);
});

test.each([true, false])(
  'a request past its deadline (stream %s) fails at once as NALAR_ERR_LLM_DEADLINE_EXCEEDED',
  async (stream) => {
    // 200 tokens take ~2.4 model seconds; the deadline aborts the call after 100 model ms, running or not.
    const input = { ...question, stream, metadata: { sim_output_tokens: '200', sim_deadline_ms: '100' } };
    const failure = await activityFailure(run({ input, maximumAttempts: 5 }));
    expect(failure.type).toBe(ErrorCode.LLM_DEADLINE_EXCEEDED);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.retryState).toBe('NON_RETRYABLE_FAILURE');
    expect(failure.message).toContain('deadline_exceeded');
  },
);

test('a wrong key (401) and an unknown model (404) fail at once with their types', async () => {
  const replica = { apiKey: 'right' };
  const unauthorized = await activityFailure(run({ replica, apiKey: 'wrong', maximumAttempts: 5 }));
  expect(unauthorized.type).toBe('NALAR_ERR_LLM_UNAUTHORIZED');
  expect(unauthorized.nonRetryable).toBe(true);
  const notFound = await activityFailure(run({ replica, apiKey: 'right', model: 'gpt-9', maximumAttempts: 5 }));
  expect(notFound.type).toBe('NALAR_ERR_LLM_NOT_FOUND');
  expect(notFound.nonRetryable).toBe(true);
});

test('an unreachable endpoint is retryable and fails as unavailable once attempts run out', async () => {
  const pool = await startTestPool();
  const baseUrl = pool.baseUrls[0] as string;
  await pool.close(); // nothing listens there any more
  const failure = await activityFailure(run({ baseUrl, maximumAttempts: 2 }));
  expect(failure.type).toBe('NALAR_ERR_LLM_UNAVAILABLE');
  expect(failure.nonRetryable).toBe(false);
  expect(failure.retryState).toBe('MAXIMUM_ATTEMPTS_REACHED');
});

test('invalid input is rejected before any request', async () => {
  const failure = await activityFailure(run({ input: { agent: 'analyst', messages: [] } }));
  expect(failure.type).toBe('NALAR_ERR_INVALID_INPUT');
  expect(failure.message).toContain('messages');
});
