import { z } from 'zod';
import type { AgentCapacityView, ReplicaView, Snapshot } from './api';
import { definePolicy } from './define';

/** autoscale's params (exported so that a benchmark reads the defaults in force, not a copy of them). */
export const autoscaleParams = z.strictObject({
  /** Waiting calls per serving replica above which an agent is short of a replica. @default 2 */
  upWaiting: z.number().nonnegative().default(2),
  /**
   * Real ms a call may wait for an agent's replicas: an agent is short when a call waiting now has waited longer,
   * or when the mean wait of its finished calls is longer while calls wait. @default 2000
   */
  upQueueMs: z.number().positive().default(2000),
  /** Rounds in a row an agent (or a task queue) must be short before it grows: a single spike is not load. @default 2 */
  upRounds: z.number().int().positive().default(2),
  /** Busy fraction (calls in flight per call slot) below which, with nothing waiting, an agent has one too many. @default 0.3 */
  downLoad: z.number().nonnegative().default(0.3),
  /** Rounds in a row it must have too many before it shrinks (40 = 10 s at 250 ms). @default 40 */
  downRounds: z.number().int().positive().default(40),
  /** Real ms after a change of an agent or a task queue before the next change of it. @default 10000 */
  cooldownMs: z.number().nonnegative().default(10_000),
  /** Backlog (Temporal tasks not picked up yet) one worker process is wanted for. @default 10 */
  tasksPerWorker: z.number().positive().default(10),
});

/** autoscale's params with their defaults applied. */
export type AutoscaleParams = z.output<typeof autoscaleParams>;

/**
 * Whether `c`'s agent is short of a replica this round: more calls waiting than `upWaiting` per serving replica,
 * or calls waiting longer than `upQueueMs` (the oldest now, seen before their count grows, or the mean of
 * finished ones: learned from finished calls, it stays put when idle, so it counts only while calls wait).
 */
export function isShort(s: Snapshot, c: AgentCapacityView, p: Pick<AutoscaleParams, 'upWaiting' | 'upQueueMs'>) {
  const rs = c.serving.map((id) => s.replicas.get(id)).filter((r): r is ReplicaView => r !== undefined);
  const [waiting, queueMs] = rs.reduce(([w, q], r) => [w + r.waiting, q + r.meanQueueMs], [0, 0]);
  const old = s.waitingSessions.some((x) => x.waiting.some((w) => w.agent === c.agent && w.waitedMs > p.upQueueMs));
  return waiting > p.upWaiting * rs.length || (waiting > 0 && (old || queueMs > p.upQueueMs * rs.length));
}

/** One scaled thing's hysteresis: rounds in a row it wanted more or fewer, and the least / most it wanted then. */
type Trend = { up: number; down: number; least: number; most: number; changedAt: number };

/**
 * What `key` scales to this round, if anything: more only after `upRounds` rounds in a row of wanting more (to the
 * least it wanted in them), fewer after `downRounds` of wanting fewer (to the most), never within the cool-down.
 */
function next(trends: Map<string, Trend>, key: string, have: number, want: number, now: number, p: AutoscaleParams) {
  const t = trends.get(key) ?? { up: 0, down: 0, least: 0, most: 0, changedAt: -Infinity };
  trends.set(key, t);
  [t.up, t.down] = [want > have ? t.up + 1 : 0, want < have ? t.down + 1 : 0];
  if (t.up > 0) t.least = t.up === 1 ? want : Math.min(t.least, want);
  if (t.down > 0) t.most = t.down === 1 ? want : Math.max(t.most, want);
  const to = t.up >= p.upRounds ? t.least : t.down >= p.downRounds ? t.most : undefined;
  if (to === undefined || now - t.changedAt < p.cooldownMs) return undefined;
  Object.assign(t, { up: 0, down: 0, changedAt: now });
  return to;
}

/** Autoscaling with hysteresis: model replicas by waiting calls and their wait, worker processes by backlog. */
export const autoscale = definePolicy(
  'autoscale',
  'provisions or kills model replicas by waiting calls and queue time, and scales workers by task-queue backlog, with hysteresis',
  autoscaleParams,
  (p) => {
    const trends = new Map<string, Trend>(); // by agent and by task queue
    return (s, act) => {
      for (const c of s.capacity.values()) {
        const rs = c.serving.map((id) => s.replicas.get(id)).filter((r): r is ReplicaView => r !== undefined);
        const sum = (f: (r: ReplicaView) => number) => rs.reduce((total, r) => total + f(r), 0);
        const [waiting, have] = [sum((r) => r.waiting), c.serving.length + c.loading.length];
        const idle = waiting === 0 && sum((r) => r.inFlight) < p.downLoad * sum((r) => r.capacity ?? 1);
        // Nothing more while a replica loads: it is about to take load the snapshot does not show yet.
        const grow = isShort(s, c, p) && c.loading.length === 0 && have < c.maxInstances;
        const want = grow ? have + 1 : idle && rs.length > c.minInstances ? have - 1 : have;
        const to = next(trends, `agent\u0000${c.agent}`, have, want, s.now, p);
        const victim = rs.sort((a, b) => a.waiting + a.inFlight - b.waiting - b.inFlight)[0];
        if (to !== undefined && to > have) act.provision(c.agent);
        else if (to !== undefined && victim) act.kill(victim.id);
      }
      for (const pool of s.workers.values()) {
        const backlog = s.taskQueueBacklog.get(pool.taskQueue);
        if (backlog === undefined) continue; // not measured yet: no reason to change
        const want = Math.min(pool.max, Math.max(pool.min, Math.ceil(backlog / p.tasksPerWorker)));
        const to = next(trends, `queue\u0000${pool.taskQueue}`, pool.desired, want, s.now, p);
        if (to !== undefined) act.scaleWorkers(pool.taskQueue, to);
      }
    };
  },
);
