/**
 * The router workload's agents (docs/workloads/router.md): a light `classifier` sends each request to the
 * chat branch (`chatBranch`) or the coding branch (`coder`, whose program the `codeRunner` tool then runs).
 * Every agent calls the model under its own name, so NALAR_AGENT_MODELS gives each its own replicas.
 * Retries are bounded (3 attempts; a 429's Retry-After sets the delay): an overloaded request fails with
 * the engine's error rather than retrying until its deadline. The stub generator reads definitions from
 * source literals, so each definition spells the policy out; workflows/router-baseline.ts repeats it.
 *
 * Requests cross the workflow as numbers (token counts and a seed), not text: the prompt of
 * `promptTokens` tokens is rebuilt here from the seed, so workflow histories stay small whatever the trace's
 * prompt lengths are.
 */
import { Context } from '@temporalio/activity';
import { loadConfig } from '../../common/config';
import { callLlm, type CallLlmResult } from '../llm';
import { runCode } from '../tools';
import { defineAgent, defineTool } from '../../stubs/define';
import { seededWords } from './seeded-text';

/** The two branches of the router, which are also the two request kinds of the trace. */
export type RouterBranch = 'chat' | 'coding';

/** What every router agent needs to rebuild a request's prompt. */
export interface RouterRequest {
  /** Seed of the request's prompt text (the same seed, the same text, in every process and on retry). */
  seed: number;
  /** Prompt length in tokens (the trace's ContextTokens, capped: docs/workloads/router.md). */
  promptTokens: number;
}

export interface ClassifyInput extends RouterRequest {
  /**
   * The request's label in the trace. The simulator cannot read a prompt, so the label stands in for the
   * classifier's judgement: the reply's JSON schema allows only this branch. The model call is still made
   * and its time paid (a short prompt, a few output tokens).
   */
  label: RouterBranch;
}

export interface ClassifyResult extends ModelTime {
  branch: RouterBranch;
}

export interface BranchInput extends RouterRequest {
  /** Reply length in tokens (the trace's GeneratedTokens, capped). */
  outputTokens: number;
}

export interface ChatReplyResult extends ModelTime {
  /** Characters of the reply (the text itself is not needed by the workflow, and would only grow history). */
  replyChars: number;
}

/** A program the coder wrote, and the tests it should pass. */
export interface WrittenCode extends ModelTime {
  code: string;
  tests: string[];
}

export interface CodeRunResult {
  passed: boolean;
  /** Real milliseconds of the run, measured by the tool (sandbox plus the simulated test-suite time). */
  toolMs: number;
}

/** Tokens of the request the classifier reads: the start of the prompt (a light agent, a short prompt). */
export const classifierPromptTokens = 64;

/**
 * Words of one letter run each (at most 12 letters), so each, after a space, is exactly one token for the
 * simulator's tokenizer (sim/tokens.ts) and for BPE tokenizers alike.
 */
const WORDS = [
  'the', 'request', 'model', 'agent', 'code', 'chat', 'function', 'return', 'value', 'user', 'answer', 'data',
  'list', 'table', 'query', 'server', 'client', 'error', 'test', 'build', 'module', 'string', 'number', 'array',
  'please', 'explain', 'write', 'fix', 'why', 'how', 'what', 'when', 'where', 'file', 'line', 'type', 'class',
  'method', 'loop', 'index', 'cache', 'memory', 'thread', 'async', 'await', 'promise', 'result', 'input',
] as const; // prettier-ignore

/**
 * The request's deadline for the engine: the time left before the activity's schedule-to-close timeout (the
 * workflow sets it to the time left before the request's deadline), in the simulator's model ms
 * (`metadata.sim_deadline_ms`: real ms ÷ NALAR_SIM_TIME_SCALE). The engine then drops a request still waiting
 * past it, or aborts a running one (408 `deadline_exceeded`), rather than spending its batch slots on an
 * answer nobody will read. Engines without the field ignore the metadata. Empty when the call has no deadline.
 */
export function engineDeadline(now = Date.now()): Record<string, string> {
  const info = Context.current().info;
  if (!(info.scheduleToCloseTimeoutMs > 0)) return {};
  const leftMs = info.scheduledTimestampMs + info.scheduleToCloseTimeoutMs - now;
  const modelMs = Math.max(1, Math.floor(leftMs / loadConfig().simTimeScale));
  return { sim_deadline_ms: String(modelMs) };
}

/**
 * The request's prompt: `tokens` seeded words (one token each). Different seeds give different text, so
 * requests do not share a prefix beyond the system prompt (no prefix-cache hits the trace would not have).
 */
export function requestText(seed: number, tokens: number): string {
  return seededWords(`router/${seed}`, tokens, WORDS);
}

/** What a model call's engine reported: its model milliseconds (0 when it reports none) and replica. */
export interface ModelTime {
  /** Model milliseconds the engine reported for this call (0 when it reports none). */
  modelMs: number;
  /** The replica that served it, when the engine names it. */
  replica?: string;
}

function modelTimeOf(reply: CallLlmResult): ModelTime {
  return { modelMs: reply.engine?.totalMs ?? 0, ...(reply.engine && { replica: reply.engine.replica }) };
}

export const classifier = defineAgent({
  name: 'classifier',
  directives: { batchable: true, minInstances: 1, maxInstances: 2 },
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '30 seconds',
  retry: { maximumAttempts: 3, initialInterval: '500 ms', backoffCoefficient: 2 },
  methods: {
    /** Which branch serves the request: a JSON reply `{ "branch": ... }`. */
    async classify(input: ClassifyInput): Promise<ClassifyResult> {
      const reply = await callLlm({
        agent: 'classifier',
        messages: [
          { role: 'system', content: 'Route the request: answer chat or coding.' },
          { role: 'user', content: requestText(input.seed, Math.min(input.promptTokens, classifierPromptTokens)) },
        ],
        jsonSchema: {
          name: 'route',
          schema: {
            type: 'object',
            properties: { branch: { type: 'string', enum: [input.label] } },
            required: ['branch'],
            additionalProperties: false,
          },
        },
        stream: false,
        metadata: engineDeadline(),
      });
      const parsed = JSON.parse(reply.content) as { branch?: unknown };
      // A real model may answer something else: anything but 'coding' goes to the chat branch.
      return { branch: parsed.branch === 'coding' ? 'coding' : 'chat', ...modelTimeOf(reply) };
    },
  },
});

/** A branch's model call: the request's seeded prompt, its reply length and the time left as the engine's deadline. */
function branchCall(agent: 'chatBranch' | 'coder', system: string, input: BranchInput): Promise<CallLlmResult> {
  return callLlm({
    agent,
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: requestText(input.seed, input.promptTokens) },
    ],
    metadata: { sim_output_tokens: String(input.outputTokens), ...engineDeadline() },
  });
}

export const chatBranch = defineAgent({
  name: 'chatBranch',
  directives: { batchable: true, minInstances: 1, maxInstances: 8 },
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { maximumAttempts: 3, initialInterval: '500 ms', backoffCoefficient: 2 },
  methods: {
    /** The chat branch's answer, `outputTokens` long. */
    async reply(input: BranchInput): Promise<ChatReplyResult> {
      const reply = await branchCall('chatBranch', 'You are a helpful assistant.', input);
      return { replyChars: reply.content.length, ...modelTimeOf(reply) };
    },
  },
});

export const coder = defineAgent({
  name: 'coder',
  directives: { batchable: true, minInstances: 1, maxInstances: 8 },
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { maximumAttempts: 3, initialInterval: '500 ms', backoffCoefficient: 2 },
  methods: {
    /**
     * Writes a program for the request, `outputTokens` long. The simulator writes prose, not code, so the
     * reply is wrapped into a small JavaScript program (a word count over the reply) with a test whose
     * expected value is counted here: the code-run tool then does real work on what the model wrote.
     */
    async write(input: BranchInput): Promise<WrittenCode> {
      const reply = await branchCall('coder', 'You write JavaScript. Answer with code only.', input);
      const words = reply.content.split(/\s+/).filter(Boolean).length;
      const code = [
        `const reply = ${JSON.stringify(reply.content)};`,
        'function countWords(text) { return text.split(/\\s+/).filter(Boolean).length; }',
      ].join('\n');
      return { code, tests: [`countWords(reply) === ${words}`], ...modelTimeOf(reply) };
    },
  },
});

export const codeRunner = defineTool({
  name: 'codeRunner',
  directives: { maxInstances: 8 },
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3, initialInterval: '500 ms', backoffCoefficient: 2 },
  methods: {
    /** Runs the coder's program and its tests with the code-run tool (activities/tools/code-run.ts). */
    async run(input: { code: string; tests: string[] }): Promise<CodeRunResult> {
      const result = await runCode({ code: input.code, tests: input.tests });
      return { passed: result.passed, toolMs: result.durationMs };
    },
  },
});
