/**
 * Streaming end to end, on real parts: Fastify with the streams plugin, the embedded run event bus hosted by
 * it, a real worker posting its run events over HTTP, the simulator streaming tokens, the dev server. Covers
 * SSE of a run (tokens before the future completes, the final run event), Last-Event-ID resume, tenant
 * isolation, the reset of a retried call, and workflow history free of per-token events; and chat sessions
 * (update-with-start, context across turns, a streamed turn, end, idle end, replay of a checked-in history).
 */
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import * as activities from '../activities';
import { LocalController } from '../control-plane/local-controller/local-controller';
import { createSessionRoutes } from '../data-plane/gateway/sessions/routes';
import { createStreams } from '../data-plane/gateway/streams/routes';
import { freePort } from '../data-plane/supervisor/ports';
import type { RunEvent } from '../state/streams/events';
import { MemoryRunEventBus } from '../state/streams/memory-bus';
import { BatchingPublisher, httpEventSender } from '../state/streams/publisher';
import { flakyLlm } from './fixtures/flaky-llm';
import { waitFor } from './helpers/wait-for';
import { buildTestGateway, gatewayFetch, readSse, type SseEvent } from './helpers/gateway-app';
import { bundle, connectTestEnv, uniqueTaskQueue, type NalarWorkflowBundle } from './temporal';
import { createNalarWorker } from '../data-plane/worker/worker';
import { Worker } from '@temporalio/worker';
import { readFileSync, writeFileSync } from 'node:fs';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';

// Agents in this process call the simulator the test setup started.
process.env.NALAR_LLM_BASE_URL = process.env.NALAR_TEST_SIM_BASE_URL;

const ingestToken = 'streams-test-internal-token';
let env: TestWorkflowEnvironment;
let workflowBundle: NalarWorkflowBundle;
let app: FastifyInstance;
let base: string;
let bus: MemoryRunEventBus;
let publisher: BatchingPublisher;
let worker: Worker;
let running: Promise<void>;
let taskQueue: string;

beforeAll(async () => {
  env = await connectTestEnv();
  workflowBundle = await bundle(path.join(__dirname, 'fixtures', 'workflows', 'streams.ts'));
  taskQueue = uniqueTaskQueue('streams');
  bus = new MemoryRunEventBus();
  const streams = createStreams({ bus });
  app = await buildTestGateway({
    client: env.client,
    taskQueue,
    bus,
    ingestToken,
    plugins: [streams.streamRoutes, createSessionRoutes({ bus, idleTimeoutMs: 10 * 60_000 })],
    streams,
  });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  await app.listen({ host: '127.0.0.1', port });
  publisher = new BatchingPublisher({ send: httpEventSender({ url: base, token: ingestToken }) });
  worker = await createNalarWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    workflowBundle,
    localController: new LocalController(),
    activities: { ...activities, flakyLlm },
    runEvents: publisher,
  });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await publisher?.close();
  await app?.close();
  await bus?.close();
  await env?.teardown();
});

const dataOf = (e: SseEvent) => e.data as Record<string, unknown>;

test('a streamed run: future events, tokens while each LLM call runs (before it completes), then the result', async () => {
  const id = `article-${Date.now().toString(36)}`;
  const res = await gatewayFetch(`${base}/v1/workflows/writeArticleWorkflow?mode=stream&workflowId=${id}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ topics: ['batching'] }),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events = await readSse(res);
  const last = events.at(-1) as SseEvent;
  expect(last.event).toBe('run');
  expect(dataOf(last).status).toBe('completed');
  // It took the place of the worker's own end-of-run event (so it came after every event of the run).
  expect(last.id).toBeDefined();
  expect(typeof (dataOf(last).result as { article: string }).article).toBe('string');

  // Bus events carry increasing ids; the final run event closes the stream.
  const ids = events.filter((e) => e.id !== undefined).map((e) => Number(e.id));
  expect(ids).toEqual([...ids].sort((a, b) => a - b));
  const tokens = events.filter((e) => e.event === 'token');
  const llmFutures = [...new Set(tokens.map((e) => dataOf(e).futureId as string))];
  expect(llmFutures.length).toBe(2); // writer.draft, writer.tighten
  for (const futureId of llmFutures) {
    const firstToken = events.findIndex((e) => e.event === 'token' && dataOf(e).futureId === futureId);
    const completed = events.findIndex(
      (e) => e.event === 'future' && dataOf(e).futureId === futureId && dataOf(e).state === 'completed',
    );
    expect(firstToken).toBeGreaterThanOrEqual(0);
    expect(completed).toBeGreaterThan(firstToken);
    // Every token of the call came before its completion.
    const lastToken = events.findLastIndex((e) => e.event === 'token' && dataOf(e).futureId === futureId);
    expect(completed).toBeGreaterThan(lastToken);
  }
  // The tokens of the tightened text are the workflow's summary... the result's article is the draft; the
  // streamed text of the draft call is exactly the draft.
  const draftFuture = llmFutures[0] as string;
  const draftText = tokens
    .filter((e) => dataOf(e).futureId === draftFuture)
    .map((e) => dataOf(e).text)
    .join('');
  expect((dataOf(last).result as { article: string }).article).toContain(draftText.trim().slice(0, 40));

  // Resume: Last-Event-ID replays what the bus kept after that id, then the final event.
  const resumeFrom = ids[2] as number;
  const resumed = await readSse(
    await gatewayFetch(`${base}/v1/runs/${id}/events`, { headers: { 'last-event-id': String(resumeFrom) } }),
  );
  expect(Number(resumed[0]?.id)).toBe(resumeFrom + 1);
  expect(resumed.filter((e) => e.event === 'token').length).toBe(
    tokens.length - events.slice(0, 3).filter((e) => e.event === 'token').length,
  );
  expect(resumed.at(-1)?.event).toBe('run');

  // Connecting after the end: the futures from history, then the outcome.
  const late = await readSse(await gatewayFetch(`${base}/v1/runs/${id}/events`));
  expect(late.filter((e) => e.event === 'future').map((e) => dataOf(e).state)).toEqual(Array(4).fill('completed'));
  expect(dataOf(late.at(-1) as SseEvent).status).toBe('completed');

  // Another tenant's id is a 404, by construction of the workflow id.
  const other = await gatewayFetch(`${base}/v1/runs/${id}/events`, { headers: { 'x-tenant': 'other' } });
  expect(other.status).toBe(404);
  expect(((await other.json()) as { error: { code: string } }).error.code).toBe('NALAR_ERR_WORKFLOW_NOT_FOUND');
});

/**
 * Every event the bus got for `workflowId` while `run` ran. (A workflow without stub calls sends no end-of-run
 * event; `callLlm` flushes its tokens before it returns, so they are on the bus when the run has ended.)
 */
async function busEventsOf(workflowId: string, run: () => Promise<unknown>): Promise<RunEvent[]> {
  const sub = bus.subscribe(workflowId, 0);
  const collected = (async () => {
    const out: RunEvent[] = [];
    for await (const e of sub) out.push(e);
    return out;
  })();
  await run();
  sub.close(); // what is queued is still delivered
  return collected;
}

test('a retried LLM call: its second attempt starts with a reset, then streams anew', async () => {
  const workflowId = `flaky-${Date.now().toString(36)}`;
  const events = await busEventsOf(workflowId, () =>
    env.client.workflow.execute('flakyLlmWorkflow', {
      taskQueue,
      workflowId,
      args: [{ agent: 'chat', messages: [{ role: 'user', content: 'hi' }], metadata: { sim_output_tokens: '12' } }],
    }),
  );
  const reset = events.findIndex((e) => e.kind === 'reset');
  expect(reset).toBeGreaterThan(0);
  expect(events[reset]).toMatchObject({ kind: 'reset', attempt: 2 });
  const before = events.slice(0, reset).filter((e) => e.kind === 'token');
  const after = events.slice(reset).filter((e) => e.kind === 'token');
  expect(before.length).toBeGreaterThan(0);
  expect(before.every((e) => e.kind === 'token' && e.attempt === 1)).toBe(true);
  expect(after.every((e) => e.kind === 'token' && e.attempt === 2)).toBe(true);
  expect(after.map((e) => (e.kind === 'token' ? e.text : '')).join('')).toBe(
    before.map((e) => (e.kind === 'token' ? e.text : '')).join(''),
  );
});

test('nothing per token goes into history: a 5-token and a 300-token call have histories of the same events', async () => {
  const run = async (tokens: number) => {
    const workflowId = `tokens-${tokens}-${Date.now().toString(36)}`;
    const events = await busEventsOf(workflowId, () =>
      env.client.workflow.execute('flakyLlmWorkflow', {
        taskQueue,
        workflowId,
        args: [
          {
            agent: 'chat',
            messages: [{ role: 'user', content: 'hi' }],
            metadata: { sim_output_tokens: String(tokens) },
          },
        ],
      }),
    );
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    return {
      streamed: events.filter((e) => e.kind === 'token').length,
      types: history.events?.map((e) => e.eventType),
    };
  };
  const short = await run(5);
  const long = await run(300);
  expect(long.streamed).toBeGreaterThan(short.streamed * 10);
  expect(long.types).toEqual(short.types);
});

describe('chat sessions', () => {
  const fixture = path.join(__dirname, 'fixtures', 'chat-session-history.json');
  const post = (id: string, body: unknown, headers: Record<string, string> = {}) =>
    gatewayFetch(`${base}/v1/sessions/${id}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  test('two turns through update-with-start: the second sees the first; a streamed turn; end; replay', async () => {
    // A fixed id: future ids derive from the workflow id, and the recorded history replays under it. (Each
    // test run has its own dev server.)
    const id = 'fixture';
    const first = await post(id, { message: 'My name is Ada.', maxTokens: 8 });
    expect(first.status).toBe(200);
    const one = (await first.json()) as { id: string; turn: number; reply: string };
    expect(one).toMatchObject({ id, turn: 1 });
    expect(one.reply.length).toBeGreaterThan(0);

    const second = (await (await post(id, { message: 'What is my name?', maxTokens: 8 })).json()) as { turn: number };
    expect(second.turn).toBe(2);

    // The second agent call got the first turn as context (its recorded input).
    const workflowId = `local:session-${id}`;
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    const inputs = (history.events ?? [])
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'chat.reply')
      .map((e) =>
        defaultPayloadConverter.fromPayload<{ turns: unknown[]; message: string }>(
          e.activityTaskScheduledEventAttributes?.input?.payloads?.[0] as Payload,
        ),
      );
    expect(inputs.map((i) => i.message)).toEqual(['My name is Ada.', 'What is my name?']);
    expect(inputs[1]?.turns).toEqual([{ user: 'My name is Ada.', assistant: one.reply }]);

    // A streamed turn: its tokens, then the reply they spell.
    const streamed = await readSse(
      await post(id, { message: 'Tell me more.', maxTokens: 30 }, { accept: 'text/event-stream' }),
    );
    const reply = streamed.at(-1) as SseEvent;
    expect(reply.event).toBe('reply');
    expect(dataOf(reply)).toMatchObject({ id, turn: 3 });
    const text = streamed
      .filter((e) => e.event === 'token')
      .map((e) => dataOf(e).text)
      .join('');
    expect(text).toBe(dataOf(reply).reply);

    // The turns so far; another tenant sees no such session.
    const got = (await (await gatewayFetch(`${base}/v1/sessions/${id}`)).json()) as { turns: { user: string }[] };
    expect(got.turns.map((t) => t.user)).toEqual(['My name is Ada.', 'What is my name?', 'Tell me more.']);
    expect((await gatewayFetch(`${base}/v1/sessions/${id}`, { headers: { 'x-tenant': 'other' } })).status).toBe(404);
    expect((await post(id, { message: 'hi' }, { 'x-tenant': 'other' })).status).toBe(200); // its own, new session

    // A bad message is a 400 naming the field, before anything reaches the session.
    const bad = await post(id, { message: '   ' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/^message: /);
    // Sent past the gateway, the workflow's validator refuses it: nothing enters the history.
    const before = (await env.client.workflow.getHandle(workflowId).fetchHistory()).events?.length;
    await expect(
      env.client.workflow.getHandle(workflowId).executeUpdate('message', { args: [{ message: 42 }] }),
    ).rejects.toMatchObject({
      cause: { type: 'NALAR_ERR_INVALID_INPUT', message: expect.stringMatching(/message: /) },
    });
    expect((await env.client.workflow.getHandle(workflowId).fetchHistory()).events?.length).toBe(before);

    // DELETE ends it.
    const del = await gatewayFetch(`${base}/v1/sessions/${id}`, { method: 'DELETE' });
    expect(del.status).toBe(202);
    await expect(env.client.workflow.getHandle(workflowId).result()).resolves.toEqual({ turns: 3, reason: 'ended' });
    expect((await gatewayFetch(`${base}/v1/sessions/${id}`, { method: 'DELETE' })).status).toBe(404);

    const full = await env.client.workflow.getHandle(workflowId).fetchHistory();
    if (process.env.NALAR_RECORD_FIXTURES === '1') writeFileSync(fixture, historyToJSON(full) + '\n');
    await expect(Worker.runReplayHistory({ workflowBundle }, full, workflowId)).resolves.toBeUndefined();
  });

  test('a client that disconnects from a run stream releases its subscription', async () => {
    const id = `session-open-${Date.now().toString(36)}`;
    const workflowId = `local:${id}`;
    await env.client.workflow.start('chatSessionWorkflow', {
      taskQueue,
      workflowId,
      args: [{ idleTimeoutMs: 600_000 }],
    });
    const abort = new AbortController();
    const res = await gatewayFetch(`${base}/v1/runs/${id}/events`, { signal: abort.signal });
    expect(res.status).toBe(200);
    await waitFor(() => bus.subscriberCount(workflowId) === 1, { what: 'the stream to subscribe' });
    abort.abort();
    await waitFor(() => bus.subscriberCount(workflowId) === 0, { what: 'the subscription to be released' });
    await env.client.workflow.getHandle(workflowId).signal('end');
    await env.client.workflow.getHandle(workflowId).result();
  });

  test('a long session continues as new between turns and keeps its conversation', async () => {
    const workflowId = `local:session-long-${Date.now().toString(36)}`;
    const first = await env.client.workflow.start('chatSessionWorkflow', {
      taskQueue,
      workflowId,
      args: [{ idleTimeoutMs: 600_000, maxHistoryEvents: 10 }],
    });
    const handle = env.client.workflow.getHandle(workflowId);
    for (let i = 1; i <= 4; i++) {
      // Each message goes to the latest run of the session (a handle without a run id follows it).
      const reply = await handle.executeUpdate<{ turn: number }, [{ message: string; maxTokens: number }]>('message', {
        args: [{ message: `turn ${i}`, maxTokens: 4 }],
      });
      expect(reply.turn).toBe(i);
    }
    const runs = await waitFor(
      async () => {
        const described = await handle.describe();
        return described.runId !== first.firstExecutionRunId && described;
      },
      { what: 'the session to continue as new' },
    );
    expect(runs.status.name).toBe('RUNNING');
    const turns = await handle.query<{ user: string }[]>('turns');
    expect(turns.map((t) => t.user)).toEqual(['turn 1', 'turn 2', 'turn 3', 'turn 4']);
    await handle.signal('end');
    await expect(handle.result()).resolves.toEqual({ turns: 4, reason: 'ended' });
  });

  test('a session ends by itself after its idle timeout', async () => {
    const workflowId = `local:session-idle-${Date.now().toString(36)}`;
    await env.client.workflow.start('chatSessionWorkflow', { taskQueue, workflowId, args: [{ idleTimeoutMs: 500 }] });
    await expect(env.client.workflow.getHandle(workflowId).result()).resolves.toEqual({ turns: 0, reason: 'idle' });
  });

  test('the checked-in history of a chat session still replays', async () => {
    const history: unknown = JSON.parse(readFileSync(fixture, 'utf8'));
    await expect(
      Worker.runReplayHistory({ workflowBundle }, history, 'local:session-fixture'),
    ).resolves.toBeUndefined();
  });
});
