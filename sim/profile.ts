/**
 * Replica profiles of the LLM serving simulator: performance model, capacity, heterogeneity and faults.
 *
 * Defaults model an 8B-parameter model (Llama-3-8B class, bf16) served by vLLM on one A100/H100-class GPU.
 * Where the numbers come from (rounded; public vLLM benchmark reports and the vLLM docs):
 * - decode is memory-bound: ~12 ms per iteration at batch 1 on an A100 (≈80 tok/s for one stream), rising
 *   roughly linearly to ~30-35 ms at batch 256 (aggregate ≈7-8K tok/s) → 12 ms + 0.08 ms × batch;
 * - prefill is compute-bound at ~10-15K prompt tokens/s for 8B on an A100 → 0.08 ms per uncached token;
 * - vLLM defaults: max_num_seqs 256, chunked-prefill token budget 2048, KV block size 16;
 * - KV cache: 128 KiB per token for Llama-3-8B (32 layers × 8 KV heads × 128 dims × K,V × 2 bytes); with
 *   ~50 GiB of an 80 GiB GPU left for KV after weights and activations → ≈400K tokens;
 * - output lengths of chat workloads are long-tailed: lognormal, median 200 tokens.
 */
import { z } from 'zod';
import { configDefaults } from '../common/config';

const nonNegative = z.number().min(0);
const probability = z.number().min(0).max(1);

export const faultProfileSchema = z
  .object({
    /** Share of requests answered with HTTP 500. */
    errorRate500: probability.default(0),
    /** Share of requests answered with HTTP 429 (on top of queue-full 429s). */
    errorRate429: probability.default(0),
    /** Share of requests whose connection is dropped without an answer. */
    dropRate: probability.default(0),
    /** Share of requests that are accepted and never answered (the client times out). */
    timeoutRate: probability.default(0),
    /** The first N requests fail this way, then normal service: scripted faults for tests and demos. */
    failFirst: z.object({ count: z.number().int().min(0), kind: z.enum(['500', '429', 'drop', 'timeout']) }).optional(),
    /** Random slowdowns: episodes start at this rate (per model second); iterations take `factor`× longer. */
    slowdown: z
      .object({
        ratePerSecond: nonNegative.default(0),
        factor: z.number().min(1).default(3),
        durationMs: nonNegative.default(2000),
      })
      .default({ ratePerSecond: 0, factor: 3, durationMs: 2000 }),
    /** Random stalls: no iteration runs for `durationMs` (a hung GPU, a long GC, a noisy neighbour). */
    stall: z
      .object({ ratePerSecond: nonNegative.default(0), durationMs: nonNegative.default(1000) })
      .default({ ratePerSecond: 0, durationMs: 1000 }),
    /**
     * Outages in milliseconds after start (of the replica's clock: real time unless a test injects one): the
     * replica closes its port and drops every connection.
     */
    outages: z.array(z.object({ atMs: nonNegative, forMs: nonNegative })).default([]),
  })
  .strict();

export const replicaProfileSchema = z
  .object({
    /** Label in logs and metrics. */
    name: z.string().min(1).default('a100-8b'),
    /**
     * The model id this replica serves (`/v1/models`); requests for another model get 404. By default the
     * model agents ask for (NALAR_LLM_MODEL's default), so an unconfigured stack works end to end.
     */
    model: z.string().min(1).default(configDefaults.llmModel),
    /** Continuous batching: sequences running at once (vLLM max_num_seqs). */
    maxNumSeqs: z.number().int().min(1).default(256),
    /** Token budget of one iteration, decode tokens included (vLLM max_num_batched_tokens). */
    maxBatchedTokens: z.number().int().min(1).default(2048),
    /** Model time of one iteration at batch size 1. */
    decodeBaseMs: nonNegative.default(12),
    /** Extra model time per sequence in the batch. */
    decodePerSeqMs: nonNegative.default(0.08),
    /** Model time per prompt token that is not in the prefix cache. */
    prefillPerTokenMs: nonNegative.default(0.08),
    /** KV cache capacity in tokens. */
    kvCacheTokens: z.number().int().min(16).default(400_000),
    /** Tokens per KV block (prefix caching works on whole blocks). */
    blockSize: z.number().int().min(1).default(16),
    /** Requests that may wait for a batch slot; beyond it, 429. */
    maxWaiting: z.number().int().min(0).default(512),
    /**
     * Order of the waiting queue (vLLM's --scheduling-policy): 'fcfs' by arrival; 'priority' by the request's
     * `priority` field (lower first), arrival order among equals. Under 'fcfs' a non-zero priority is a 400.
     */
    schedulingPolicy: z.enum(['fcfs', 'priority']).default('fcfs'),
    /** Retry-After (seconds) sent with 429s (and 503 queue timeouts). */
    retryAfterSeconds: z.number().int().min(0).default(1),
    /**
     * Overload (README "Overload"). Context length in tokens: a request whose prompt + `max_tokens` exceeds
     * it is a 400 `context_length_exceeded`, as vLLM answers (without `max_tokens`, a prompt of at least this
     * many tokens is, and the output stops at this length with finish_reason 'length'). A request whose
     * prompt + output cannot fit in the whole KV cache is refused the same way whatever this says.
     * @default none (only the KV cache bounds a request; 8192 models Llama-3-8B, 131072 Llama-3.1-8B)
     */
    maxModelLen: z.number().int().min(1).optional(),
    /**
     * Overload: model ms the request at the head of the queue may wait for KV blocks while the cache is full
     * (a batch slot is free, the blocks are not); past it, 503 `kv_cache_exhausted`, as engines without
     * preemption (TGI, SGLang) fail a request they cannot fit. Checked at iteration boundaries.
     * @default none (the head waits, as vLLM's scheduler does)
     */
    kvWaitTimeoutMs: z.number().positive().optional(),
    /**
     * Overload: model ms a request may wait for a batch slot; still waiting past it, it is dropped with 503
     * `queue_timeout` and Retry-After (a request's own deadline, `metadata.sim_deadline_ms`, can be shorter).
     * @default none (requests wait until admitted)
     */
    queueTimeoutMs: z.number().positive().optional(),
    /**
     * Model ms to load the model when the replica is added or reassigned at runtime (sim/README.md "Admin
     * API"); it answers 503 `model_loading` meanwhile. Replicas of the starting profile serve at once.
     * 5000 is the reaction-time benchmark's load delay (issue 14); a real vLLM cold start of an 8B model
     * (weights, CUDA graphs) takes tens of seconds.
     */
    modelLoadMs: nonNegative.default(5000),
    /**
     * Model ms a drain (admin API remove or reassign) waits for the requests the replica holds; still held when
     * it passes (a hung request, a very long generation), they are answered 503 `replica_draining` (a stream
     * that has started gets a last error event) and the drain completes, so one request cannot hold capacity
     * forever. Generous: a long answer at ~30 ms per token finishes well within it.
     */
    drainTimeoutMs: z.number().positive().default(120_000),
    /** Slowness multiplier of this replica (heterogeneity): 2 = every iteration takes twice as long. */
    speed: z.number().positive().default(1),
    /** Output length when a request does not fix it: lognormal(median, sigma), capped at `max`. */
    outputTokens: z
      .object({
        median: z.number().positive().default(200),
        sigma: nonNegative.default(0.6),
        max: z.number().int().min(1).default(2048),
      })
      .default({ median: 200, sigma: 0.6, max: 2048 }),
    /**
     * Tool calls (see README "Tool calls"): with `tool_choice: 'auto'` and a conversation not ending in a tool
     * result, the share of replies that call tools; with `parallel_tool_calls`, the most calls in one reply.
     */
    toolCalls: z
      .object({ autoProbability: probability.default(0.8), maxParallel: z.number().int().min(1).default(3) })
      .strict()
      .default({ autoProbability: 0.8, maxParallel: 3 }),
    /** When set, requests must carry `Authorization: Bearer <apiKey>`. */
    apiKey: z.string().min(1).optional(),
    faults: faultProfileSchema.default(faultProfileSchema.parse({})),
  })
  .strict();

export type ReplicaProfile = z.output<typeof replicaProfileSchema>;
export type ReplicaProfileInput = z.input<typeof replicaProfileSchema>;
export type FaultProfile = z.output<typeof faultProfileSchema>;

/** The schema of `shape` with every field optional and none defaulted (see {@link replicaSettingsSchema}). */
type Undefaulted<S extends z.ZodRawShape> = {
  [K in keyof S]: z.ZodOptional<S[K] extends z.ZodDefault<infer T> ? T : S[K]>;
};

function undefaulted<S extends z.ZodRawShape>(shape: S): Undefaulted<S> {
  const fields: Record<string, z.ZodType> = {};
  for (const [key, field] of Object.entries(shape)) {
    fields[key] = z.optional(field instanceof z.ZodDefault ? field.unwrap() : field);
  }
  return fields as Undefaulted<S>;
}

/**
 * Engine settings a replica takes when it is reassigned (sim/README.md "Admin API"): any replica profile field
 * but `name` (the replica keeps its own), `model` (given apart) and `faults` (the simulated machine's, not the
 * deployment's). A field given replaces the replica's whole value (`outputTokens` as one object); a field left
 * out keeps it: unlike zod's `.partial()`, which fills every default in, nothing is defaulted here.
 */
export const replicaSettingsSchema = z
  .object(undefaulted(replicaProfileSchema.omit({ name: true, model: true, faults: true }).shape))
  .strict();

export type ReplicaSettings = z.output<typeof replicaSettingsSchema>;

/** A full profile from a partial one; throws a ZodError naming bad fields. */
export function replicaProfile(input: ReplicaProfileInput = {}): ReplicaProfile {
  return replicaProfileSchema.parse(input);
}

export const poolProfileSchema = z
  .object({
    /**
     * Model time × timeScale = real time. 0.02 runs 50× faster than a real GPU.
     * @default NALAR_SIM_TIME_SCALE's default (1)
     */
    timeScale: z.number().positive().default(configDefaults.simTimeScale),
    /** Seed of output text, output lengths and fault draws. @default NALAR_SIM_SEED's default (42) */
    seed: z.number().int().default(configDefaults.simSeed),
    /** One profile per replica; replica i listens on basePort + i. */
    replicas: z
      .array(replicaProfileSchema)
      .min(1)
      .default([replicaProfileSchema.parse({})]),
  })
  .strict();

export type PoolProfile = z.output<typeof poolProfileSchema>;
export type PoolProfileInput = z.input<typeof poolProfileSchema>;
