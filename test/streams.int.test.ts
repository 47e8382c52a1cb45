/**
 * Streaming end to end, on real parts: Fastify with the streams plugin, the embedded run event bus hosted by
 * it, a real worker posting its run events over HTTP, the simulator streaming tokens, the dev server. Covers
 * SSE of a run (tokens before the future completes, the final run event), Last-Event-ID resume, tenant
 * isolation, the reset of a retried call, and workflow history free of per-token events.
 */
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import * as activities from '../activities';
import { LocalController } from '../control-plane/local-controller/local-controller';
import { createStreams } from '../data-plane/gateway/streams/routes';
import { freePort } from '../data-plane/supervisor/ports';
import type { RunEvent } from '../state/streams/events';
import { MemoryRunEventBus } from '../state/streams/memory-bus';
import { BatchingPublisher, httpEventSender } from '../state/streams/publisher';
import { flakyLlm } from './fixtures/flaky-llm';
import { buildTestGateway, readSse, type SseEvent } from './helpers/gateway-app';
import { bundle, connectTestEnv, uniqueTaskQueue, type NalarWorkflowBundle } from './temporal';
import { createNalarWorker } from '../data-plane/worker/worker';
import type { Worker } from '@temporalio/worker';

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
    plugins: [streams.streamRoutes],
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
  const res = await fetch(`${base}/v1/workflows/writeArticleWorkflow?mode=stream`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ workflowId: id, topics: ['batching'] }),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events = await readSse(res);
  const last = events.at(-1) as SseEvent;
  expect(last.event).toBe('run');
  expect(dataOf(last).status).toBe('completed');
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
    await fetch(`${base}/v1/runs/${id}/events`, { headers: { 'last-event-id': String(resumeFrom) } }),
  );
  expect(Number(resumed[0]?.id)).toBe(resumeFrom + 1);
  expect(resumed.filter((e) => e.event === 'token').length).toBe(
    tokens.length - events.slice(0, 3).filter((e) => e.event === 'token').length,
  );
  expect(resumed.at(-1)?.event).toBe('run');

  // Connecting after the end: the futures from history, then the outcome.
  const late = await readSse(await fetch(`${base}/v1/runs/${id}/events`));
  expect(late.filter((e) => e.event === 'future').map((e) => dataOf(e).state)).toEqual(Array(4).fill('completed'));
  expect(dataOf(late.at(-1) as SseEvent).status).toBe('completed');

  // Another tenant's id is a 404, by construction of the workflow id.
  const other = await fetch(`${base}/v1/runs/${id}/events`, { headers: { 'x-tenant': 'other' } });
  expect(other.status).toBe(404);
  expect(((await other.json()) as { error: { code: string } }).error.code).toBe('NALAR_ERR_WORKFLOW_NOT_FOUND');
});

/** Every event the bus gets for `workflowId` until its run ends. */
async function busEventsOf(workflowId: string, start: () => Promise<unknown>): Promise<RunEvent[]> {
  const sub = bus.subscribe(workflowId, 0);
  const done = (async () => {
    const out: RunEvent[] = [];
    for await (const e of sub) {
      out.push(e);
      if (e.kind === 'run') break;
    }
    return out;
  })();
  await start();
  return done;
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
