/**
 * Agent and tool definitions (worker side): a name, typed methods, the model binding for agents, default
 * timeouts and retry policy, and the directives the control plane reads. `nalar stubs` reads these
 * definitions from source and generates workflow-side stubs and a manifest.
 *
 * A method takes one argument and returns a promise; both cross the wire as JSON.
 */
import type { Duration, RetryPolicy } from '@temporalio/common';
import { z } from 'zod';
import { durationMs } from '../common/config';
import { ErrorCode, NalarError } from '../common/errors';

/** Hints to the control plane about how an agent may be served. */
export interface Directives {
  /** Keeps per-session state between calls: calls of one session prefer the same instance. @default false */
  stateful?: boolean;
  /** Calls may be batched together on one instance. @default false */
  batchable?: boolean;
  /** Running calls may be preempted (cancelled and retried elsewhere) by policy. @default false */
  preemptable?: boolean;
  /** Instances kept even when idle. @default 1 */
  minInstances?: number;
  /** Upper bound of instances the scaler may start. @default 8 */
  maxInstances?: number;
  /** Resources one instance needs. */
  resources?: { gpus?: number; cpus?: number; memoryGiB?: number };
}

/** An agent method: one JSON argument in, a JSON result out. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the argument type is the method's own
export type AgentMethod = (input: any) => Promise<unknown>;

export interface DefinitionOptions<M extends Record<string, AgentMethod>> {
  /** Unique among agents and tools: letters, digits, '-' and '_', starting with a letter. */
  name: string;
  methods: M;
  directives?: Directives;
  /** Task queue the methods run on. @default the calling workflow's task queue (NALAR_TASK_QUEUE on Nalar's workers) */
  taskQueue?: string;
  /** @default {@link defaultStartToCloseTimeout} ('2 minutes') */
  startToCloseTimeout?: Duration;
  /** Heartbeat timeout; set it for long streaming calls. @default none */
  heartbeatTimeout?: Duration;
  /** @default Temporal's default retry policy */
  retry?: RetryPolicy;
}

export interface AgentOptions<M extends Record<string, AgentMethod>> extends DefinitionOptions<M> {
  /** Which model the agent uses (see NALAR_AGENT_MODELS); by default NALAR_LLM_MODEL. */
  model?: { baseUrl?: string; model?: string; apiKeyEnv?: string };
}

export interface Definition<M extends Record<string, AgentMethod> = Record<string, AgentMethod>> {
  readonly kind: 'agent' | 'tool';
  readonly name: string;
  readonly methods: M;
  readonly directives: Required<Omit<Directives, 'resources'>> & Pick<Directives, 'resources'>;
  readonly taskQueue: string | undefined;
  readonly startToCloseTimeout: Duration;
  readonly heartbeatTimeout: Duration | undefined;
  readonly retry: RetryPolicy | undefined;
  readonly model: AgentOptions<M>['model'];
}

/** How long one attempt of a method may run when the definition does not say. */
export const defaultStartToCloseTimeout = '2 minutes' satisfies Duration;

/** Names of agents, tools and methods: they become activity types, file names and identifiers. */
export const definitionNamePattern = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;

const nameSchema = z
  .string()
  .regex(definitionNamePattern, 'must start with a letter and use only letters, digits, - and _');

const mustBe = (what: string) => ({ error: `must be ${what}` });
const flag = z.boolean(mustBe('true or false')).default(false);
const count = (min: number) =>
  z
    .number(mustBe(`an integer >= ${min}`))
    .int(mustBe(`an integer >= ${min}`))
    .min(min, mustBe(`an integer >= ${min}`));
const amount = z.number(mustBe('a number >= 0')).min(0, mustBe('a number >= 0')).optional();

const directivesShape = {
  stateful: flag,
  batchable: flag,
  preemptable: flag,
  minInstances: count(0).default(1),
  maxInstances: count(1).default(8),
  resources: z
    .strictObject({ gpus: amount, cpus: amount, memoryGiB: amount }, mustBe('an object of gpus, cpus and memoryGiB'))
    .optional(),
};

/** Every directive a definition may set, in the order messages list them. */
export const directiveNames: readonly (keyof typeof directivesShape)[] = Object.keys(
  directivesShape,
) as (keyof typeof directivesShape)[];

/** Directives with their defaults: `defineAgent`/`defineTool` and the `nalar stubs` generator both use it. */
const directivesSchema = z
  .strictObject(directivesShape, mustBe('an object'))
  .refine((d) => d.minInstances <= d.maxInstances, { ...mustBe('at most maxInstances'), path: ['minInstances'] });

const duration = z.custom<Duration>(
  (v) => durationMs(v) !== undefined,
  mustBe("a duration such as '30 seconds' or a number of milliseconds"),
);

/**
 * Everything of a definition but its name, methods and model, with the defaults filled in. The generator
 * reads these fields from source and checks them with this same schema, so stubs and the running
 * definition can never disagree about a default.
 */
const definitionSettingsSchema = z.object({
  taskQueue: z.string(mustBe('a non-empty string')).min(1, mustBe('a non-empty string')).optional(),
  startToCloseTimeout: duration.default(defaultStartToCloseTimeout),
  heartbeatTimeout: duration.optional(),
  retry: z.record(z.string(), z.unknown(), mustBe('an object')).optional(),
  directives: directivesSchema.prefault({}),
});

/** The checked settings of a definition (see {@link checkDefinitionSettings}). */
export type DefinitionSettings = Omit<z.output<typeof definitionSettingsSchema>, 'retry'> & { retry?: RetryPolicy };

/** One problem {@link checkDefinitionSettings} found. */
export interface SettingProblem {
  /** Dotted path of the bad value, e.g. `directives.minInstances`; its first part is the option's name. */
  path: string;
  /** What is wrong: `must be an integer >= 0`, or, when `unknownKeys`, `unknown directive(s) gpu; known: ...`. */
  message: string;
  /** True when the object at `path` has keys it does not know; `message` then names them and reads alone. */
  unknownKeys: boolean;
}

/**
 * Validates the settings of a definition (task queue, timeouts, retry policy, directives) and fills in their
 * defaults; returns every problem at once.
 */
export function checkDefinitionSettings(
  input: Record<string, unknown>,
): { ok: true; settings: DefinitionSettings } | { ok: false; problems: SettingProblem[] } {
  const parsed = definitionSettingsSchema.safeParse(input);
  if (parsed.success) return { ok: true, settings: parsed.data as DefinitionSettings };
  const problems = parsed.error.issues.map((i): SettingProblem => {
    const path = i.path.join('.');
    if (i.code !== 'unrecognized_keys') return { path, message: i.message, unknownKeys: false };
    const [what, known] =
      path === 'directives'
        ? ['directive', directiveNames]
        : ['resource', Object.keys(directivesShape.resources.unwrap().shape)];
    return { path, message: `unknown ${what}(s) ${i.keys.join(', ')}; known: ${known.join(', ')}`, unknownKeys: true };
  });
  return { ok: false, problems };
}

function define<M extends Record<string, AgentMethod>>(kind: 'agent' | 'tool', o: AgentOptions<M>): Definition<M> {
  const label = typeof o?.name === 'string' ? `${kind} ${o.name}` : kind;
  const problems: string[] = [];
  const name = nameSchema.safeParse(o?.name);
  if (!name.success) problems.push(`name: ${name.error.issues[0]?.message}`);
  const checked = checkDefinitionSettings({
    taskQueue: o?.taskQueue,
    startToCloseTimeout: o?.startToCloseTimeout,
    heartbeatTimeout: o?.heartbeatTimeout,
    retry: o?.retry,
    directives: o?.directives,
  });
  if (!checked.ok) for (const p of checked.problems) problems.push(`${p.path}: ${p.message}`);
  const methods = o?.methods;
  if (typeof methods !== 'object' || methods === null || Object.keys(methods).length === 0) {
    problems.push('methods: must hold at least one method');
  } else {
    for (const [m, fn] of Object.entries(methods)) {
      if (!nameSchema.safeParse(m).success) problems.push(`methods.${m}: method names must be identifiers`);
      if (typeof fn !== 'function') problems.push(`methods.${m}: must be a function`);
    }
  }
  if (problems.length || !checked.ok) {
    throw new NalarError(ErrorCode.DEFINITION_INVALID, `invalid ${label}:\n  ${problems.join('\n  ')}`);
  }
  const { settings } = checked;
  return Object.freeze({
    kind,
    name: o.name,
    methods,
    directives: settings.directives,
    taskQueue: settings.taskQueue,
    startToCloseTimeout: settings.startToCloseTimeout,
    heartbeatTimeout: settings.heartbeatTimeout,
    retry: settings.retry,
    model: o.model,
  });
}

/** Defines an LLM-backed agent; throws `NALAR_ERR_DEFINITION_INVALID` naming the agent and every bad field. */
export function defineAgent<M extends Record<string, AgentMethod>>(options: AgentOptions<M>): Definition<M> {
  return define('agent', options);
}

/** Defines a tool (not backed by an LLM); same rules as {@link defineAgent}. */
export function defineTool<M extends Record<string, AgentMethod>>(options: DefinitionOptions<M>): Definition<M> {
  return define('tool', options);
}

/** The Temporal activity type of a method: `<agent>.<method>`. */
export function activityType(agent: string, method: string): string {
  return `${agent}.${method}`;
}

/** The activities to register on a worker for these definitions, keyed by activity type. */
export function activitiesOf(definitions: readonly Definition[]): Record<string, AgentMethod> {
  const out: Record<string, AgentMethod> = {};
  for (const d of definitions) {
    for (const [m, fn] of Object.entries(d.methods)) {
      const type = activityType(d.name, m);
      if (out[type]) throw new NalarError(ErrorCode.DEFINITION_INVALID, `duplicate agent or tool name: ${d.name}`);
      out[type] = fn;
    }
  }
  return out;
}
