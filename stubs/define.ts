/**
 * Agent and tool definitions (worker side): a name, typed methods, the model binding for agents, default
 * timeouts and retry policy, and the directives the control plane reads. `nalar stubs` reads these
 * definitions from source and generates workflow-side stubs and a manifest.
 *
 * A method takes one argument and returns a promise; both cross the wire as JSON.
 */
import type { Duration, RetryPolicy } from '@temporalio/common';
import { z } from 'zod';
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
  /** Task queue the methods run on. @default 'nalar' (NALAR_TASK_QUEUE) */
  taskQueue?: string;
  /** @default '2 minutes' */
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

export const directiveNames = [
  'stateful',
  'batchable',
  'preemptable',
  'minInstances',
  'maxInstances',
  'resources',
] as const;

const nameSchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,62}$/, 'must start with a letter and use only letters, digits, - and _');

const directivesSchema = z
  .object({
    stateful: z.boolean().default(false),
    batchable: z.boolean().default(false),
    preemptable: z.boolean().default(false),
    minInstances: z.number().int().min(0).default(1),
    maxInstances: z.number().int().min(1).default(8),
    resources: z
      .object({
        gpus: z.number().min(0).optional(),
        cpus: z.number().min(0).optional(),
        memoryGiB: z.number().min(0).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((d) => d.minInstances <= d.maxInstances, {
    message: 'minInstances must not exceed maxInstances',
    path: ['minInstances'],
  });

function define<M extends Record<string, AgentMethod>>(kind: 'agent' | 'tool', o: AgentOptions<M>): Definition<M> {
  const label = typeof o?.name === 'string' ? `${kind} ${o.name}` : kind;
  const problems: string[] = [];
  const name = nameSchema.safeParse(o?.name);
  if (!name.success) problems.push(`name: ${name.error.issues[0]?.message}`);
  const directives = directivesSchema.safeParse(o?.directives ?? {});
  if (!directives.success) {
    for (const i of directives.error.issues) {
      const key = i.path.join('.');
      problems.push(
        i.code === 'unrecognized_keys'
          ? `directives: unknown directive(s) ${i.keys.join(', ')}; known: ${directiveNames.join(', ')}`
          : `directives.${key}: ${i.message}`,
      );
    }
  }
  const methods = o?.methods;
  if (typeof methods !== 'object' || methods === null || Object.keys(methods).length === 0) {
    problems.push('methods: must hold at least one method');
  } else {
    for (const [m, fn] of Object.entries(methods)) {
      if (!nameSchema.safeParse(m).success) problems.push(`methods.${m}: method names must be identifiers`);
      if (typeof fn !== 'function') problems.push(`methods.${m}: must be a function`);
    }
  }
  if (o?.taskQueue !== undefined && (typeof o.taskQueue !== 'string' || o.taskQueue === '')) {
    problems.push('taskQueue: must be a non-empty string');
  }
  if (problems.length) {
    throw new NalarError(ErrorCode.DEFINITION_INVALID, `invalid ${label}:\n  ${problems.join('\n  ')}`);
  }
  return Object.freeze({
    kind,
    name: o.name,
    methods,
    directives: directives.data as Definition<M>['directives'],
    taskQueue: o.taskQueue,
    startToCloseTimeout: o.startToCloseTimeout ?? '2 minutes',
    heartbeatTimeout: o.heartbeatTimeout,
    retry: o.retry,
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
