/**
 * A small workload for the runner's own integration test (not one of the paper's): Poisson arrivals; the
 * Nalar variant runs `writeArticleWorkflow` on one topic (two `writer` model calls through stubs and
 * futures, on two simulator replicas), the baseline `textPipelineVanillaWorkflow` (plain `proxyActivities`,
 * no model). The two do different work: the fixture checks the runner's mechanics, not a comparison. It
 * reports no critical path (its workflows do not return the engine's timings).
 */
import { WorkflowFailedError } from '@temporalio/client';
import { Prng, seedFrom } from '../../../sim/prng';
import type { Arrival, BenchWorkload, RequestRecord, RunContext } from '../workloads/types';

/** The stable code of a failed run: the failure type of the workflow's cause, else the error's name. */
export function errorCodeOf(err: unknown): string {
  if (err instanceof WorkflowFailedError) {
    const cause = err.cause as { type?: unknown; name?: unknown } | undefined;
    if (typeof cause?.type === 'string' && cause.type) return cause.type;
    if (typeof cause?.name === 'string') return cause.name;
  }
  return err instanceof Error ? err.name : 'UNKNOWN';
}

/** Seeded Poisson arrivals of `rate` per second over `durationMs`. */
export function poissonArrivals(o: { rate: number; durationMs: number; seed: number }, kind: string): Arrival[] {
  const prng = new Prng(seedFrom(o.seed, 'fixture', o.rate));
  const out: Arrival[] = [];
  for (let t = 0, i = 0; ; i++) {
    t += (-Math.log(1 - prng.next()) / o.rate) * 1000;
    if (t >= o.durationMs) return out;
    out.push({ id: `a${i}`, atMs: Math.round(t), kind, payload: { topic: `topic ${i}` } });
  }
}

async function run(ctx: RunContext, arrival: Arrival): Promise<RequestRecord[]> {
  const { topic } = arrival.payload as { topic: string };
  const workflowId = `${ctx.workflowIdPrefix}${arrival.id}`;
  const sentAt = Date.now();
  const record = (ok: boolean, errorCode?: string): RequestRecord[] => [
    { id: arrival.id, kind: arrival.kind, sentAt, latencyMs: Date.now() - sentAt, ok, ...(errorCode && { errorCode }) },
  ];
  try {
    if (ctx.variant === 'nalar') {
      await ctx.client.workflow.execute('writeArticleWorkflow', {
        taskQueue: ctx.taskQueue,
        workflowId,
        args: [{ topics: [topic] }],
      });
    } else {
      await ctx.client.workflow.execute('textPipelineVanillaWorkflow', {
        taskQueue: ctx.taskQueue,
        workflowId,
        args: [{ sentences: [topic, topic] }],
      });
    }
    return record(true);
  } catch (err) {
    return record(false, errorCodeOf(err));
  }
}

/** The fixture workload (see the file's comment). */
export const fixtureWorkload: BenchWorkload = {
  name: 'fixture',
  title: 'Runner fixture: one short article (two model calls) per request vs a model-free vanilla pipeline',
  simProfile: ({ seed, timeScale }) => ({ seed, timeScale, replicas: [{ name: 'writer-0' }, { name: 'writer-1' }] }),
  agentReplicas: () => ({ writer: [0, 1] }),
  defaultRates: [1, 2],
  defaultStepSeconds: 3,
  defaultTimeScale: { value: 0.01, why: 'short model calls so the fixture runs in seconds' },
  arrivals: (o) => poissonArrivals(o, 'article'),
  run,
};
