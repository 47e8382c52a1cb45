/**
 * The router workload for the end-to-end benchmark (`npm run bench -- router`; guide: docs/workloads/router.md).
 * Arrivals follow an Azure-shaped two-kind trace (load-tests/traffic/azure-trace.ts) whose mix shifts from
 * chat-heavy to coding-heavy (95% of each phase one kind), or a real Azure trace file (NALAR_ROUTER_TRACE);
 * each arrival is one request through the classifier to its branch, in the Nalar variant (`routerWorkflow`)
 * or the baseline (`routerBaselineWorkflow`). Each agent has its own replicas: the hot branch saturates while
 * the other idles, which the baseline's static split cannot fix.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { z } from 'zod';
import { failureCode } from '../../../common/errors';
import { seedFrom } from '../../../sim/prng';
import type { ReplicaProfileInput } from '../../../sim/profile';
import type { RouterInput, RouterResult } from '../../../workflows';
import { readAzureTrace, synthesizeTrace, type RequestKind, type TraceRequest } from '../../traffic/azure-trace';
import type { Arrival, BenchVariant, BenchWorkload, RequestRecord, RunContext } from './types';

/** The environment variable naming real Azure trace files to play instead of the synthetic trace. */
export const routerTraceEnv = 'NALAR_ROUTER_TRACE';

/**
 * Model ms a request may take end to end (× the time scale: real ms); past it the request fails with
 * NALAR_ERR_DEADLINE_EXCEEDED. 60 s, about twice the longest request at low load (a 1024-token chat reply after
 * a 7168-token prompt, about 28 s on these replicas), as the sustained-rate bound allows a mean of twice the
 * low-load mean: with 30 s, any batch contention failed the longest replies at rates both variants otherwise
 * sustain, so the 99% bound measured that tail, not overload. Under overload a request still fails (429s,
 * queue and KV timeouts) instead of queueing for ever.
 */
export const routerDeadlineModelMs = 60_000;

/**
 * Median of the code-run tool's simulated test-suite time, model ms (NALAR_TOOL_TIME_SCALE = this / the tool's
 * own 200 ms median × the time scale). A unit-test run of 600 ms keeps a coding request (about 0.45 s of
 * model time) well above Temporal's own overhead per step.
 */
export const routerToolMedianModelMs = 600;

/** The code-run tool's own median, ms (activities/tools/code-run.ts `latencyMedianMs` default). */
const codeRunMedianMs = 200;

/**
 * Every replica: a 14B-class model on an L4-class GPU, twice as slow as the simulator's default (8B on an
 * A100): 24 model ms per decode step, 0.16 per prompt token. A coding request then takes about 1.3 s at
 * low load (0.7 s of model time, a 0.6 s test run) and a chat about 3.5 s, far above Temporal's own
 * overhead, and a branch (two such engines' worth, see {@link branchReplica}) saturates at 3-4 requests/s.
 */
const hardware = { speed: 2 } satisfies ReplicaProfileInput;

/**
 * A replica of one branch: a small engine (short queue, small KV cache), so overload shows as failures. A branch
 * has four of them, each half of the engine it would have with two: half the batch slots, KV cache and waiting
 * room, and half the prefill compute, so a branch's capacity is that of two full engines while capacity can
 * move in quarters of a branch (with two per branch and one kept, moving capacity could at best give the hot
 * branch 1.5×, and only with instant moves).
 */
const branchReplica = {
  ...hardware,
  // Half the prefill compute of the hardware above: 0.32 model ms per prompt token with speed 2.
  prefillPerTokenMs: 0.16,
  // An 8K-context model (the trace caps prompt + output at 8192); a request that does not fit is a 400.
  maxModelLen: 8192,
  // A small KV cache: 2 requests of the longest kind. Under overload the head of the queue may wait 5 s of model
  // time for blocks, then fails with 503 kv_cache_exhausted (TGI/SGLang-style: no preemption).
  kvCacheTokens: 16_384,
  kvWaitTimeoutMs: 5_000,
  // Nobody waits more than 8 s of model time for a batch slot (503 queue_timeout), 4 at most (then 429).
  queueTimeoutMs: 8_000,
  maxWaiting: 4,
  // A replica moving to the other branch answers what it still runs after 2 s of model time 503
  // replica_draining (retried on the branch's other replicas), instead of holding the move for its longest
  // chat reply (tens of seconds): see `capacityManager` below.
  drainTimeoutMs: 2_000,
} satisfies ReplicaProfileInput;

/** Replicas per branch. */
const perBranch = 4;

/** The replicas, in order: which agent each serves is {@link agentReplicas}. */
const replicas: ReplicaProfileInput[] = [
  // The classifier: short prompts, a few output tokens; one replica is far from saturation at 8 requests/s.
  { name: 'classifier-0', model: 'router-classifier', maxNumSeqs: 16, maxWaiting: 32, ...hardware },
  // The chat branch: long replies (median 129 tokens, mean about 250): 8 sequences each.
  ...Array.from({ length: perBranch }, (_, i) => ({
    name: `chat-${i}`,
    model: 'router-chat',
    maxNumSeqs: 8,
    ...branchReplica,
  })),
  // The coding branch: long prompts, short outputs (median 13 tokens): prefill-bound, 2 sequences each.
  ...Array.from({ length: perBranch }, (_, i) => ({
    name: `coder-${i}`,
    model: 'router-coder',
    maxNumSeqs: 2,
    ...branchReplica,
  })),
];

const branch = (first: number) => Array.from({ length: perBranch }, (_, i) => first + i);
const agentReplicas = { classifier: [0], chatBranch: branch(1), coder: branch(1 + perBranch) } as const;

/** What one arrival carries: the trace request and the seed of its prompt text. */
export interface RouterPayload {
  kind: RequestKind;
  promptTokens: number;
  outputTokens: number;
  seed: number;
}

const traceSpec = z
  .string()
  .min(1)
  .transform((v, ctx) =>
    v.split(',').map((part) => {
      const at = part.lastIndexOf('=');
      const path = at > 0 ? part.slice(0, at) : '';
      const kind = part.slice(at + 1);
      if (!path || (kind !== 'chat' && kind !== 'coding')) {
        ctx.addIssue({ code: 'custom', message: `"${part}" is not <file.csv>=chat or <file.csv>=coding` });
      }
      return { path, kind: kind as RequestKind };
    }),
  );

/**
 * The files of NALAR_ROUTER_TRACE (`<file.csv>=chat|coding`, comma-separated: e.g. the 2023 conversation file
 * as chat and the code file as coding), or undefined when it is not set.
 * @throws Error naming the variable when its value is malformed.
 */
export function routerTraceFiles(
  env: NodeJS.ProcessEnv = process.env,
): { path: string; kind: RequestKind }[] | undefined {
  const raw = env[routerTraceEnv];
  if (raw === undefined || raw === '') return undefined;
  const parsed = traceSpec.safeParse(raw);
  if (!parsed.success) throw new Error(`${routerTraceEnv}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return parsed.data;
}

/** The trace of one rate step: synthetic (seeded), or the real files rescaled to the rate. */
export function routerTrace(
  o: { rate: number; durationMs: number; seed: number },
  env: NodeJS.ProcessEnv = process.env,
): TraceRequest[] {
  const files = routerTraceFiles(env);
  return files
    ? readAzureTrace(files, { durationMs: o.durationMs, meanRate: o.rate })
    : synthesizeTrace({ durationMs: o.durationMs, meanRate: o.rate, seed: o.seed });
}

function arrivals(o: { rate: number; durationMs: number; seed: number }): Arrival[] {
  return routerTrace(o).map((r, i) => ({
    id: `q${i}`,
    atMs: Math.round(r.atMs),
    kind: r.kind,
    payload: {
      kind: r.kind,
      promptTokens: r.promptTokens,
      outputTokens: r.outputTokens,
      seed: seedFrom(o.seed, 'router', i) >>> 0,
    } satisfies RouterPayload,
  }));
}

/** The stable code of a failed request: the `NALAR_ERR_…` along its cause chain, else the failure's type or name. */
export function routerErrorCode(err: unknown): string {
  const code = failureCode(err);
  if (code) return code;
  if (err instanceof WorkflowFailedError) {
    const cause = err.cause as { type?: unknown; name?: unknown } | undefined;
    if (typeof cause?.type === 'string' && cause.type) return cause.type;
    if (typeof cause?.name === 'string') return cause.name;
  }
  return err instanceof Error ? err.name : 'UNKNOWN';
}

/** The workflow type and input of one arrival in a variant (the deadline in real ms at this time scale). */
function requestOf(
  arrival: Arrival,
  o: { variant: BenchVariant; timeScale: number },
): { workflow: string; input: RouterInput } {
  const p = arrival.payload as RouterPayload;
  return {
    workflow: o.variant === 'nalar' ? 'routerWorkflow' : 'routerBaselineWorkflow',
    input: {
      kind: p.kind,
      promptTokens: p.promptTokens,
      outputTokens: p.outputTokens,
      seed: p.seed,
      deadlineMs: Math.max(1, Math.round(routerDeadlineModelMs * o.timeScale)),
    },
  };
}

async function run(ctx: RunContext, arrival: Arrival): Promise<RequestRecord[]> {
  const { workflow, input } = requestOf(arrival, ctx);
  const sentAt = Date.now();
  try {
    const result = await ctx.client.workflow.execute<(i: RouterInput) => Promise<RouterResult>>(workflow, {
      taskQueue: ctx.taskQueue,
      workflowId: `${ctx.workflowIdPrefix}${arrival.id}`,
      args: [input],
    });
    const latencyMs = Date.now() - sentAt;
    const criticalPathMs = result.criticalPath.modelMs * ctx.timeScale + result.criticalPath.toolMs;
    return [{ id: arrival.id, kind: arrival.kind, sentAt, latencyMs, ok: true, criticalPathMs }];
  } catch (err) {
    const latencyMs = Date.now() - sentAt;
    return [{ id: arrival.id, kind: arrival.kind, sentAt, latencyMs, ok: false, errorCode: routerErrorCode(err) }];
  }
}

/** The router workload (see the file's comment and docs/workloads/router.md). */
export const routerWorkload: BenchWorkload = {
  name: 'router',
  title:
    'Router: a classifier sends each request to a chat or a coding branch (own replicas each); Azure-shaped ' +
    'trace whose mix shifts from 95% chat to 95% coding',
  simProfile: ({ seed, timeScale }) => ({ seed, timeScale, replicas }),
  agentReplicas: () => agentReplicas,
  defaultRates: [1, 2, 3, 4, 5, 6],
  // 60 s per phase: a capacity move (the donor's drain of the replies it holds, then a 5 s model load) takes
  // 10-25 s and must pay off within a phase; with 30 s phases it ate most of one (docs/workloads/router.md).
  // The real trace's mix shifts over minutes to hours.
  defaultStepSeconds: 120,
  // The deadline: a request sent at the end of a step may run that long.
  defaultDrainSeconds: routerDeadlineModelMs / 1000,
  // A move between the branches starts once routing has left the replica: the chat replies it still runs are
  // cut after its drainTimeoutMs and recomputed on the other chat replicas, so the coding branch gets its
  // replica back within a phase (waiting for them took 10-25 s of a 60 s phase).
  capacityManager: { releaseWaitsForCalls: false },
  defaultTimeScale: {
    value: 1,
    why:
      'real time: a coding request is short (median 13 output tokens: about 0.7 s of model time plus a 0.6 s ' +
      'test run); compressed, Temporal’s ~15-25 ms per step would exceed 10% of its latency',
  },
  arrivals,
  run,
  workerEnv: ({ timeScale }) => ({
    NALAR_SIM_TIME_SCALE: String(timeScale),
    NALAR_TOOL_TIME_SCALE: String((routerToolMedianModelMs / codeRunMedianMs) * timeScale),
  }),
};
