import { z } from 'zod';
import type { ReplicaView, SessionView, Snapshot, WaitingCallView } from './api';
import { definePolicy } from './define';

const params = z.strictObject({
  /** Real ms a move must save beyond its cost (prefix recompute and expected wait on the target). @default 20 */
  marginMs: z.number().nonnegative().default(20),
  /** Real ms during which a session moved on an agent is not moved again on it (no ping-pong). @default 2000 */
  cooldownMs: z.number().nonnegative().default(2000),
  /** Real ms per uncached prompt token on every target, instead of each replica's learned one. @default learned */
  prefillMsPerToken: z.number().nonnegative().optional(),
});

/** Calls that would wait on `r` with `extra` more calls sent to it (0 with unknown capacity and no queue). */
const queued = (r: ReplicaView, extra: number) =>
  r.waiting + Math.max(0, r.inFlight + extra - (r.capacity ?? Infinity));

/** Expected real ms before one more call on `r` starts, with `extra` recent moves onto it counted as load. */
const expectedWaitMs = (r: ReplicaView, extra: number) =>
  r.capacity === null ? r.meanQueueMs : (queued(r, extra + 1) * r.meanServiceMs) / r.capacity;

/** Each session's longest-waiting call per agent, longest first (the most blocked choose targets first). */
function blocked(s: Snapshot): { session: SessionView; call: WaitingCallView }[] {
  const longest = new Map<string, { session: SessionView; call: WaitingCallView }>();
  for (const session of s.waitingSessions) {
    for (const call of session.waiting) {
      const key = `${session.id}\u0000${call.agent}`;
      if ((longest.get(key)?.call.waitedMs ?? -1) < call.waitedMs) longest.set(key, { session, call });
    }
  }
  return [...longest.values()].sort((a, b) => b.call.waitedMs - a.call.waitedMs);
}

/** Head-of-line migration: a call stuck behind others moves once its wait exceeds what moving costs. */
export const holMigration = definePolicy(
  'hol-migration',
  'moves a session whose call waited longer than moving costs to the replica of its agent with the least expected wait',
  params,
  ({ marginMs, cooldownMs, prefillMsPerToken }) => {
    const movedAt = new Map<string, number>(); // `${session}\0${agent}` → epoch ms of its last move
    let landing: { to: string; at: number }[] = []; // recent moves, which reports may not show yet
    return (s, act) => {
      landing = landing.filter((m) => s.now - m.at < 2 * s.periodMs);
      const landed = new Map<string, number>(); // moves per target, counted once: a filter per lookup is O(moves)
      for (const m of landing) landed.set(m.to, (landed.get(m.to) ?? 0) + 1);
      const extra = (id: string) => landed.get(id) ?? 0;
      for (const { session, call } of blocked(s)) {
        const key = `${session.id}\u0000${call.agent}`;
        if (s.now - (movedAt.get(key) ?? -Infinity) < cooldownMs) continue;
        const recompute = (r: ReplicaView) => session.contextTokens * (prefillMsPerToken ?? r.prefillMsPerToken);
        const cost = (r: ReplicaView) => recompute(r) + expectedWaitMs(r, extra(r.id));
        const [to] = (s.agents.get(call.agent)?.replicas ?? [])
          .map((id) => s.replicas.get(id))
          .filter((r): r is ReplicaView => !!r?.healthy && r.id !== call.replica && queued(r, extra(r.id)) === 0)
          .sort((a, b) => cost(a) - cost(b));
        if (to === undefined || call.waitedMs <= cost(to) + marginMs) continue;
        act.migrate(session.id, call.replica, to.id);
        movedAt.set(key, s.now);
        landing.push({ to: to.id, at: s.now });
        landed.set(to.id, extra(to.id) + 1);
      }
      for (const [key, at] of movedAt) if (s.now - at >= cooldownMs) movedAt.delete(key);
    };
  },
);
