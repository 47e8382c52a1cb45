/**
 * The options of `npm run bench -- scaling`, their defaults, `--help` and parsing, and the workload it plays:
 * `writeArticleWorkflow` on one topic (two sequential `writer` model calls through stubs and futures, Nalar
 * variant only) on one managed agent, `writer`, that starts with one replica.
 */
import { Prng, seedFrom } from '../../../sim/prng';
import { errorCodeOf } from '../e2e/fixture-workload';
import type { Arrival, BenchWorkload, RequestRecord, RunContext } from '../workloads/types';

/** Options of the benchmark. */
export interface ScalingOptions {
  /**
   * Requests per second of the low phases (one replica serves them, bursts included). @default 0.3: a request
   * is two writer calls of about 1.1 s each, so one replica of 4 slots is under a fifth busy. Measured: at 0.5/s
   * on 2 slots (90% busy), Poisson bursts made autoscale add a replica before the step.
   */
  lowRate: number;
  /** Requests per second after the step (about three replicas' worth: some 9 calls at once). @default 4 */
  highRate: number;
  /** Real seconds of the first low phase. @default 20 */
  lowSeconds: number;
  /** Real seconds of the high phase. @default 60 */
  highSeconds: number;
  /** Real seconds of the low phase after the fall: autoscale's down window, then the kills. @default 60 */
  afterSeconds: number;
  /** Real seconds a replica takes to load its model (the profile's modelLoadMs is this / time scale). @default 5 */
  modelLoadSeconds: number;
  /** Sequences one replica runs at once (also the worker's in-flight limit per replica). @default 4 */
  maxNumSeqs: number;
  /** The managed agent's bounds. @default 1 and 4 */
  minInstances: number;
  maxInstances: number;
  /** Simulator time scale (real ms per model ms). @default 1 (model time is real time) */
  timeScale: number;
  /** The controller's policies (NALAR_POLICIES syntax). @default load-balance,autoscale */
  policies: string;
  /** Seed of the arrivals and the simulator. @default 42 */
  seed: number;
  /** Unrecorded warm-up requests before the phases. @default 2 */
  warmup: number;
  /** Seconds after the last arrival before running requests fail as TIMEOUT. @default 60 */
  drainSeconds: number;
  /** Worker processes. @default 1 */
  workers: number;
}

export const defaultScalingOptions: ScalingOptions = {
  lowRate: 0.3,
  highRate: 4,
  lowSeconds: 20,
  highSeconds: 60,
  afterSeconds: 60,
  modelLoadSeconds: 5,
  maxNumSeqs: 4,
  minInstances: 1,
  maxInstances: 4,
  timeScale: 1,
  policies: 'load-balance,autoscale',
  seed: 42,
  warmup: 2,
  drainSeconds: 60,
  workers: 1,
};

const d = defaultScalingOptions;
/** The `--help` lines. */
export const scalingUsage = `  scaling  capacity that follows load: one managed agent (writer) from one replica, a step of offered load up and
         back down; reaction time to the step (detection, decision, actuation with a ${d.modelLoadSeconds} s model load), time to
         the first replica removed after the fall, calls lost on the way down
         options: --low-rate R  --high-rate R  --low-seconds S  --high-seconds S  --after-seconds S
                  --model-load-seconds S  --max-num-seqs N  --min-instances N  --max-instances N  --time-scale X
                  --policies LIST  --seed N  --warmup N  --drain-seconds S  --workers N
         (defaults: ${d.lowRate}/s for ${d.lowSeconds} s, ${d.highRate}/s for ${d.highSeconds} s, ${d.lowRate}/s for ${d.afterSeconds} s; ${d.maxNumSeqs} sequences per replica,
          ${d.minInstances}..${d.maxInstances} replicas, time scale ${d.timeScale}, policies ${d.policies}, seed ${d.seed}, ${d.warmup} warm-up requests,
          ${d.drainSeconds} s drain, ${d.workers} worker process)`;

/** Parses `--flag value` pairs; an unknown flag or a bad value is an error naming it. */
export function parseScalingOptions(args: readonly string[]): ScalingOptions {
  const o: ScalingOptions = { ...defaultScalingOptions };
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i] as string;
    const value = args[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    const num = Number(value);
    const positive = () => {
      if (!Number.isFinite(num) || num <= 0) throw new Error(`${flag} must be a positive number, got ${value}`);
      return num;
    };
    const whole = () => {
      if (!Number.isInteger(num) || num < 0) throw new Error(`${flag} must be a whole number, got ${value}`);
      return num;
    };
    if (flag === '--low-rate') o.lowRate = positive();
    else if (flag === '--high-rate') o.highRate = positive();
    else if (flag === '--low-seconds') o.lowSeconds = positive();
    else if (flag === '--high-seconds') o.highSeconds = positive();
    else if (flag === '--after-seconds') o.afterSeconds = positive();
    else if (flag === '--model-load-seconds') o.modelLoadSeconds = whole();
    else if (flag === '--max-num-seqs') o.maxNumSeqs = Math.max(1, whole());
    else if (flag === '--min-instances') o.minInstances = Math.max(1, whole());
    else if (flag === '--max-instances') o.maxInstances = Math.max(1, whole());
    else if (flag === '--time-scale') o.timeScale = positive();
    else if (flag === '--policies') o.policies = value;
    else if (flag === '--seed') o.seed = whole();
    else if (flag === '--warmup') o.warmup = whole();
    else if (flag === '--drain-seconds') o.drainSeconds = positive();
    else if (flag === '--workers') o.workers = Math.max(1, whole());
    else throw new Error(`unknown option ${flag}`);
  }
  if (o.maxInstances < o.minInstances) {
    throw new Error(`--max-instances ${o.maxInstances} is below --min-instances ${o.minInstances}`);
  }
  if (o.highRate <= o.lowRate) throw new Error(`--high-rate ${o.highRate} must be above --low-rate ${o.lowRate}`);
  return o;
}

/** The profile fields of every replica of the agent, the starting one and the provisioned ones alike. */
export function replicaTemplate(o: ScalingOptions): { maxNumSeqs: number; modelLoadMs: number } {
  return { maxNumSeqs: o.maxNumSeqs, modelLoadMs: Math.round((o.modelLoadSeconds * 1000) / o.timeScale) };
}

/** Seeded Poisson arrivals of `rate` per second in [fromMs, toMs), ids prefixed by `phase`. */
function poisson(rate: number, fromMs: number, toMs: number, seed: number, phase: string): Arrival[] {
  const prng = new Prng(seedFrom(seed, 'scaling', phase));
  const out: Arrival[] = [];
  for (let t = fromMs, i = 0; ; i++) {
    t += (-Math.log(1 - prng.next()) / rate) * 1000;
    if (t >= toMs) return out;
    out.push({ id: `${phase}-${i}`, atMs: Math.round(t), kind: phase, payload: { topic: `${phase} topic ${i}` } });
  }
}

/** The three phases' arrivals (low, high, low again), offsets from the start; `kind` names the phase. */
export function stepArrivals(o: ScalingOptions): Arrival[] {
  const step = o.lowSeconds * 1000;
  const fall = step + o.highSeconds * 1000;
  return [
    ...poisson(o.lowRate, 0, step, o.seed, 'low'),
    ...poisson(o.highRate, step, fall, o.seed, 'high'),
    ...poisson(o.lowRate, fall, fall + o.afterSeconds * 1000, o.seed, 'after'),
  ];
}

/** One request: a one-topic article (two `writer` calls), Nalar variant; never throws. */
async function run(ctx: RunContext, arrival: Arrival): Promise<RequestRecord[]> {
  const { topic } = arrival.payload as { topic: string };
  const sentAt = Date.now();
  const record = (ok: boolean, errorCode?: string): RequestRecord[] => [
    { id: arrival.id, kind: arrival.kind, sentAt, latencyMs: Date.now() - sentAt, ok, ...(errorCode && { errorCode }) },
  ];
  try {
    await ctx.client.workflow.execute('writeArticleWorkflow', {
      taskQueue: ctx.taskQueue,
      workflowId: `${ctx.workflowIdPrefix}${arrival.id}`,
      args: [{ topics: [topic] }],
    });
    return record(true);
  } catch (err) {
    return record(false, errorCodeOf(err));
  }
}

/** The workload of the benchmark: the e2e runner's stack starts it (one replica of `writer`). */
export function scalingWorkload(o: ScalingOptions): BenchWorkload {
  return {
    name: 'scaling',
    title: 'One managed agent (writer: a one-topic article, two model calls) under a step of load',
    simProfile: ({ seed, timeScale }) => ({
      seed,
      timeScale,
      replicas: [{ name: 'writer-0', ...replicaTemplate(o) }],
    }),
    agentReplicas: () => ({ writer: [0] }),
    defaultRates: [o.lowRate, o.highRate],
    defaultStepSeconds: o.lowSeconds + o.highSeconds + o.afterSeconds,
    defaultDrainSeconds: o.drainSeconds,
    defaultTimeScale: { value: o.timeScale, why: 'model time is real time: the model load is 5 real seconds' },
    arrivals: ({ rate, durationMs, seed }) => poisson(rate, 0, durationMs, seed, 'warmup'),
    run,
  };
}
