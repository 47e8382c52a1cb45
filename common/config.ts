/**
 * The one typed, validated configuration of every Nalar process.
 *
 * Each setting has one environment variable, a default and a line of documentation; the README table and
 * `--help` are generated from this list (`npm run docs`), and code that needs a default reads
 * {@link configDefaults} instead of writing the value again. Precedence: explicit option, then
 * environment, then the JSON config file named by `NALAR_CONFIG_FILE`, then the default. Invalid values
 * fail fast with one message that names every bad variable.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { msToNumber, type Duration } from '@temporalio/common';
import { z } from 'zod';
import { ErrorCode, NalarError } from './errors';
import { logLevels } from './log';

const portNumber = z.coerce.number().int().min(1).max(65535);

const booleanFlag = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  const s = v.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(s)) return true;
  if (['false', '0', 'no', 'off'].includes(s)) return false;
  return v;
}, z.boolean());

/**
 * Milliseconds of a Temporal `Duration` (a string such as `'30 seconds'` or a number of milliseconds), or
 * undefined when `value` is not a finite, non-negative duration. Settings and definitions check durations
 * with it.
 */
export function durationMs(value: unknown): number | undefined {
  if (!((typeof value === 'string' && value !== '') || typeof value === 'number')) return undefined;
  try {
    const ms = msToNumber(value as Duration);
    return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
  } catch {
    return undefined;
  }
}

/** A duration setting, parsed to milliseconds. */
const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = durationMs(v);
  if (ms !== undefined) return ms;
  ctx.addIssue({ code: 'custom', message: `expected a duration such as '30 seconds' or '500ms', got '${v}'` });
  return z.NEVER;
});

/** A worker's name (NALAR_WORKER_ID): it goes into owner records and task queue names. */
export const workerIdPattern = /^[A-Za-z0-9._-]{1,64}$/;

const hostAndPort = z.string().regex(/^[^\s:]+:\d{1,5}$/, "expected 'host:port', for example '127.0.0.1:7233'");

interface Setting<S extends z.ZodType, D extends z.input<S> | undefined = z.input<S> | undefined> {
  /** The environment variable that sets it. */
  readonly env: string;
  readonly schema: S;
  /** Used when no option, variable or file sets it; `undefined` leaves an optional setting unset. */
  readonly default: D;
  /** One line for the README and `--help`. */
  readonly doc: string;
}

// D keeps each default's own type, so `configDefaults.redisUrl` is a string, not `unknown`.
function setting<S extends z.ZodType, D extends z.input<S> | undefined>(s: Setting<S, D>): Setting<S, D> {
  return s;
}

/** Every setting Nalar reads. Keys are the names used in the config file and in code. */
export const settings = {
  temporalAddress: setting({
    env: 'TEMPORAL_ADDRESS',
    schema: hostAndPort,
    default: '127.0.0.1:7233',
    doc: 'Temporal frontend gRPC address; the embedded dev server listens here',
  }),
  temporalNamespace: setting({
    env: 'TEMPORAL_NAMESPACE',
    schema: z.string().min(1),
    default: 'default',
    doc: 'Temporal namespace for workflows',
  }),
  devServer: setting({
    env: 'NALAR_DEV_SERVER',
    schema: booleanFlag,
    default: true,
    doc: '`npm start` runs the embedded Temporal dev server; set `false` to use an existing cluster',
  }),
  devServerUiPort: setting({
    env: 'NALAR_DEV_SERVER_UI_PORT',
    schema: portNumber,
    default: 8233,
    doc: 'Port of the dev server Web UI',
  }),
  temporalBin: setting({
    env: 'NALAR_TEMPORAL_BIN',
    schema: z.string().min(1).optional(),
    default: undefined,
    doc: 'Path of a Temporal CLI binary to use instead of provisioning one',
  }),
  k6Bin: setting({
    env: 'NALAR_K6_BIN',
    schema: z.string().min(1).optional(),
    default: undefined,
    doc: 'Path of a k6 binary to use instead of provisioning one',
  }),
  dataDir: setting({
    env: 'NALAR_DATA_DIR',
    schema: z.string().min(1),
    default: '.nalar/data',
    doc: 'Folder for the dev server SQLite file and other local state (relative to the working directory)',
  }),
  toolsDir: setting({
    env: 'NALAR_TOOLS_DIR',
    schema: z.string().min(1),
    default: '.tools',
    doc: 'Folder where provisioned tools (Temporal CLI, k6) are cached; `bin/` inside it',
  }),
  taskQueue: setting({
    env: 'NALAR_TASK_QUEUE',
    schema: z.string().min(1),
    default: 'nalar',
    doc: 'Default task queue of workflows and activities',
  }),
  workers: setting({
    env: 'NALAR_WORKERS',
    schema: z.coerce.number().int().min(1).max(64),
    default: 1,
    doc: 'Number of worker processes the embedded stack starts',
  }),
  workersMin: setting({
    env: 'NALAR_WORKERS_MIN',
    schema: z.coerce.number().int().min(0).max(64),
    default: 1,
    doc: "Fewest worker processes the worker scaler keeps on the stack's task queue (a scale-down stops there; a worker dying below it stops the stack)",
  }),
  workersMax: setting({
    env: 'NALAR_WORKERS_MAX',
    schema: z.coerce.number().int().min(1).max(64),
    default: 4,
    doc: "Most worker processes the worker scaler starts on the stack's task queue (worker N's metrics port is NALAR_METRICS_PORT + N - 1)",
  }),
  sim: setting({
    env: 'NALAR_SIM',
    schema: booleanFlag,
    default: true,
    doc: '`npm start` runs the OpenAI-compatible model simulator pool',
  }),
  simReplicas: setting({
    env: 'NALAR_SIM_REPLICAS',
    schema: z.coerce.number().int().min(1).max(64),
    default: 2,
    doc: 'Number of simulated model replicas (ignored when NALAR_SIM_PROFILE lists them)',
  }),
  simHost: setting({
    env: 'NALAR_SIM_HOST',
    schema: z.string().min(1),
    default: '127.0.0.1',
    doc: 'Address the simulator replicas bind to (0.0.0.0 only inside a container network)',
  }),
  simPort: setting({
    env: 'NALAR_SIM_PORT',
    schema: portNumber,
    default: 8100,
    doc: 'Port of simulator replica 0; replica i listens on this port + i',
  }),
  simTimeScale: setting({
    env: 'NALAR_SIM_TIME_SCALE',
    schema: z.coerce.number().positive().max(1000),
    default: 1,
    doc: 'Real time per unit of simulated model time (0.02 runs 50x faster than a real GPU)',
  }),
  simSeed: setting({
    env: 'NALAR_SIM_SEED',
    schema: z.coerce.number().int(),
    default: 42,
    doc: 'Seed of simulated outputs, lengths and faults',
  }),
  simProfile: setting({
    env: 'NALAR_SIM_PROFILE',
    schema: z.string().min(1).optional(),
    default: undefined,
    doc: 'JSON file of replica profiles (speed, batch size, KV cache, faults; see sim/README.md)',
  }),
  simAdminPort: setting({
    env: 'NALAR_SIM_ADMIN_PORT',
    // Unset by default: simulators of parallel stacks and tests would otherwise all claim one port.
    schema: portNumber.optional(),
    default: undefined,
    doc: 'Port of the simulator admin API (add, remove, reassign replicas at runtime; sim/README.md), on NALAR_SIM_HOST; unset: a free port, printed in its log',
  }),
  simAdminUrl: setting({
    env: 'NALAR_SIM_ADMIN_URL',
    schema: z.url().optional(),
    default: undefined,
    doc: "Where the global controller's sim provisioner finds the simulator admin API (http://host:port); npm start sets it to its simulator's",
  }),
  simAdminToken: setting({
    env: 'NALAR_SIM_ADMIN_TOKEN',
    schema: z.string().min(1).optional(),
    default: undefined,
    doc: "Bearer token the simulator's admin API requires to change replicas; unset: changes from this machine only; a secret: environment only",
  }),
  llmBaseUrl: setting({
    env: 'NALAR_LLM_BASE_URL',
    schema: z.url().optional(),
    default: undefined,
    doc: 'OpenAI-compatible base URL agents use unless NALAR_AGENT_MODELS says otherwise; unset: the embedded simulator, http://127.0.0.1:NALAR_SIM_PORT/v1',
  }),
  llmApiKey: setting({
    env: 'NALAR_LLM_API_KEY',
    schema: z.string().min(1).optional(),
    default: undefined,
    doc: 'API key for NALAR_LLM_BASE_URL (a secret: environment only, never logged)',
  }),
  llmModel: setting({
    env: 'NALAR_LLM_MODEL',
    schema: z.string().min(1),
    default: 'sim-llama-3-8b',
    doc: 'Model agents use unless NALAR_AGENT_MODELS says otherwise',
  }),
  llmTimeout: setting({
    env: 'NALAR_LLM_TIMEOUT',
    schema: duration,
    default: '2 minutes',
    doc: 'Timeout of one model request (a timed-out request is retried by Temporal)',
  }),
  agentModels: setting({
    env: 'NALAR_AGENT_MODELS',
    schema: z.preprocess(
      (v) => {
        if (typeof v !== 'string') return v;
        try {
          return JSON.parse(v) as unknown;
        } catch {
          return v;
        }
      },
      z.record(
        z.string().min(1),
        z
          .object({
            baseUrl: z.url().optional(),
            /** Replicas serving this agent: each call goes to one (a session stays on its first). Wins over baseUrl. */
            baseUrls: z.array(z.url()).min(1).optional(),
            model: z.string().min(1).optional(),
            /**
             * The endpoint takes vLLM's `priority` request field (`--scheduling-policy priority`): calls send their
             * priority. Off by default: a server without priority scheduling refuses a non-zero one.
             */
            priority: z.boolean().optional(),
            /**
             * Calls one worker sends to one replica at a time (each replica of the agent, per worker process); more
             * calls wait in the worker's local controller, highest priority first. Absent: no limit, calls never wait
             * there. A decision of the global controller (its per-node share) wins over it.
             */
            maxInFlight: z.number().int().positive().optional(),
            /** Name of the environment variable holding this agent's API key (keys never sit in config). */
            apiKeyEnv: z
              .string()
              .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name')
              .optional(),
          })
          .strict(),
      ),
    ),
    default: {},
    doc: 'Per-agent model binding as JSON: {"planner": {"baseUrl": "...", "model": "...", "apiKeyEnv": "OPENAI_API_KEY"}}; "baseUrls": [...] lists several replicas (a session stays on the one it first used); "priority": true sends the priority of each call (the vLLM field); "maxInFlight": n limits the calls one worker sends to one replica at once (more wait in its local controller)',
  }),
  controllerUrl: setting({
    env: 'NALAR_CONTROLLER_URL',
    schema: z
      .string()
      .regex(/^https?:\/\//, 'expected an http:// or https:// URL')
      .optional(),
    default: undefined,
    doc: "Base URL of the global controller workers report to and take decisions from; unset: workers run standalone on their local controller's defaults",
  }),
  toolTimeScale: setting({
    env: 'NALAR_TOOL_TIME_SCALE',
    schema: z.coerce.number().min(0).max(1000),
    default: 1,
    doc: 'Multiplier of simulated tool latencies (code-run test suites); 0 turns them off',
  }),
  stateBackend: setting({
    env: 'NALAR_STATE_BACKEND',
    schema: z.enum(['filesystem', 'redis', 'postgres']),
    default: 'filesystem',
    doc: 'Where managed session state lives: filesystem (NALAR_DATA_DIR/state), redis or postgres',
  }),
  redisUrl: setting({
    env: 'NALAR_REDIS_URL',
    schema: z.string().regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL'),
    default: 'redis://127.0.0.1:6379',
    doc: 'Redis server of the redis state backend (may hold a password: environment only)',
  }),
  postgresUrl: setting({
    env: 'NALAR_POSTGRES_URL',
    schema: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL'),
    default: 'postgres://postgres@127.0.0.1:5432/postgres',
    doc: 'PostgreSQL database of the postgres state backend; its schema is created by a migration on start',
  }),
  payloadOffload: setting({
    env: 'NALAR_PAYLOAD_OFFLOAD',
    schema: booleanFlag,
    default: true,
    doc: 'Workers (and clients built with nalarDataConverter) keep large payloads out of history (claim check)',
  }),
  payloadOffloadBytes: setting({
    env: 'NALAR_PAYLOAD_OFFLOAD_BYTES',
    schema: z.coerce.number().int().min(256).max(2_000_000),
    default: 1024,
    doc: 'Payloads larger than this many bytes go to the blob store (NALAR_DATA_DIR/blobs); history keeps a ~60-byte handle',
  }),
  stateCache: setting({
    env: 'NALAR_STATE_CACHE',
    schema: booleanFlag,
    default: true,
    doc: 'Workers cache the state of sessions they own; a cached read costs one small stamp read of the store',
  }),
  stateCacheBytes: setting({
    env: 'NALAR_STATE_CACHE_BYTES',
    schema: z.coerce.number().int().min(0),
    default: 67_108_864,
    doc: 'Most bytes of session state one worker caches (least recently used sessions are evicted first)',
  }),
  workerId: setting({
    env: 'NALAR_WORKER_ID',
    schema: z.string().regex(workerIdPattern, 'expected 1-64 letters, digits, ".", "_" or "-"').optional(),
    default: undefined,
    doc: 'Name of this worker in session owner records and its placement task queue; unset: host-pid (npm start: worker-N)',
  }),
  metricsPort: setting({
    env: 'NALAR_METRICS_PORT',
    schema: z.coerce.number().int().min(0).max(65535),
    default: 9464,
    doc: 'Worker N serves Prometheus /metrics on 127.0.0.1 at this port + N - 1; 0 turns it off',
  }),
  metricsHost: setting({
    env: 'NALAR_METRICS_HOST',
    schema: z.string().min(1),
    default: '127.0.0.1',
    doc: 'Address the worker /metrics endpoint binds to (read-only; 0.0.0.0 inside a container)',
  }),
  codecPort: setting({
    env: 'NALAR_CODEC_PORT',
    schema: z.coerce.number().int().min(0).max(65535),
    default: 8234,
    doc: '`npm start` serves the codec server (decodes offloaded payloads for the Web UI and `temporal --codec-endpoint`) here; 0 turns it off',
  }),
  codecHost: setting({
    env: 'NALAR_CODEC_HOST',
    schema: z.string().min(1),
    default: '127.0.0.1',
    doc: 'Address the codec server binds to; any address beyond loopback requires NALAR_CODEC_TOKEN',
  }),
  codecToken: setting({
    env: 'NALAR_CODEC_TOKEN',
    // Its length is checked where it is used (codec-config.ts): a schema error here would print the secret.
    schema: z.string().min(1).optional(),
    default: undefined,
    doc: 'Bearer token the codec server requires when set (`temporal --codec-auth "Bearer <token>"`); a secret: environment only',
  }),
  codecCorsOrigins: setting({
    env: 'NALAR_CODEC_CORS_ORIGINS',
    schema: z
      .string()
      .regex(
        /^https?:\/\/[^\s,/]+(,https?:\/\/[^\s,/]+)*$/,
        'expected comma-separated origins such as http://127.0.0.1:8233',
      )
      .optional(),
    default: undefined,
    doc: 'Web UI origins the codec server answers (CORS), comma-separated; unset: the embedded Web UI, http://127.0.0.1 and http://localhost at NALAR_DEV_SERVER_UI_PORT',
  }),
  gatewayPort: setting({
    env: 'NALAR_GATEWAY_PORT',
    schema: z.coerce.number().int().min(0).max(65535),
    default: 8235,
    doc: '`npm start` serves the HTTP gateway (`POST /v1/workflows/<name>`, `GET /v1/runs/<id>`, …) here; 0 turns it off',
  }),
  gatewayHost: setting({
    env: 'NALAR_GATEWAY_HOST',
    schema: z.string().min(1),
    default: '127.0.0.1',
    doc: 'Address the gateway binds to; any address beyond loopback requires NALAR_GATEWAY_TOKENS',
  }),
  gatewayTokens: setting({
    env: 'NALAR_GATEWAY_TOKENS',
    // Parsed where it is used (gateway-config.ts): a schema error here would print the secrets.
    schema: z.string().min(1).optional(),
    default: undefined,
    doc: 'Bearer tokens of the gateway and their tenants, JSON `{"<token>": "<tenant>"}`; unset: one tenant `local`, loopback only; secrets: environment only',
  }),
  gatewayRate: setting({
    env: 'NALAR_GATEWAY_RATE',
    schema: z.coerce.number().positive(),
    default: 50,
    doc: 'Requests per second one tenant may make to the gateway (token bucket; over it: 429 with Retry-After)',
  }),
  gatewayBurst: setting({
    env: 'NALAR_GATEWAY_BURST',
    schema: z.coerce.number().int().min(1),
    default: 100,
    doc: 'Requests one tenant may make at once above NALAR_GATEWAY_RATE (the token bucket size)',
  }),
  gatewayMaxRuns: setting({
    env: 'NALAR_GATEWAY_MAX_RUNS',
    schema: z.coerce.number().int().min(1),
    default: 100,
    doc: 'Runs one tenant may have in flight through the gateway; a start beyond it answers 429',
  }),
  gatewayWaitTimeout: setting({
    env: 'NALAR_GATEWAY_WAIT_TIMEOUT',
    schema: duration,
    default: '30 seconds',
    doc: 'How long `POST /v1/workflows/<name>` waits for the result by default before answering 202 with the run (`?timeout=` up to 5 minutes)',
  }),
  gatewayBodyLimit: setting({
    env: 'NALAR_GATEWAY_BODY_LIMIT',
    schema: z.coerce.number().int().min(1024),
    default: 1048576,
    doc: 'Largest request body the gateway accepts, in bytes (larger: 413)',
  }),
  sessionTtl: setting({
    env: 'NALAR_SESSION_TTL',
    schema: duration,
    default: '24 hours',
    doc: 'State of a session not written for this long (an ended session) is deleted by the state janitor',
  }),
  stateGcInterval: setting({
    env: 'NALAR_STATE_GC_INTERVAL',
    schema: duration,
    default: '10 minutes',
    doc: '`npm start` expires idle sessions and collects unreferenced blobs this often; 0 turns it off',
  }),
  blobGcGrace: setting({
    env: 'NALAR_BLOB_GC_GRACE',
    schema: duration,
    default: '1 hour',
    doc: 'Blobs written or reused more recently than this are never collected (covers payloads in flight)',
  }),
  streamBackend: setting({
    env: 'NALAR_STREAM_BACKEND',
    schema: z.enum(['embedded', 'redis']),
    default: 'embedded',
    doc: 'Side channel of run events and LLM tokens (SSE): embedded (the gateway hosts it; workers post to NALAR_STREAM_URL) or redis (NALAR_REDIS_URL, any number of hosts)',
  }),
  streamUrl: setting({
    env: 'NALAR_STREAM_URL',
    schema: z
      .string()
      .regex(/^https?:\/\//, 'expected an http:// or https:// URL')
      .optional(),
    default: undefined,
    doc: 'Embedded backend: base URL of the gateway workers send run events to; unset: workers send none (npm start sets it)',
  }),
  streamToken: setting({
    env: 'NALAR_STREAM_TOKEN',
    schema: z.string().min(16).optional(),
    default: undefined,
    doc: "Stack-internal token of the gateway's /internal/v1/events (npm start generates one per start); a secret: environment only",
  }),
  streamFlushInterval: setting({
    env: 'NALAR_STREAM_FLUSH_INTERVAL',
    schema: duration,
    default: '25 ms',
    doc: 'Workers batch run events (tokens, lifecycle) this long before sending them',
  }),
  streamBufferEvents: setting({
    env: 'NALAR_STREAM_BUFFER_EVENTS',
    schema: z.coerce.number().int().min(1),
    default: 10_000,
    doc: 'Run events a worker queues at most; beyond, events are dropped and counted (nalar_stream_events_dropped_total), runs are unaffected',
  }),
  streamReplayEvents: setting({
    env: 'NALAR_STREAM_REPLAY_EVENTS',
    schema: z.coerce.number().int().min(1),
    default: 1000,
    doc: 'Recent run events the bus keeps per run, so an SSE client resumes with Last-Event-ID',
  }),
  sessionIdleTimeout: setting({
    env: 'NALAR_SESSION_IDLE_TIMEOUT',
    schema: duration,
    default: '30 minutes',
    doc: 'A chat session (POST /v1/sessions/{id}/messages) ends after this long without a message',
  }),
  stubsCheck: setting({
    env: 'NALAR_STUBS_CHECK',
    schema: booleanFlag,
    default: true,
    doc: 'A worker refuses to start when the generated stubs are stale (as `nalar stubs --check`); false for deployments without definitions',
  }),
  controlPeriod: setting({
    env: 'NALAR_CONTROL_PERIOD',
    schema: duration,
    default: '250 ms',
    doc: 'Period of the control loop: local controllers report and the global controller runs its policies this often',
  }),
  controllerHost: setting({
    env: 'NALAR_CONTROLLER_HOST',
    schema: z.string().min(1),
    default: '127.0.0.1',
    doc: 'Address the global controller binds to; any address beyond loopback requires NALAR_CONTROL_TOKEN',
  }),
  controllerPort: setting({
    env: 'NALAR_CONTROLLER_PORT',
    schema: z.coerce.number().int().min(0).max(65535),
    default: 8236,
    doc: '`npm start` serves the global controller (reports, decisions, `GET /v1/graph`, `/v1/policy`) here; 0 turns it off',
  }),
  controlToken: setting({
    env: 'NALAR_CONTROL_TOKEN',
    // Its length is checked where it is used (global-controller/listen.ts): a schema error would print it.
    schema: z.string().min(1).optional(),
    default: undefined,
    doc: 'Bearer token between workers and the global controller: workers send it, the controller requires it (reports, decisions, PUT /v1/policy) when set; unset: loopback only; a secret: environment only',
  }),
  kedaHost: setting({
    env: 'NALAR_KEDA_HOST',
    schema: z.string().min(1),
    default: '127.0.0.1',
    doc: "Address the global controller's KEDA external scaler (gRPC) binds to; any address beyond loopback requires NALAR_CONTROL_TOKEN",
  }),
  kedaPort: setting({
    env: 'NALAR_KEDA_PORT',
    schema: z.coerce.number().int().min(0).max(65535),
    // Off unless asked: only Kubernetes with KEDA uses it (deploy/kubernetes sets 8237); the local stack scales with its supervisor.
    default: 0,
    doc: 'The global controller serves the KEDA external scaler (gRPC: worker demand per task queue) here, for Kubernetes; 0 turns it off (deploy/kubernetes uses 8237)',
  }),
  policies: setting({
    env: 'NALAR_POLICIES',
    schema: z.string().min(1),
    default: 'load-balance,hol-migration,high-priority',
    doc: 'Policies the global controller runs every period, in order: comma-separated names, or JSON `["name", {"name": "...", "params": {...}}]`',
  }),
  provisioner: setting({
    env: 'NALAR_PROVISIONER',
    schema: z.enum(['sim', 'command', 'none']).optional(),
    default: undefined,
    doc: 'What starts, stops and reassigns model replicas (docs/control-plane/capacity.md): sim (the simulator admin API), command (NALAR_PROVISIONER_COMMAND) or none; unset: sim when NALAR_SIM runs the embedded simulator, else none',
  }),
  provisionerCommand: setting({
    env: 'NALAR_PROVISIONER_COMMAND',
    schema: z.string().min(1).optional(),
    default: undefined,
    doc: 'Executable (absolute path or name on PATH) of the command provisioner, run as `<cmd> list|provision|when-serving|kill|reassign …` (docs/control-plane/capacity.md)',
  }),
  provisionerTimeout: setting({
    env: 'NALAR_PROVISIONER_TIMEOUT',
    schema: duration,
    default: '10 minutes',
    doc: 'Longest one provisioner call may take (a kill or reassignment waits for the drain, a start for the model load); then it fails',
  }),
  logLevel: setting({
    env: 'NALAR_LOG_LEVEL',
    schema: z.enum(logLevels),
    default: 'info',
    doc: 'One of debug, info, warn, error',
  }),
  readinessTimeout: setting({
    env: 'NALAR_READINESS_TIMEOUT',
    schema: duration,
    default: '60 seconds',
    doc: 'How long a process of the stack may take to become ready',
  }),
  shutdownGrace: setting({
    env: 'NALAR_SHUTDOWN_GRACE',
    schema: duration,
    default: '10 seconds',
    doc: 'How long a process may take to stop after SIGINT before it is killed',
  }),
} as const;

export type SettingName = keyof typeof settings;

/**
 * The default of every setting as written in {@link settings}: durations as strings (`'2 minutes'`), folders
 * relative to the working directory, `undefined` for settings that are unset by default. The one source of
 * these values for code that has no loaded configuration (library defaults, benchmarks, tests).
 */
export const configDefaults = Object.fromEntries(Object.entries(settings).map(([name, s]) => [name, s.default])) as {
  readonly [K in SettingName]: (typeof settings)[K]['default'];
};

/** The validated configuration; durations are in milliseconds, folders are absolute paths. */
export type NalarConfig = { readonly [K in SettingName]: z.output<(typeof settings)[K]['schema']> } & {
  /** Always set: NALAR_LLM_BASE_URL, or the embedded simulator's first replica. */
  readonly llmBaseUrl: string;
};

export interface LoadConfigOptions {
  /** Values that win over everything else (for example from command-line flags or tests). */
  overrides?: Partial<Record<SettingName, unknown>>;
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Base for relative folders and the config file. @default process.cwd() */
  cwd?: string;
}

function readConfigFile(file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new NalarError(
      ErrorCode.CONFIG_INVALID,
      `NALAR_CONFIG_FILE=${file}: cannot read it as JSON (${(err as Error).message})`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new NalarError(ErrorCode.CONFIG_INVALID, `NALAR_CONFIG_FILE=${file}: expected a JSON object of settings`);
  }
  const unknownKeys = Object.keys(parsed).filter((k) => !(k in settings));
  if (unknownKeys.length) {
    throw new NalarError(
      ErrorCode.CONFIG_INVALID,
      `NALAR_CONFIG_FILE=${file}: unknown setting(s) ${unknownKeys.join(', ')}; known: ${Object.keys(settings).join(', ')}`,
    );
  }
  return parsed as Record<string, unknown>;
}

/** Reads, validates and returns the configuration; throws one {@link NalarError} naming every bad setting. */
export function loadConfig(options: LoadConfigOptions = {}): NalarConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const configFile = env.NALAR_CONFIG_FILE ? path.resolve(cwd, env.NALAR_CONFIG_FILE) : undefined;
  const fromFile = configFile ? readConfigFile(configFile) : {};

  const result: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(settings) as [SettingName, Setting<z.ZodType>][]) {
    const override = options.overrides?.[name];
    const envValue = env[spec.env];
    const [raw, source] =
      override !== undefined
        ? [override, `option ${name}`]
        : envValue !== undefined && envValue !== ''
          ? [envValue, spec.env]
          : name in fromFile
            ? [fromFile[name], `${name} in ${configFile}`]
            : [spec.default, `default of ${spec.env}`];
    const parsed = spec.schema.safeParse(raw);
    if (parsed.success) {
      result[name] = parsed.data;
    } else {
      const why = parsed.error.issues.map((i) => i.message).join('; ');
      problems.push(`${source}=${JSON.stringify(raw)}: ${why}`);
    }
  }
  if (!problems.length) problems.push(...workerBoundProblems(result));
  if (problems.length) {
    throw new NalarError(ErrorCode.CONFIG_INVALID, `invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  // Agents follow the simulator wherever NALAR_SIM_PORT puts it, unless told to use another endpoint.
  if (result.llmBaseUrl === undefined) {
    const host = result.simHost === '0.0.0.0' ? '127.0.0.1' : (result.simHost as string);
    result.llmBaseUrl = `http://${host}:${result.simPort as number}/v1`;
  }
  result.dataDir = path.resolve(cwd, result.dataDir as string);
  result.toolsDir = path.resolve(cwd, result.toolsDir as string);
  return result as NalarConfig;
}

/** The worker scaler's bounds must hold the start count: NALAR_WORKERS_MIN ≤ NALAR_WORKERS ≤ NALAR_WORKERS_MAX. */
function workerBoundProblems(values: Record<string, unknown>): string[] {
  const {
    workers,
    workersMin: min,
    workersMax: max,
  } = values as { workers: number; workersMin: number; workersMax: number };
  if (min > max) return [`NALAR_WORKERS_MIN=${min} is above NALAR_WORKERS_MAX=${max}`];
  if (workers < min || workers > max) {
    return [
      `NALAR_WORKERS=${workers} is outside NALAR_WORKERS_MIN..NALAR_WORKERS_MAX (${min}..${max}); widen the bounds`,
    ];
  }
  return [];
}

/** Splits a `host:port` address. */
export function parseHostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
}

/**
 * A default as people write it, for `--help` and the README: JSON for objects (`{}`), durations and other
 * strings as written (`2 minutes`), `unset` for none.
 */
export function formatDefault(value: unknown): string {
  if (value === undefined) return 'unset';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** One line per setting (`VAR doc (default: x)`), for `--help` output. */
export function describeSettings(): string {
  const width = Math.max(...Object.values(settings).map((s) => s.env.length));
  return Object.values(settings)
    .map((s) => `  ${s.env.padEnd(width)} ${s.doc} (default: ${formatDefault(s.default)})`)
    .join('\n');
}
