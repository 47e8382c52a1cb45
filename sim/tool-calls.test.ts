/**
 * Model-driven tool calls: the simulator over real HTTP with the official `openai` client (`tools`,
 * `tool_choice`, `parallel_tool_calls`, streamed deltas, the `runTools` helper), and the seeded planner alone.
 */
import Ajv2020 from 'ajv/dist/2020';
import type OpenAI from 'openai';
import type { APIError } from 'openai';
import type { RunnableToolFunctionWithParse } from 'openai/lib/RunnableFunction';
import { ManualClock } from '../common/clock';
import { waitFor } from '../test/helpers/wait-for';
import type { Replica } from './replica';
import { Prng } from './prng';
import { replicaProfile } from './profile';
import { chatCompletionRequest } from './request-schema';
import { clientFor, poolsClosedAfterEach } from './test-helpers';
import { countTokens } from './tokens';
import { planToolCalls } from './tool-calls';

const model = 'sim-llama-3-8b';
const pool = poolsClosedAfterEach();

const weatherParameters = {
  type: 'object',
  properties: {
    city: { type: 'string', minLength: 1, maxLength: 40 },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    days: { type: 'integer', minimum: 1, maximum: 14 },
  },
  required: ['city'],
  additionalProperties: false,
};

const searchParameters = {
  type: 'object',
  properties: {
    query: { type: 'string' },
    filters: {
      type: 'object',
      properties: {
        tags: { type: 'array', items: { type: 'string', enum: ['news', 'docs', 'code'] }, minItems: 1, maxItems: 3 },
        maxPrice: { type: 'number', minimum: 0, maximum: 99.5 },
        since: { type: 'string', format: 'date' },
      },
      required: ['tags'],
      additionalProperties: false,
    },
    limit: { type: 'integer', exclusiveMinimum: 0, maximum: 50 },
    exact: { type: 'boolean' },
  },
  required: ['query', 'filters'],
  additionalProperties: false,
};

const tools: OpenAI.Chat.ChatCompletionFunctionTool[] = [
  {
    type: 'function',
    function: { name: 'get_weather', description: 'Weather in a city', parameters: weatherParameters },
  },
  { type: 'function', function: { name: 'search', parameters: searchParameters, strict: true } },
  { type: 'function', function: { name: 'now', description: 'The current time (no arguments)' } },
];

const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
const validators = new Map(
  tools.map((t) => [t.function.name, ajv.compile(t.function.parameters ?? { type: 'object', maxProperties: 0 })]),
);

/** Throws unless the call names a known function and its arguments are valid JSON against its schema. */
function expectValidArguments(call: { function: { name: string; arguments: string } }): void {
  const validate = validators.get(call.function.name);
  if (!validate) throw new Error(`unknown function ${call.function.name}`);
  const args: unknown = JSON.parse(call.function.arguments);
  if (!validate(args)) throw new Error(`${call.function.arguments}: ${ajv.errorsText(validate.errors)}`);
}

type Create = OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;
const ask = (content: string, extra: Partial<Create> = {}): Create => ({
  model,
  messages: [{ role: 'user', content }],
  tools,
  ...extra,
});

function functionCalls(
  message: OpenAI.Chat.ChatCompletionMessage,
): OpenAI.Chat.ChatCompletionMessageFunctionToolCall[] {
  return (message.tool_calls ?? []).map((c) => {
    if (c.type !== 'function') throw new Error(`unexpected tool call type ${c.type}`);
    return c;
  });
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected the request to fail');
    },
    (err: unknown) => err,
  );
}

describe('non-streamed', () => {
  test("tool_choice 'required': tool calls with valid arguments, content null, finish_reason tool_calls", async () => {
    const client = clientFor(await pool());
    const res = await client.chat.completions.create(ask('What is the weather in Paris?', { tool_choice: 'required' }));
    const choice = res.choices[0] as OpenAI.Chat.ChatCompletion.Choice;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    const calls = functionCalls(choice.message);
    expect(calls.length).toBeGreaterThanOrEqual(1);
    for (const c of calls) {
      expect(c.id).toMatch(/^call_[A-Za-z0-9]{24}$/);
      expectValidArguments(c);
    }
    expect(new Set(calls.map((c) => c.id)).size).toBe(calls.length);
    // The arguments are the decoded tokens.
    expect(res.usage?.completion_tokens).toBe(calls.reduce((n, c) => n + countTokens(c.function.arguments), 0));
  });

  test('a named function: exactly one call of it', async () => {
    const client = clientFor(await pool());
    for (const name of ['get_weather', 'search', 'now']) {
      const res = await client.chat.completions.create(
        ask(`Please use ${name}`, { tool_choice: { type: 'function', function: { name } } }),
      );
      const calls = functionCalls(res.choices[0]?.message as OpenAI.Chat.ChatCompletionMessage);
      expect(calls.map((c) => c.function.name)).toEqual([name]);
      expectValidArguments(calls[0] as OpenAI.Chat.ChatCompletionMessageFunctionToolCall);
      if (name === 'now') expect(calls[0]?.function.arguments).toBe('{}');
    }
  });

  test("tool_choice 'none': a text answer", async () => {
    const client = clientFor(await pool());
    const res = await client.chat.completions.create(
      ask('Weather?', { tool_choice: 'none', metadata: { sim_output_tokens: '9' } }),
    );
    expect(res.choices[0]?.finish_reason).toBe('stop');
    expect(res.choices[0]?.message.tool_calls ?? []).toEqual([]);
    expect(res.usage?.completion_tokens).toBe(9);
  });

  test("'auto': calls tools at the profile's probability, and answers text once the last message is a tool result", async () => {
    const p = await pool({ replicas: [{ toolCalls: { autoProbability: 1 } }, { toolCalls: { autoProbability: 0 } }] });
    const always = clientFor(p, 0);
    const never = clientFor(p, 1);
    const first = await always.chat.completions.create(ask('Weather in Oslo?'));
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    expect((await never.chat.completions.create(ask('Weather in Oslo?'))).choices[0]?.finish_reason).toBe('stop');

    const message = first.choices[0]?.message as OpenAI.Chat.ChatCompletionMessage;
    const followUp = await always.chat.completions.create(
      ask('', {
        messages: [
          { role: 'user', content: 'Weather in Oslo?' },
          { role: 'assistant', content: null, tool_calls: message.tool_calls },
          ...functionCalls(message).map((c) => ({ role: 'tool' as const, tool_call_id: c.id, content: '12 degrees' })),
        ],
      }),
    );
    expect(followUp.choices[0]?.finish_reason).toBe('stop');
    expect(followUp.choices[0]?.message.content).toMatch(/\w/);
  });

  test('the default auto probability calls tools for some prompts and answers text for others', async () => {
    const client = clientFor(await pool());
    const reasons = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const res = await client.chat.completions.create(ask(`Question ${i}`, { metadata: { sim_output_tokens: '3' } }));
      reasons.add(res.choices[0]?.finish_reason as string);
    }
    expect([...reasons].sort()).toEqual(['stop', 'tool_calls']);
  });

  test('parallel calls: 1..maxParallel per reply, exactly one with parallel_tool_calls false', async () => {
    const client = clientFor(await pool({ replicas: [{ toolCalls: { maxParallel: 4 } }] }));
    const counts: number[] = [];
    const names = new Set<string>();
    for (let i = 0; i < 24; i++) {
      const res = await client.chat.completions.create(ask(`Task ${i}`, { tool_choice: 'required' }));
      const calls = functionCalls(res.choices[0]?.message as OpenAI.Chat.ChatCompletionMessage);
      calls.forEach((c) => {
        expectValidArguments(c);
        names.add(c.function.name);
      });
      counts.push(calls.length);
      const single = await client.chat.completions.create(
        ask(`Task ${i}`, { tool_choice: 'required', parallel_tool_calls: false }),
      );
      expect(single.choices[0]?.message.tool_calls).toHaveLength(1);
    }
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...counts)).toBeLessThanOrEqual(4);
    expect(counts.some((n) => n > 1)).toBe(true);
    expect(names.size).toBe(3);
  });

  test('max_tokens cuts the arguments short with finish_reason length', async () => {
    const client = clientFor(await pool());
    const res = await client.chat.completions.create(
      ask('Search', { tool_choice: { type: 'function', function: { name: 'search' } }, max_tokens: 3 }),
    );
    expect(res.choices[0]?.finish_reason).toBe('length');
    expect(res.usage?.completion_tokens).toBe(3);
    const [call] = functionCalls(res.choices[0]?.message as OpenAI.Chat.ChatCompletionMessage);
    expect(call?.function.name).toBe('search');
    expect(() => JSON.parse(call?.function.arguments ?? '')).toThrow();
  });

  test('the same seed and request give the same calls; another seed gives others', async () => {
    const a = clientFor(await pool({ seed: 11 }));
    const b = clientFor(await pool({ seed: 11 }));
    const c = clientFor(await pool({ seed: 12 }));
    const req = ask('Plan my trip', { tool_choice: 'required' });
    const [ra, rb, rc] = await Promise.all([a, b, c].map((cl) => cl.chat.completions.create(req)));
    expect(ra?.choices[0]?.message.tool_calls).toEqual(rb?.choices[0]?.message.tool_calls);
    expect(ra?.choices[0]?.message.tool_calls).not.toEqual(rc?.choices[0]?.message.tool_calls);
  });
});

test('the arguments are decoded like text: one decode iteration per argument token', async () => {
  const clock = new ManualClock();
  const p = await pool({ clock, replicas: [{ decodeBaseMs: 10, decodePerSeqMs: 0, prefillPerTokenMs: 0 }] });
  const engine = (p.replicas[0] as Replica).engine;
  const pending = clientFor(p)
    .chat.completions.create(ask('Search', { tool_choice: { type: 'function', function: { name: 'search' } } }))
    .withResponse();
  pending.catch(() => undefined); // a failure surfaces at the await below
  await waitFor(() => engine.numWaiting + engine.numRunning === 1, { what: 'the request in the engine' });
  clock.advanceUntil(() => engine.numWaiting + engine.numRunning === 0, 600_000);
  const { data } = await pending;
  const tokens = data.usage?.completion_tokens ?? 0;
  expect(tokens).toBeGreaterThan(10);
  expect((data as unknown as { nalar_sim: { total_ms: number } }).nalar_sim.total_ms).toBeCloseTo(tokens * 10, 0);
});

function nowCall(id: string): OpenAI.Chat.ChatCompletionMessageFunctionToolCall {
  return { id, type: 'function', function: { name: 'now', arguments: '{}' } };
}

describe('bad tool settings are 400 invalid_request_error', () => {
  test.each([
    [
      'an unknown named function',
      ask('x', { tool_choice: { type: 'function', function: { name: 'nope' } } }),
      'tool_choice',
    ],
    ['tool_choice without tools', ask('x', { tools: undefined, tool_choice: 'required' }), 'tool_choice'],
    [
      'a duplicate function name',
      ask('x', { tools: [tools[0], tools[0]] as OpenAI.Chat.ChatCompletionTool[] }),
      'tools.1.function.name',
    ],
    [
      'a tool result without tool_call_id',
      ask('x', { messages: [{ role: 'tool', content: 'r' } as unknown as OpenAI.Chat.ChatCompletionMessageParam] }),
      'messages.0.tool_call_id',
    ],
    [
      'a tool call left unanswered',
      ask('x', {
        messages: [
          { role: 'user', content: 'Time?' },
          { role: 'assistant', content: null, tool_calls: [nowCall('call_a'), nowCall('call_b')] },
          { role: 'tool', tool_call_id: 'call_a', content: '12:00' },
        ],
      }),
      'messages.1.role',
    ],
    [
      'a tool result answering no call',
      ask('x', {
        messages: [
          { role: 'user', content: 'Time?' },
          { role: 'assistant', content: null, tool_calls: [nowCall('call_a')] },
          { role: 'tool', tool_call_id: 'call_z', content: '12:00' },
        ],
      }),
      'messages.2.tool_call_id',
    ],
    [
      'a parameters schema it cannot satisfy',
      ask('x', {
        tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'string', pattern: '^a' } } }],
        tool_choice: 'required',
      }),
      'tools.0',
    ],
  ])('%s', async (_what, body, param) => {
    const client = clientFor(await pool());
    const err = (await rejection(client.chat.completions.create(body))) as APIError;
    expect(err.status).toBe(400);
    expect(err.type).toBe('invalid_request_error');
    expect(err.param).toBe(param);
  });
});

describe('streamed', () => {
  interface RawDelta {
    role?: string;
    content?: string | null;
    tool_calls?: { index: number; id?: string; type?: string; function: { name?: string; arguments: string } }[];
  }

  test('deltas as OpenAI streams them: role, then per call a header and argument pieces, then finish and usage', async () => {
    const client = clientFor(await pool({ replicas: [{ toolCalls: { maxParallel: 4 } }] }));
    // A prompt whose reply has several calls (found by the non-streamed call, which must agree with the stream).
    let prompt = '';
    let expected: OpenAI.Chat.ChatCompletion | undefined;
    for (let i = 0; !expected || (expected.choices[0]?.message.tool_calls?.length ?? 0) < 2; i++) {
      prompt = `Parallel ${i}`;
      expected = await client.chat.completions.create(ask(prompt, { tool_choice: 'required' }));
    }
    const stream = await client.chat.completions.create({
      ...ask(prompt, { tool_choice: 'required' }),
      stream: true,
      stream_options: { include_usage: true },
    });
    const deltas: RawDelta[] = [];
    const finishReasons: (string | null)[] = [];
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      const c = chunk.choices[0];
      if (!c) continue;
      deltas.push(c.delta as RawDelta);
      finishReasons.push(c.finish_reason);
    }
    expect(deltas[0]).toEqual({ role: 'assistant', content: null });
    expect(finishReasons.at(-1)).toBe('tool_calls');
    expect(finishReasons.slice(0, -1).every((r) => r === null)).toBe(true);
    expect(usage?.completion_tokens).toBe(expected.usage?.completion_tokens);

    // Rebuild the calls from the deltas by hand, checking each delta's shape.
    const rebuilt: { id: string; name: string; arguments: string }[] = [];
    for (const d of deltas.slice(1, -1)) {
      expect(d.tool_calls).toHaveLength(1);
      const t = d.tool_calls?.[0] as NonNullable<RawDelta['tool_calls']>[number];
      if (t.id !== undefined) {
        expect(t).toEqual({
          index: rebuilt.length,
          id: t.id,
          type: 'function',
          function: { name: t.function.name, arguments: '' },
        });
        rebuilt.push({ id: t.id, name: t.function.name as string, arguments: '' });
      } else {
        expect(Object.keys(t).sort()).toEqual(['function', 'index']);
        expect(t.index).toBe(rebuilt.length - 1);
        (rebuilt[t.index] as { arguments: string }).arguments += t.function.arguments;
      }
    }
    expect(rebuilt).toEqual(
      functionCalls(expected.choices[0]?.message as OpenAI.Chat.ChatCompletionMessage).map((c) => ({
        id: c.id,
        name: c.function.name,
        arguments: c.function.arguments,
      })),
    );
  });

  test.each([
    ['required', 'required' as const],
    ['a named function', { type: 'function' as const, function: { name: 'search' } }],
    ['auto', 'auto' as const],
  ])("the client's stream helper accumulates the same calls as a non-streamed reply (%s)", async (_what, choice) => {
    const client = clientFor(await pool({ replicas: [{ toolCalls: { autoProbability: 1 } }] }));
    const expected = await client.chat.completions.create(ask('Find docs about Temporal', { tool_choice: choice }));
    const argumentDeltas: string[] = [];
    const stream = client.chat.completions
      .stream({ ...ask('Find docs about Temporal', { tool_choice: choice }), stream: true })
      .on('tool_calls.function.arguments.delta', (e) => argumentDeltas.push(e.arguments_delta));
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    expect(final.choices[0]?.message.content).toBeNull();
    // The helper adds `parsed_arguments` to each function; the calls themselves must be identical.
    const plain = (m: OpenAI.Chat.ChatCompletionMessage | undefined) =>
      functionCalls(m as OpenAI.Chat.ChatCompletionMessage).map((c) => ({
        id: c.id,
        type: c.type,
        function: { name: c.function.name, arguments: c.function.arguments },
      }));
    expect(plain(final.choices[0]?.message)).toEqual(plain(expected.choices[0]?.message));
    // One argument delta per decoded token (the client also reports each call's opening '' as a delta).
    expect(argumentDeltas.filter((d) => d !== '').length).toBe(expected.usage?.completion_tokens);
    functionCalls(final.choices[0]?.message as OpenAI.Chat.ChatCompletionMessage).forEach(expectValidArguments);
  });

  test("'none' and a tool result last stream text", async () => {
    const client = clientFor(await pool());
    const text = async (body: Create): Promise<OpenAI.Chat.ChatCompletion> =>
      client.chat.completions.stream({ ...body, stream: true }).finalChatCompletion();
    const none = await text(ask('Hi', { tool_choice: 'none' }));
    expect(none.choices[0]?.finish_reason).toBe('stop');
    const afterTool = await text(
      ask('', {
        messages: [
          { role: 'user', content: 'Time?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'now', arguments: '{}' } }],
          },
          { role: 'tool', tool_call_id: 'call_1', content: '12:00' },
        ],
      }),
    );
    expect(afterTool.choices[0]?.finish_reason).toBe('stop');
    expect(afterTool.choices[0]?.message.content).toMatch(/\w/);
  });
});

describe('runTools', () => {
  function runnableTools(calls: { name: string; args: unknown }[]): RunnableToolFunctionWithParse<object>[] {
    return tools.map((t) => ({
      type: 'function' as const,
      function: {
        name: t.function.name,
        description: t.function.description ?? '',
        parameters: t.function.parameters ?? { type: 'object', properties: {} },
        parse: (raw: string) => JSON.parse(raw) as object,
        function: async (args: object) => {
          calls.push({ name: t.function.name, args });
          return { ok: true, tool: t.function.name };
        },
      },
    }));
  }

  test.each([false, true])(
    'runs to a final text answer, the tools called with valid arguments (stream %s)',
    async (stream) => {
      const client = clientFor(await pool({ replicas: [{ toolCalls: { autoProbability: 1 } }] }));
      const calls: { name: string; args: unknown }[] = [];
      const params = {
        model,
        messages: [{ role: 'user' as const, content: 'Weather in Lisbon, and any news?' }],
        tools: runnableTools(calls),
        metadata: { sim_output_tokens: '15' },
      };
      const runner = stream
        ? client.chat.completions.runTools({ ...params, stream: true })
        : client.chat.completions.runTools(params);
      const content = await runner.finalContent();
      expect(content).toMatch(/\w/);
      expect(calls.length).toBeGreaterThanOrEqual(1);
      for (const c of calls) {
        const validate = validators.get(c.name);
        expect(validate?.(c.args)).toBe(true);
      }
      // user, assistant with calls, one tool result per call, the final assistant text.
      const messages = runner.messages;
      expect(messages.filter((m) => m.role === 'tool')).toHaveLength(calls.length);
      expect(messages.at(-1)).toMatchObject({ role: 'assistant' });
      // Usage is reported for non-streamed replies (streams carry it only with stream_options.include_usage).
      if (!stream) expect((await runner.totalUsage()).completion_tokens).toBeGreaterThan(15);
    },
  );
});

describe('planToolCalls (pure)', () => {
  const knobs = replicaProfile().toolCalls;
  const request = chatCompletionRequest.parse(ask('x', { tool_choice: 'required' }));

  test('arguments validate against their schema for 300 seeds (required/optional props, enums, arrays, nested objects, bounded numbers, strings)', () => {
    const units = new Set<unknown>();
    const tagCounts = new Set<number>();
    for (let seed = 0; seed < 300; seed++) {
      const calls = planToolCalls(request, new Prng(seed), knobs) ?? [];
      expect(calls.length).toBeGreaterThanOrEqual(1);
      expect(calls.length).toBeLessThanOrEqual(knobs.maxParallel);
      for (const c of calls) {
        expectValidArguments({ function: c });
        const args = JSON.parse(c.arguments) as { unit?: string; filters?: { tags: string[] } };
        if (c.name === 'get_weather') units.add(args.unit);
        if (c.name === 'search') tagCounts.add(args.filters?.tags.length ?? 0);
      }
    }
    // Seeded, not constant: enum values and array lengths vary across seeds.
    expect([...units].sort()).toEqual(['celsius', 'fahrenheit']);
    expect(tagCounts.size).toBeGreaterThan(1);
  });

  test('a function without parameters gets {}', () => {
    const only = chatCompletionRequest.parse(
      ask('x', { tools: [tools[2] as OpenAI.Chat.ChatCompletionTool], tool_choice: 'required' }),
    );
    expect(planToolCalls(only, new Prng(1), knobs)?.every((c) => c.arguments === '{}')).toBe(true);
  });
});
