/**
 * The agent loop outside a workflow (pure logic: model and tools are plain promises here): the calls of one
 * reply all start before any finishes, results go back as `tool` messages in the model's order, bad calls
 * become error results, and `maxSteps` bounds the loop. With real futures: test/agent-loop.int.test.ts.
 */
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { agentLoop, type AgentMessage, type AgentToolCall, type LlmTurn } from './agent-loop';

const call = (id: string, name: string, args: unknown): AgentToolCall => ({
  id,
  name,
  arguments: typeof args === 'string' ? args : JSON.stringify(args),
});

/** A model that answers the i-th call with `script[i]`, then with 'done'; it records what it was sent. */
function scripted(script: AgentToolCall[][]) {
  const seen: AgentMessage[][] = [];
  const model = async (messages: AgentMessage[]): Promise<LlmTurn> => {
    const calls = script[seen.length] ?? [];
    seen.push(messages);
    return {
      content: calls.length ? '' : 'done',
      toolCalls: calls,
      finishReason: calls.length ? 'tool_calls' : 'stop',
    };
  };
  return { model, seen };
}

test("one reply's calls all start before any finishes; results follow in the model's order", async () => {
  const events: string[] = [];
  const add = (args: { a: number; b: number }) => {
    events.push(`start ${args.a}`);
    return Promise.resolve().then(() => {
      events.push(`end ${args.a}`);
      return args.a + args.b;
    });
  };
  const { model, seen } = scripted([[call('x', 'add', { a: 1, b: 2 }), call('y', 'add', { a: 3, b: 4 })]]);
  const result = await agentLoop({ model, tools: { add }, messages: [{ role: 'user', content: 'sum' }] });
  expect(events).toEqual(['start 1', 'start 3', 'end 1', 'end 3']);
  expect(result.steps).toBe(2);
  expect(result.content).toBe('done');
  expect(seen[1]?.slice(-2)).toEqual([
    { role: 'tool', toolCallId: 'x', content: '3' },
    { role: 'tool', toolCallId: 'y', content: '7' },
  ]);
  expect(result.messages.at(-1)).toEqual({ role: 'assistant', content: 'done' });
});

test('unknown tools, bad JSON, schema mismatches and failing tools become error results', async () => {
  const started: unknown[] = [];
  const echo = (args: unknown) => {
    started.push(args);
    return Promise.resolve(args);
  };
  const fail = () => Promise.reject(new Error('outer', { cause: new Error('tool said no') }));
  const { model } = scripted([
    [
      call('1', 'nope', {}),
      call('2', 'echo', '{"v":'),
      call('3', 'checked', { v: 'x' }),
      call('4', 'fail', {}),
      call('5', 'checked', { v: 5 }),
      call('6', 'toString', {}),
    ],
  ]);
  const result = await agentLoop({
    model,
    tools: { echo, fail, checked: { run: echo, input: z.strictObject({ v: z.number() }) } },
    messages: [{ role: 'user', content: 'go' }],
  });
  const content = (id: string) =>
    result.messages.find((m) => m.role === 'tool' && m.toolCallId === id)?.content as string;
  expect(JSON.parse(content('1'))).toEqual({ error: "unknown tool 'nope'; the tools are: echo, fail, checked" });
  expect(JSON.parse(content('2')).error).toMatch(/^arguments of echo are not valid JSON/);
  expect(JSON.parse(content('3')).error).toMatch(/^invalid arguments of checked: v: /);
  expect(JSON.parse(content('4'))).toEqual({ error: 'tool said no' });
  expect(content('5')).toBe('{"v":5}');
  expect(JSON.parse(content('6')).error).toMatch(/^unknown tool 'toString'/);
  expect(started).toEqual([{ v: 5 }]); // only the well-formed call ran
});

test('maxSteps bounds the loop with a typed non-retryable failure', async () => {
  const again = [call('a', 'echo', {})];
  const { model, seen } = scripted([again, again, again]);
  const run = agentLoop({
    model,
    tools: { echo: async () => 1 },
    messages: [{ role: 'user', content: 'x' }],
    maxSteps: 2,
  });
  await expect(run).rejects.toBeInstanceOf(ApplicationFailure);
  await expect(run).rejects.toMatchObject({
    type: 'NALAR_ERR_AGENT_MAX_STEPS',
    nonRetryable: true,
    details: [{ maxSteps: 2, pendingToolCalls: ['echo'] }],
  });
  expect(seen).toHaveLength(2);
});
