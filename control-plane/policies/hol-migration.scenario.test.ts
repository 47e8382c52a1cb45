/**
 * The financial analyst's head-of-line blocking in miniature, stepped one control period at a time: six analyst
 * replicas serving one call each, sessions pinned by hash, 15% of calls long answers that hold a replica for
 * seconds. The same seeded calls run with and without hol-migration; the policy acts on snapshots exactly as the
 * global controller would hand them over, and a move costs the prefix recompute on the target. Pure logic: the
 * real controllers and engines have their own tests; this checks that the policy's decisions cut the tail.
 */
import { holMigration } from './hol-migration';
import { runPolicy, SnapshotBuilder } from './testing';

const periodMs = 250;
const replicas = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'];
const contextTokens = 4_000;
const prefillMsPerToken = 0.06; // 240 ms to recompute a session's prefix elsewhere

interface Call {
  session: string;
  arrivedAt: number;
  serviceMs: number;
  startedAt?: number;
}

/** A seeded arrival pattern: ~2.2 calls/s over 60 s, 15% long (6 s), the rest short (0.9 s). */
function calls(seed: number): Call[] {
  let x = seed;
  const random = () => (x = (x * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const out: Call[] = [];
  for (let t = 0; t < 60_000; t += 50) {
    if (random() < 0.11) {
      out.push({ session: `s${Math.floor(random() * 40)}`, arrivedAt: t, serviceMs: random() < 0.15 ? 6_000 : 900 });
    }
  }
  return out;
}

/** Runs the calls; returns every call's wait in ms. With a policy, it runs once per period. */
function run(all: Call[], withPolicy: boolean): number[] {
  const policy = holMigration.create({});
  const pin = new Map<string, string>();
  const queues = new Map(replicas.map((r) => [r, [] as Call[]]));
  const running = new Map<string, Call | undefined>();
  const done: Call[] = [];
  const pending = [...all];
  for (let now = 0; done.length < all.length; now += periodMs) {
    while (pending[0] && pending[0].arrivedAt <= now) {
      const call = pending.shift() as Call;
      const replica = pin.get(call.session) ?? replicas[Number(call.session.slice(1)) % replicas.length] ?? 'a1';
      queues.get(replica)?.push(call);
    }
    for (const r of replicas) {
      const current = running.get(r);
      if (current && (current.startedAt ?? 0) + current.serviceMs <= now) {
        done.push(current);
        running.set(r, undefined);
      }
      const next = running.get(r) ? undefined : queues.get(r)?.shift();
      if (next) {
        next.startedAt = now;
        running.set(r, next);
      }
    }
    if (!withPolicy) continue;
    const builder = new SnapshotBuilder({ now, periodMs });
    for (const r of replicas) {
      builder.replica(r, {
        agent: 'analyst',
        capacity: 1,
        inFlight: running.get(r) ? 1 : 0,
        meanServiceMs: 1_665,
        prefillMsPerToken,
      });
    }
    const waitingBySession = new Map<string, { agent: string; replica: string; waitedMs: number }[]>();
    for (const [r, queue] of queues) {
      for (const c of queue) {
        const list = waitingBySession.get(c.session) ?? [];
        list.push({ agent: 'analyst', replica: r, waitedMs: now - c.arrivedAt });
        waitingBySession.set(c.session, list);
      }
    }
    for (const [session, waiting] of waitingBySession) builder.session(session, { contextTokens, waiting });
    for (const move of runPolicy(policy, builder.build()).migrations()) {
      pin.set(move.session, move.to);
      const from = queues.get(move.from) ?? [];
      const moving = from.filter((c) => c.session === move.session);
      queues.set(
        move.from,
        from.filter((c) => c.session !== move.session),
      );
      // The first call on the new replica recomputes the session's prefix.
      for (const [i, c] of moving.entries()) if (i === 0) c.serviceMs += contextTokens * prefillMsPerToken;
      queues.get(move.to)?.push(...moving);
    }
  }
  return done.map((c) => (c.startedAt ?? 0) - c.arrivedAt);
}

const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.ceil(p * values.length) - 1] ?? 0;

test('head-of-line migration cuts the p99 wait of pinned sessions at least in half, and the mean does not get worse', () => {
  const all = calls(7);
  const pinned = run(structuredClone(all), false);
  const migrated = run(structuredClone(all), true);
  expect(migrated).toHaveLength(pinned.length);
  expect(percentile(migrated, 0.99)).toBeLessThan(percentile(pinned, 0.99) * 0.5);
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  expect(mean(migrated)).toBeLessThanOrEqual(mean(pinned));
});
