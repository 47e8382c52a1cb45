/**
 * The software-engineering workload's agents (the paper's recursive workload): a `planner` splits a task into
 * subtasks, `developer`s implement them in parallel (each may look things up in a documentation index through
 * model-driven tool calls), a `tester` writes tests that the code-run tool executes. Each agent calls the
 * model bound to its own name, so NALAR_AGENT_MODELS gives each its own replicas.
 *
 * The simulator cannot write code, so the code and the tests are generated here from the job's seed, and
 * whether a subtask passes is a seeded, documented function (docs/workloads/swe.md): subtask `id` of a job has
 * a spec `solve(x) = k·x + b` ({@link subtaskSpec}); the developer's code of attempt `round` is correct with
 * probability `passProbability` ({@link developerWritesCorrectCode}) and otherwise off by one; the tester's tests
 * check the spec at three points, and the code-run tool really runs them, so a wrong solution really fails.
 * Everything random is a SHA-256 of the seed and the draw's name, the same in every process and on retry.
 */
import { createHash } from 'node:crypto';
import { callLlm, type ChatMessage, type LlmToolCall, type LlmToolDefinition } from '../llm';
import { indexDocuments, lookupDocuments, runCode } from '../tools';
import { defineAgent, defineTool } from '../../stubs/define';
import docSet from './swe-docs.json';

/** Fewest and most subtasks of a first plan: uniform in between (mean 2.5). */
export const SUBTASKS_MIN = 1;
/** See {@link SUBTASKS_MIN}. */
export const SUBTASKS_MAX = 4;
/** Output tokens of a developer's final answer (its code): lognormal median, sigma and cap. */
export const DEVELOPER_TOKENS = { median: 150, sigma: 0.4, max: 600 } as const;
/** Output tokens of the tester's reply (its tests): lognormal median, sigma and cap. */
export const TESTER_TOKENS = { median: 120, sigma: 0.4, max: 400 } as const;
/** The document-index namespace holding the workload's documentation (`swe-docs.json`). */
export const DOCS_NAMESPACE = 'swe-docs';

/** A uniform number in (0, 1) from a SHA-256 of the parts: the workload's only source of randomness. */
export function uniform(...parts: (string | number)[]): number {
  const digest = createHash('sha256').update(parts.join('\u0000'), 'utf8').digest();
  return (Number(digest.readBigUInt64BE(0) >> 11n) + 0.5) / 2 ** 53;
}

/** A lognormal draw (median, sigma), rounded and capped, from two uniforms of the parts. */
function lognormalTokens(spec: { median: number; sigma: number; max: number }, ...parts: (string | number)[]): number {
  const normal = Math.sqrt(-2 * Math.log(uniform(...parts, 'u1'))) * Math.cos(2 * Math.PI * uniform(...parts, 'u2'));
  return Math.max(1, Math.min(spec.max, Math.round(spec.median * Math.exp(spec.sigma * normal))));
}

/** How many subtasks the planner splits a job into the first time: uniform in SUBTASKS_MIN..SUBTASKS_MAX. */
export function subtaskCount(seed: number): number {
  return SUBTASKS_MIN + Math.floor(uniform(seed, 'subtasks') * (SUBTASKS_MAX - SUBTASKS_MIN + 1));
}

/** What subtask `id` of the job with `seed` must compute: `solve(x) = k·x + b`, k in 1..9, b in 0..99. */
export function subtaskSpec(seed: number, id: string): { k: number; b: number } {
  return { k: 1 + Math.floor(uniform(seed, id, 'k') * 9), b: Math.floor(uniform(seed, id, 'b') * 100) };
}

/** Whether the developer's code for subtask `id` in planning round `round` is correct (probability `p`). */
export function developerWritesCorrectCode(seed: number, id: string, round: number, p: number): boolean {
  return uniform(seed, id, round, 'pass') < p;
}

/** The developer's code: the spec's line, or (when not correct) the same line off by one. */
export function codeFor(spec: { k: number; b: number }, correct: boolean): string {
  return `function solve(x) {\n  return ${spec.k} * x + ${correct ? spec.b : spec.b + 1};\n}\n`;
}

/** The tester's tests: the spec at x = 0, 1 and 7. */
export function testsFor(spec: { k: number; b: number }): string[] {
  return [0, 1, 7].map((x) => `solve(${x}) === ${spec.k * x + spec.b}`);
}

/** One subtask of a plan. */
export interface Subtask {
  /** `s1`, `s2`, …; a re-planned subtask keeps its id. */
  id: string;
  title: string;
}

export interface PlanInput {
  task: string;
  /** The job's seed: the number of subtasks and everything about them follow it. */
  seed: number;
  /** 0 for the first plan; round r re-plans the subtasks that failed in round r − 1. */
  round: number;
  /** The subtasks that failed (round > 0): one new plan each, under the same id. */
  failed?: Subtask[];
  /** Subtasks of the first plan. @default {@link subtaskCount}(seed) */
  subtasks?: number;
}

export interface PlanResult {
  subtasks: Subtask[];
  /** Model ms of the call (the simulator's engine report; 0 from a server that sends none). */
  modelMs: number;
}

/** The plan's JSON schema: exactly `n` subtasks, so the simulated model's JSON has the planned fan-out. */
function planSchema(n: number): Record<string, unknown> {
  return {
    type: 'object',
    properties: {
      subtasks: {
        type: 'array',
        minItems: n,
        maxItems: n,
        items: {
          type: 'object',
          properties: { title: { type: 'string', minLength: 8, maxLength: 60 } },
          required: ['title'],
          additionalProperties: false,
        },
      },
    },
    required: ['subtasks'],
    additionalProperties: false,
  };
}

export const planner = defineAgent({
  name: 'planner',
  startToCloseTimeout: '1 minute',
  // Bounded retries (a 429 waits its Retry-After): under overload a job fails instead of waiting forever.
  retry: { maximumAttempts: 3, initialInterval: '500 milliseconds', backoffCoefficient: 2 },
  methods: {
    /** Splits the task into subtasks (JSON output), or re-plans the subtasks that failed their tests. */
    async plan(input: PlanInput): Promise<PlanResult> {
      const failed = input.failed ?? [];
      const n = input.round === 0 ? (input.subtasks ?? subtaskCount(input.seed)) : failed.length;
      const ask =
        input.round === 0
          ? `Split this task into ${n} independent subtasks: ${input.task}`
          : `These subtasks failed their tests; plan each again:\n${failed.map((s) => `- ${s.title}`).join('\n')}`;
      const reply = await callLlm({
        agent: 'planner',
        messages: [
          { role: 'system', content: 'You are the planner of a software team. Answer with the plan as JSON.' },
          { role: 'user', content: ask },
        ],
        jsonSchema: { name: 'plan', schema: planSchema(n) },
      });
      const titles = parseTitles(reply.content, n);
      const subtasks =
        input.round === 0
          ? titles.map((title, i) => ({ id: `s${i + 1}`, title }))
          : failed.map((s, i) => ({ id: s.id, title: titles[i] ?? s.title }));
      return { subtasks, modelMs: reply.engine?.totalMs ?? 0 };
    },
  },
});

/** The titles of the model's plan; a reply that is not the asked-for JSON still gives `n` (generic) titles. */
function parseTitles(content: string, n: number): string[] {
  let titles: string[] = [];
  try {
    const parsed = JSON.parse(content) as { subtasks?: { title?: unknown }[] };
    titles = (parsed.subtasks ?? []).map((s) => (typeof s.title === 'string' ? s.title : ''));
  } catch {
    // A real model can break the schema; the job goes on with numbered subtasks rather than failing.
  }
  return Array.from({ length: n }, (_, i) => titles[i] || `subtask ${i + 1}`);
}

/** The tool the developer's model may call. */
export const developerTools: LlmToolDefinition[] = [
  {
    name: 'lookupDocs',
    description: 'Searches the team documentation; returns the best matching pages.',
    parameters: {
      type: 'object',
      properties: {
        query: { type: 'string', minLength: 3, maxLength: 80 },
        topK: { type: 'integer', minimum: 1, maximum: 3 },
      },
      required: ['query'],
      additionalProperties: false,
    },
  },
];

export interface DeveloperStepInput {
  /** The conversation so far (what the agent loop passes). */
  messages: ChatMessage[];
  /** The job's seed. */
  seed: number;
  subtask: Subtask;
  /** Planning round of this attempt (0 = first). */
  round: number;
  /** Probability that an attempt's code is correct. */
  passProbability: number;
}

/** One model reply of the developer; `code` is set on the final answer (a reply without tool calls). */
export interface DeveloperTurn {
  content: string;
  toolCalls: LlmToolCall[];
  finishReason: string;
  modelMs: number;
  code?: string;
}

export const developer = defineAgent({
  name: 'developer',
  directives: { batchable: true },
  startToCloseTimeout: '1 minute',
  // Bounded retries (a 429 waits its Retry-After): under overload a job fails instead of waiting forever.
  retry: { maximumAttempts: 3, initialInterval: '500 milliseconds', backoffCoefficient: 2 },
  methods: {
    /** One model call: look up documentation (tool calls), or answer with the subtask's code. */
    async step(input: DeveloperStepInput): Promise<DeveloperTurn> {
      const { seed, subtask, round } = input;
      const reply = await callLlm({
        agent: 'developer',
        messages: [
          { role: 'system', content: 'You are a developer. Implement the subtask as a JavaScript function solve(x).' },
          ...input.messages,
        ],
        tools: developerTools,
        toolChoice: 'auto',
        metadata: { sim_output_tokens: String(lognormalTokens(DEVELOPER_TOKENS, seed, subtask.id, round, 'dev')) },
      });
      const turn: DeveloperTurn = {
        content: reply.content,
        toolCalls: reply.toolCalls,
        finishReason: reply.finishReason,
        modelMs: reply.engine?.totalMs ?? 0,
      };
      if (reply.toolCalls.length > 0) return turn;
      const correct = developerWritesCorrectCode(seed, subtask.id, round, input.passProbability);
      return { ...turn, code: codeFor(subtaskSpec(seed, subtask.id), correct) };
    },
  },
});

export interface WriteTestsInput {
  seed: number;
  subtask: Subtask;
  round: number;
  /** The code under test (the tester reads it). */
  code: string;
}

export const tester = defineAgent({
  name: 'tester',
  directives: { batchable: true },
  startToCloseTimeout: '1 minute',
  // Bounded retries (a 429 waits its Retry-After): under overload a job fails instead of waiting forever.
  retry: { maximumAttempts: 3, initialInterval: '500 milliseconds', backoffCoefficient: 2 },
  methods: {
    /** Writes the subtask's tests (test expressions the code-run tool evaluates). */
    async writeTests(input: WriteTestsInput): Promise<{ tests: string[]; modelMs: number }> {
      const reply = await callLlm({
        agent: 'tester',
        messages: [
          { role: 'system', content: 'You are a tester. Write unit tests for the function solve(x).' },
          { role: 'user', content: `Subtask: ${input.subtask.title}\n\n${input.code}` },
        ],
        metadata: {
          sim_output_tokens: String(lognormalTokens(TESTER_TOKENS, input.seed, input.subtask.id, input.round, 'test')),
        },
      });
      return { tests: testsFor(subtaskSpec(input.seed, input.subtask.id)), modelMs: reply.engine?.totalMs ?? 0 };
    },
  },
});

/** A page of the documentation, as the developer's model sees it. */
export interface DocPage {
  id: string;
  title: string;
  text: string;
}

let docsIndexed: Promise<unknown> | undefined;

/** Indexes `swe-docs.json` once per process (indexing the same documents again writes nothing). */
function ensureDocsIndexed(): Promise<unknown> {
  docsIndexed ??= indexDocuments({
    namespace: DOCS_NAMESPACE,
    documents: docSet.map((d) => ({ id: d.id, text: `${d.title}. ${d.text}`, metadata: { title: d.title } })),
  }).catch((err: unknown) => {
    docsIndexed = undefined;
    throw err;
  });
  return docsIndexed;
}

export const sweTools = defineTool({
  name: 'sweTools',
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3 },
  methods: {
    /** The documentation pages that best match the query (the document index, TF-IDF), and the tool's ms. */
    async lookupDocs(input: { query: string; topK?: number }): Promise<{ pages: DocPage[]; toolMs: number }> {
      const started = performance.now();
      await ensureDocsIndexed();
      const matches = await lookupDocuments({ namespace: DOCS_NAMESPACE, query: input.query, topK: input.topK ?? 2 });
      const pages = matches.map((m) => ({ id: m.id, title: m.metadata.title ?? m.id, text: m.text }));
      return { pages, toolMs: performance.now() - started };
    },
    /** Runs the tests against the code (code-run tool: a sandbox plus a simulated test-suite latency). */
    async runTests(input: {
      code: string;
      tests: string[];
    }): Promise<{ passed: boolean; failures: number; toolMs: number }> {
      const result = await runCode({ code: input.code, tests: input.tests });
      const failures = result.results.filter((r) => !r.passed).length + (result.error ? 1 : 0);
      return { passed: result.passed, failures, toolMs: result.durationMs };
    },
  },
});
