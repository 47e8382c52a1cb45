/**
 * The simulator over real HTTP with the official `openai` client: the API surface, outputs, batching,
 * prefix caching, overload and every injected fault.
 */
import Ajv2020 from 'ajv/dist/2020';
import OpenAI, { type APIError } from 'openai';
import { waitFor } from '../test/helpers/wait-for';
import { ManualClock } from '../common/clock';
import type { SimPool } from './pool';
import type { Replica } from './replica';
import { clientFor, poolsClosedAfterEach } from './test-helpers';

const model = 'sim-llama-3-8b';
const pool = poolsClosedAfterEach();

interface SimTimings {
  replica: string;
  queue_ms: number;
  ttft_ms: number;
  total_ms: number;
}

function simTimings(body: unknown): SimTimings {
  return (body as { nalar_sim: SimTimings }).nalar_sim;
}

const ask = (content: string, extra: Partial<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming> = {}) => ({
  model,
  messages: [{ role: 'user' as const, content }],
  ...extra,
});

/** Requests in replica `i`'s engine, waiting or in the batch. */
function inEngine(p: SimPool, i = 0): number {
  const engine = (p.replicas[i] as Replica).engine;
  return engine.numWaiting + engine.numRunning;
}

/** Longest stretch of clock time a test advances before it gives up (a hang, not a measurement). */
const MAX_CLOCK_MS = 600_000;

/**
 * On a pool driven by a ManualClock: waits until the engine holds `count` requests (all have arrived, at
 * the same clock time, however slowly the machine delivered them), then advances the clock until the
 * engine is idle. Every timing the requests report is then exact model time.
 */
async function runClock(p: SimPool, clock: ManualClock, count: number): Promise<void> {
  await waitFor(() => inEngine(p) === count, { what: () => `${count} requests in the engine (${inEngine(p)} so far)` });
  clock.advanceUntil(() => inEngine(p) === 0, MAX_CLOCK_MS);
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected the request to fail');
    },
    (err: unknown) => err,
  );
}

test('chat completion: an OpenAI-shaped reply with usage', async () => {
  const client = clientFor(await pool());
  const res = await client.chat.completions.create(ask('Hello there', { metadata: { sim_output_tokens: '12' } }));
  expect(res.object).toBe('chat.completion');
  expect(res.model).toBe(model);
  expect(res.choices[0]?.message.role).toBe('assistant');
  expect(res.choices[0]?.finish_reason).toBe('stop');
  expect(res.usage?.completion_tokens).toBe(12);
  expect(res.usage?.prompt_tokens).toBeGreaterThan(2);
  expect(res.choices[0]?.message.content?.length).toBeGreaterThan(12);
});

test('streaming returns the same text as a non-streamed call, with usage in the final chunk', async () => {
  const client = clientFor(await pool());
  const params = ask('Tell me about batching', { metadata: { sim_output_tokens: '40' } });
  const whole = await client.chat.completions.create(params);
  const stream = await client.chat.completions.create({
    ...params,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let deltas = 0;
  let usage: OpenAI.CompletionUsage | undefined | null;
  let finish: string | null | undefined;
  for await (const chunk of stream) {
    const d = chunk.choices[0]?.delta?.content;
    if (d) {
      text += d;
      deltas++;
    }
    finish ??= chunk.choices[0]?.finish_reason;
    if (chunk.usage) usage = chunk.usage;
  }
  expect(text).toBe(whole.choices[0]?.message.content);
  expect(deltas).toBe(40);
  expect(finish).toBe('stop');
  expect(usage?.completion_tokens).toBe(40);
});

test('max_tokens cuts the reply with finish_reason length; ignore_eos generates exactly max_tokens', async () => {
  const client = clientFor(await pool());
  const cut = await client.chat.completions.create(
    ask('Long please', { max_tokens: 5, metadata: { sim_output_tokens: '50' } }),
  );
  expect(cut.usage?.completion_tokens).toBe(5);
  expect(cut.choices[0]?.finish_reason).toBe('length');
  const exact = await client.chat.completions.create({
    ...ask('Exactly'),
    max_tokens: 33,
    ignore_eos: true,
  } as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming);
  expect(exact.usage?.completion_tokens).toBe(33);
});

test('same seed, same outputs; another seed, other outputs', async () => {
  const [a, b, c] = await Promise.all([pool({ seed: 1 }), pool({ seed: 1 }), pool({ seed: 2 })]);
  const params = ask('What is the capital of France?');
  const [ra, rb, rc] = await Promise.all([a, b, c].map((p) => clientFor(p).chat.completions.create(params)));
  expect(ra?.choices[0]?.message.content).toBe(rb?.choices[0]?.message.content);
  expect(ra?.usage?.completion_tokens).toBe(rb?.usage?.completion_tokens);
  expect(ra?.choices[0]?.message.content).not.toBe(rc?.choices[0]?.message.content);
});

test('response_format json_schema yields JSON valid against the schema', async () => {
  const client = clientFor(await pool());
  const schema = {
    type: 'object',
    properties: {
      route: { type: 'string', enum: ['chat', 'coding'] },
      confidence: { type: 'number', minimum: 0, maximum: 1 },
      reasons: { type: 'array', items: { type: 'string' }, minItems: 1 },
    },
    required: ['route', 'confidence', 'reasons'],
    additionalProperties: false,
  };
  const validate = new Ajv2020().compile(schema);
  for (const question of ['fix my bug', 'how are you', 'sort an array', 'tell a joke']) {
    const res = await client.chat.completions.create(
      ask(question, { response_format: { type: 'json_schema', json_schema: { name: 'route', schema, strict: true } } }),
    );
    const value: unknown = JSON.parse(res.choices[0]?.message.content ?? '');
    expect(validate(value)).toBe(true);
  }
});

test('models, health and vLLM-named metrics', async () => {
  const p = await pool();
  const client = clientFor(p);
  const models = await client.models.list();
  expect(models.data.map((m) => m.id)).toEqual([model]);
  await client.chat.completions.create(ask('warm up', { metadata: { sim_output_tokens: '3' } }));
  const root = (p.baseUrls[0] as string).replace(/\/v1$/, '');
  expect((await fetch(`${root}/health`)).status).toBe(200);
  const metrics = await (await fetch(`${root}/metrics`)).text();
  for (const name of [
    'vllm:num_requests_running',
    'vllm:num_requests_waiting',
    'vllm:kv_cache_usage_perc',
    'vllm:prefix_cache_queries',
    'vllm:prefix_cache_hits',
    'vllm:time_to_first_token_seconds_bucket',
    'vllm:time_per_output_token_seconds_bucket',
  ]) {
    expect(metrics).toContain(name);
  }
  expect(metrics).toMatch(/vllm:request_success_total\{model_name="sim-llama-3-8b",finished_reason="stop"\} 1/);
  // Busy time (for load imbalance): the replica was busy with the request, and the metric says as much.
  const busy = /nalar_sim_busy_seconds_total\{model_name="sim-llama-3-8b"\} ([0-9.e-]+)/.exec(metrics);
  const busyMs = (p.replicas[0] as Replica).busyMs;
  expect(busyMs).toBeGreaterThan(0);
  expect(Number(busy?.[1])).toBeCloseTo(busyMs / 1000, 6);
});

test('bad requests get OpenAI-shaped errors with the right status', async () => {
  const p = await pool({ replicas: [{ apiKey: 'secret' }] });
  const client = clientFor(p, 0, { apiKey: 'secret' });
  const noMessages = await rejection(client.chat.completions.create({ model, messages: [] }));
  expect(noMessages).toBeInstanceOf(OpenAI.BadRequestError);
  expect((noMessages as APIError).error).toMatchObject({ type: 'invalid_request_error', param: 'messages' });
  const unknownModel = await rejection(client.chat.completions.create({ ...ask('hi'), model: 'gpt-9' }));
  expect(unknownModel).toBeInstanceOf(OpenAI.NotFoundError);
  expect((unknownModel as APIError).code).toBe('model_not_found');
  const wrongKey = await rejection(clientFor(p, 0, { apiKey: 'wrong' }).chat.completions.create(ask('hi')));
  expect(wrongKey).toBeInstanceOf(OpenAI.AuthenticationError);
  const root = (p.baseUrls[0] as string).replace(/\/v1$/, '');
  const badJson = await fetch(`${root}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer secret' },
    body: '{"model": ',
  });
  expect(badJson.status).toBe(400);
  expect(await badJson.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
});

test('more concurrent requests slow every token down (batch-dependent decode time)', async () => {
  const clock = new ManualClock();
  const p = await pool({
    clock,
    timeScale: 0.05,
    replicas: [{ decodeBaseMs: 10, decodePerSeqMs: 0.5, prefillPerTokenMs: 0 }],
  });
  const client = clientFor(p);
  const run = async (n: number) => {
    const responses = Promise.all(
      Array.from({ length: n }, (_, i) =>
        client.chat.completions.create(ask(`q${i}`, { metadata: { sim_output_tokens: '50' } })).withResponse(),
      ),
    );
    responses.catch(() => undefined); // a failure surfaces at the await below, not as an unhandled rejection
    await runClock(p, clock, n);
    const totals = (await responses).map((r) => simTimings(r.data).total_ms);
    return totals.reduce((a, b) => a + b, 0) / totals.length;
  };
  const alone = await run(1);
  const crowded = await run(64);
  // 10.5 ms vs 42 ms of model time per token.
  expect(alone).toBeCloseTo(50 * 10.5, 0);
  expect(crowded).toBeGreaterThan(alone * 3.5);
});

// One request at a time reaches an idle engine, so its timings are exact model time even on the real clock.
test('a cached prefix makes the first token come sooner; another replica pays the prefill again', async () => {
  const p = await pool({ timeScale: 0.05, replicas: [{}, {}] });
  const history = Array.from({ length: 300 }, (_, i) => `Earlier turn ${i} of a long conversation about markets.`).join(
    ' ',
  );
  const turn = (question: string) => ({
    model,
    messages: [
      { role: 'system' as const, content: 'You are a financial analyst.' },
      { role: 'user' as const, content: history },
      { role: 'user' as const, content: question },
    ],
    metadata: { sim_output_tokens: '5' },
  });
  const call = async (replica: number, q: string) => {
    const data = await clientFor(p, replica).chat.completions.create(turn(q));
    return { cached: data.usage?.prompt_tokens_details?.cached_tokens ?? 0, ttft: simTimings(data).ttft_ms };
  };
  const miss = await call(0, 'first question');
  const hit = await call(0, 'second question');
  const moved = await call(1, 'third question');
  expect(miss.cached).toBe(0);
  expect(hit.cached).toBeGreaterThan(3000);
  expect(hit.ttft).toBeLessThan(miss.ttft / 3);
  expect(moved.cached).toBe(0);
  expect(moved.ttft).toBeGreaterThan(hit.ttft * 3);
});

test('overload: beyond the waiting-queue bound, 429 with Retry-After', async () => {
  const clock = new ManualClock();
  const p = await pool({ clock, replicas: [{ maxNumSeqs: 2, maxWaiting: 3, retryAfterSeconds: 2 }] });
  const engine = (p.replicas[0] as Replica).engine;
  const root = p.baseUrls[0] as string;
  const answered: Response[] = [];
  const send = (i: number) =>
    fetch(`${root}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ask(`q${i}`, { metadata: { sim_output_tokens: '20' } })),
    }).then((r) => {
      answered.push(r);
      return r;
    });
  // Two requests fill the batch (the second joins it when the first iteration ends)...
  const batch = [send(0), send(1)];
  await waitFor(() => inEngine(p) === 2, { what: () => `2 requests in the engine (${inEngine(p)} so far)` });
  clock.advanceUntil(() => engine.numRunning === 2, MAX_CLOCK_MS);
  // ...then eight more arrive while the clock stands still: three wait, five are refused.
  const responses = Promise.all([...batch, ...Array.from({ length: 8 }, (_, i) => send(i + 2))]);
  responses.catch(() => undefined); // a failure surfaces at the await below, not as an unhandled rejection
  await waitFor(() => answered.length === 5 && inEngine(p) === 5, {
    what: () => `5 refusals and 5 requests in the engine (${answered.length} answered, ${inEngine(p)} in the engine)`,
  });
  expect(answered.map((r) => r.status)).toEqual([429, 429, 429, 429, 429]);
  expect([engine.numRunning, engine.numWaiting]).toEqual([2, 3]);
  clock.advanceUntil(() => inEngine(p) === 0, MAX_CLOCK_MS);
  const statuses = (await responses).map((r) => r.status);
  expect(statuses.filter((s) => s === 200)).toHaveLength(5);
  expect(statuses.slice(0, 2)).toEqual([200, 200]);
  const refused = answered[0] as Response;
  expect(refused.headers.get('retry-after')).toBe('2');
  expect(await refused.json()).toMatchObject({ error: { code: 'rate_limit_exceeded' } });
  await Promise.all((await responses).filter((r) => !r.bodyUsed).map((r) => r.body?.cancel()));
});

describe('overload: failing requests the way engines do', () => {
  const flat = { decodeBaseMs: 10, decodePerSeqMs: 0, prefillPerTokenMs: 0 };
  const rootOf = (p: SimPool, i = 0) => (p.baseUrls[i] as string).replace(/\/v1$/, '');
  const post = (p: SimPool, body: unknown, i = 0) =>
    fetch(`${rootOf(p, i)}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const rejectedCount = (metrics: string, reason: string) =>
    Number(
      new RegExp(`nalar_sim_requests_rejected_total\\{model_name="${model}",reason="${reason}"\\} (\\d+)`).exec(
        metrics,
      )?.[1],
    );

  test('context length: 400 context_length_exceeded past maxModelLen or the KV cache; no max_tokens cuts the output', async () => {
    const clock = new ManualClock();
    const p = await pool({ clock, replicas: [{ maxModelLen: 64 }, { kvCacheTokens: 320, blockSize: 16 }] });
    const tooLong = await rejection(clientFor(p, 0).chat.completions.create(ask('hi', { max_tokens: 100 })));
    expect(tooLong).toBeInstanceOf(OpenAI.BadRequestError);
    expect((tooLong as APIError).error).toMatchObject({
      type: 'invalid_request_error',
      param: 'messages',
      code: 'context_length_exceeded',
    });
    expect((tooLong as APIError).message).toMatch(
      /maximum context length is 64 tokens\. However, you requested \d+ tokens \(\d+ in the messages, 100 in the completion\)/,
    );
    // Without max_tokens the reply stops at the context length, as vLLM's does.
    const cut = clientFor(p, 0).chat.completions.create(ask('hi', { metadata: { sim_output_tokens: '100' } }));
    await runClock(p, clock, 1);
    const reply = await cut;
    expect(reply.choices[0]?.finish_reason).toBe('length');
    expect((reply.usage?.prompt_tokens as number) + (reply.usage?.completion_tokens as number)).toBe(64);
    // Prompt + output beyond the whole KV cache (320 tokens) would wait forever: refused the same way.
    const huge = await rejection(
      clientFor(p, 1).chat.completions.create(ask('hi', { metadata: { sim_output_tokens: '400' } })),
    );
    expect((huge as APIError).status).toBe(400);
    expect((huge as APIError).code).toBe('context_length_exceeded');
    expect((huge as APIError).message).toMatch(/maximum context length is 320 tokens/);
    const metrics = await (await fetch(`${rootOf(p)}/metrics`)).text();
    expect(rejectedCount(metrics, 'context_length')).toBe(1);
    expect(rejectedCount(metrics, 'kv_oom')).toBe(0);
  });

  test('queue timeout: 503 queue_timeout with Retry-After; deadline: 408 while waiting, an error event mid-stream', async () => {
    const clock = new ManualClock();
    const p = await pool({
      clock,
      timeScale: 1,
      replicas: [{ ...flat, maxNumSeqs: 1, queueTimeoutMs: 100, retryAfterSeconds: 3 }],
    });
    // A streams and holds the only batch slot until its deadline at 300 model ms aborts it.
    const stream = await (async () => {
      const s = clientFor(p).chat.completions.create({
        ...ask('a', { metadata: { sim_output_tokens: '50', sim_deadline_ms: '300' } }),
        stream: true,
      });
      await waitFor(() => inEngine(p) === 1, { what: 'A in the engine' });
      clock.advance(10); // its first token: the stream's headers go out
      return s;
    })();
    const chunks: unknown[] = [];
    const streamed = (async () => {
      for await (const chunk of stream) chunks.push(chunk);
    })();
    const waitsTooLong = post(p, ask('b', { metadata: { sim_output_tokens: '5' } }));
    const deadline = post(p, ask('c', { metadata: { sim_output_tokens: '5', sim_deadline_ms: '50' } }));
    await waitFor(() => inEngine(p) === 3, { what: () => `3 requests in the engine (${inEngine(p)})` });
    clock.advanceUntil(() => inEngine(p) === 0, MAX_CLOCK_MS);

    const b = await waitsTooLong;
    expect(b.status).toBe(503);
    expect(b.headers.get('retry-after')).toBe('3');
    expect(await b.json()).toMatchObject({ error: { type: 'server_error', code: 'queue_timeout' } });
    const c = await deadline;
    expect(c.status).toBe(408);
    expect(await c.json()).toMatchObject({ error: { type: 'timeout_error', code: 'deadline_exceeded' } });
    const aborted = await rejection(streamed);
    expect(aborted).toBeInstanceOf(OpenAI.APIError);
    expect((aborted as APIError).code).toBe('deadline_exceeded');
    expect((aborted as APIError).message).toMatch(/aborted while running/);
    expect(chunks.length).toBeGreaterThan(1); // it had started: tokens came before the error
    const metrics = await (await fetch(`${rootOf(p)}/metrics`)).text();
    expect(rejectedCount(metrics, 'queue_timeout')).toBe(1);
    expect(rejectedCount(metrics, 'deadline')).toBe(2);
    expect(metrics).toMatch(/nalar_sim_request_errors_total\{model_name="sim-llama-3-8b",status="408"\} 2/);
    // A malformed deadline is the caller's mistake.
    const bad = await post(p, ask('d', { metadata: { sim_deadline_ms: 'soon' } }));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { param: 'metadata.sim_deadline_ms' } });
  });

  test('KV cache exhausted: with kvWaitTimeoutMs, a request that gets no KV blocks in time is a 503', async () => {
    const clock = new ManualClock();
    const p = await pool({
      clock,
      timeScale: 1,
      replicas: [{ ...flat, kvCacheTokens: 320, blockSize: 16, kvWaitTimeoutMs: 50 }],
    });
    // A holds 17 of the 20 blocks for 250 iterations; B needs 7.
    const a = post(p, ask('a', { metadata: { sim_output_tokens: '250' } }));
    await waitFor(() => inEngine(p) === 1, { what: 'A in the engine' });
    const b = post(p, ask('b', { metadata: { sim_output_tokens: '100' } }));
    await waitFor(() => inEngine(p) === 2, { what: 'B in the engine' });
    clock.advanceUntil(() => inEngine(p) === 0, MAX_CLOCK_MS);
    expect((await a).status).toBe(200);
    const refused = await b;
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ error: { type: 'server_error', code: 'kv_cache_exhausted' } });
    const metrics = await (await fetch(`${rootOf(p)}/metrics`)).text();
    expect(rejectedCount(metrics, 'kv_oom')).toBe(1);
  });
});

describe('faults', () => {
  test('scripted 500s, then normal service', async () => {
    const client = clientFor(await pool({ replicas: [{ faults: { failFirst: { count: 2, kind: '500' } } }] }));
    expect(await rejection(client.chat.completions.create(ask('a')))).toBeInstanceOf(OpenAI.InternalServerError);
    expect(await rejection(client.chat.completions.create(ask('a')))).toBeInstanceOf(OpenAI.InternalServerError);
    await expect(client.chat.completions.create(ask('a'))).resolves.toMatchObject({ object: 'chat.completion' });
  });

  test('random error rates are drawn reproducibly', async () => {
    const outcomes = async () => {
      const client = clientFor(await pool({ replicas: [{ faults: { errorRate500: 0.3, errorRate429: 0.2 } }] }));
      const out: string[] = [];
      for (let i = 0; i < 30; i++) {
        out.push(
          await client.chat.completions.create(ask('x', { metadata: { sim_output_tokens: '1' } })).then(
            () => 'ok',
            (e: unknown) => String((e as APIError).status),
          ),
        );
      }
      return out;
    };
    const first = await outcomes();
    expect(first).toContain('500');
    expect(first).toContain('429');
    expect(first).toContain('ok');
    expect(await outcomes()).toEqual(first);
  });

  test('a dropped connection is a connection error', async () => {
    const client = clientFor(await pool({ replicas: [{ faults: { dropRate: 1 } }] }));
    expect(await rejection(client.chat.completions.create(ask('a')))).toBeInstanceOf(OpenAI.APIConnectionError);
  });

  test('a request that is never answered times out at the client', async () => {
    const p = await pool({ replicas: [{ faults: { timeoutRate: 1 } }] });
    const err = await rejection(clientFor(p, 0, { timeoutMs: 300 }).chat.completions.create(ask('a')));
    // In a plain Node process this is an APIConnectionTimeoutError (a subclass). Under Jest, the `openai`
    // package re-wraps the AbortError from Node's fetch (another realm) and loses its name.
    expect(err).toBeInstanceOf(OpenAI.APIConnectionError);
    // What ended it is the client's own timer, not the replica: a dropped or refused connection rejects
    // with a TypeError ('fetch failed'), a timeout signal with a TimeoutError.
    const raw = await rejection(
      fetch(`${p.baseUrls[0]}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(ask('a')),
        signal: AbortSignal.timeout(300),
      }),
    );
    expect((raw as Error).name).toBe('TimeoutError');
  });

  test('a replica that dies refuses connections, then comes back', async () => {
    const clock = new ManualClock();
    const p = await pool({ clock, replicas: [{ faults: { outages: [{ atMs: 100, forMs: 500 }] } }] });
    const replica = p.replicas[0] as Replica;
    const client = clientFor(p);
    clock.advance(99);
    expect(replica.up).toBe(true);
    clock.advance(1);
    expect(replica.up).toBe(false);
    expect(await rejection(client.chat.completions.create(ask('a')))).toBeInstanceOf(OpenAI.APIConnectionError);
    clock.advance(499);
    expect(await rejection(client.chat.completions.create(ask('a')))).toBeInstanceOf(OpenAI.APIConnectionError);
    clock.advance(1);
    await waitFor(() => replica.up, { what: 'the replica to listen again after its outage' });
    const back = client.chat.completions.create(ask('a'));
    await runClock(p, clock, 1);
    await expect(back).resolves.toMatchObject({ object: 'chat.completion' });
  });

  // One request at a time reaches an idle engine, so its timings are exact model time even on the real clock.
  test('replicas of different speed: a slower replica takes proportionally longer', async () => {
    const p = await pool({ timeScale: 0.05, replicas: [{ speed: 1 }, { speed: 3 }] });
    const time = async (i: number) => {
      const data = await clientFor(p, i).chat.completions.create(
        ask('same', { metadata: { sim_output_tokens: '40' } }),
      );
      return simTimings(data).total_ms;
    };
    const [fast, slow] = [await time(0), await time(1)];
    expect(slow / fast).toBeGreaterThan(2.5);
    expect(slow / fast).toBeLessThan(3.5);
  });
});

describe('scheduling priority (vLLM `priority` field)', () => {
  test("under 'priority' the waiting request with the lowest priority goes first; waiting and queue time by priority in /metrics", async () => {
    const clock = new ManualClock();
    const p = await pool({
      clock,
      replicas: [
        { schedulingPolicy: 'priority', maxNumSeqs: 1, decodeBaseMs: 10, decodePerSeqMs: 0, prefillPerTokenMs: 0 },
      ],
    });
    const client = clientFor(p);
    const send = (content: string, priority: number) =>
      client.chat.completions.create({
        ...ask(content, {
          max_tokens: 5,
          ignore_eos: true,
        } as Partial<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming>),
        priority,
      } as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming);
    // One at a time into the engine, so their arrival order is known: the first runs, the other two wait.
    const first = send('first', 0);
    await waitFor(() => inEngine(p) === 1, { what: 'the first request in the engine' });
    const low = send('low priority', 5);
    await waitFor(() => inEngine(p) === 2, { what: 'the second request in the engine' });
    const high = send('high priority', -1);
    await waitFor(() => inEngine(p) === 3, { what: 'the third request in the engine' });
    const metricsUrl = `${(p.baseUrls[0] as string).replace(/\/v1$/, '')}/metrics`;
    const sample = (metrics: string, name: string, priority: string): number | undefined => {
      const labels = `model_name="sim-llama-3-8b",priority="${priority}"`;
      const m = new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(metrics);
      return m ? Number(m[1]) : undefined;
    };
    // Waiting by priority (beyond 0–9 under one label); the running request no longer counts.
    const waiting = await (await fetch(metricsUrl)).text();
    expect(sample(waiting, 'nalar_sim_num_requests_waiting', '5')).toBe(1);
    expect(sample(waiting, 'nalar_sim_num_requests_waiting', '<0')).toBe(1);
    expect(sample(waiting, 'nalar_sim_num_requests_waiting', '0')).toBe(0);
    await runClock(p, clock, 3);
    const [, lowBody, highBody] = await Promise.all([first, low, high]);
    // The later, higher-priority request waited one request's time; the earlier low one waited for both.
    expect(simTimings(highBody).queue_ms).toBeCloseTo(50, 5);
    expect(simTimings(lowBody).queue_ms).toBeCloseTo(100, 5);
    // Queue time by priority class, in model seconds; nothing waits any more.
    const done = await (await fetch(metricsUrl)).text();
    expect(sample(done, 'nalar_sim_request_queue_time_seconds_sum', '<0')).toBeCloseTo(0.05, 5);
    expect(sample(done, 'nalar_sim_request_queue_time_seconds_sum', '5')).toBeCloseTo(0.1, 5);
    expect(sample(done, 'nalar_sim_request_queue_time_seconds_count', '0')).toBe(1);
    for (const priority of ['0', '5', '<0']) expect(sample(done, 'nalar_sim_num_requests_waiting', priority)).toBe(0);
  });

  test("under 'fcfs' (the default) a non-zero priority is refused, as vLLM refuses it", async () => {
    const p = await pool({ replicas: [{}] });
    const err = await rejection(
      clientFor(p).chat.completions.create({
        ...ask('hi'),
        priority: 2,
      } as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming),
    );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as APIError).message).toMatch(/Priority scheduling is not enabled/);
    const zero = await clientFor(p).chat.completions.create({
      ...ask('hi', { max_tokens: 2 }),
      priority: 0,
    } as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming);
    expect(zero.choices).toHaveLength(1);
  });
});
