import { z } from 'zod';
import type { AgentCapacityView, ReplicaView, Snapshot } from './api';
import { definePolicy } from './define';

const params = z.strictObject({
  /** Load (calls on and waiting for its serving replicas per call slot) above which an agent needs a replica. @default 1 */
  highLoad: z.number().positive().default(1),
  /** Load below which an agent above its minInstances can give one away. @default 0.3 */
  lowLoad: z.number().nonnegative().default(0.3),
  /** Real ms between two moves: each costs the target a model load and a cold prefix cache. @default 10000 */
  cooldownMs: z.number().nonnegative().default(10_000),
});

const calls = (r: ReplicaView) => r.waiting + r.inFlight;

/** Calls on and waiting for an agent's serving replicas per call slot (unknown capacity: one slot). */
function load(s: Snapshot, c: AgentCapacityView): number {
  const replicas = c.serving.map((id) => s.replicas.get(id)).filter((r): r is ReplicaView => r !== undefined);
  const demand = replicas.reduce((sum, r) => sum + calls(r), 0);
  const slots = replicas.reduce((sum, r) => sum + (r.capacity ?? 1), 0);
  return slots > 0 ? demand / slots : demand > 0 ? Infinity : 0;
}

/** Resource reassignment: one replica of an idle agent moves to an overloaded one, at most once per cool-down. */
export const capacityReassign = definePolicy(
  'capacity-reassign',
  'moves one replica from the least loaded agent to the most loaded one when one is idle and the other overloaded',
  params.refine((p) => p.lowLoad < p.highLoad, { message: 'lowLoad must be below highLoad', path: ['lowLoad'] }),
  ({ highLoad, lowLoad, cooldownMs }) => {
    let movedAt = -Infinity;
    return (s, act) => {
      if (s.now - movedAt < cooldownMs) return;
      const agents = [...s.capacity.values()].map((c) => ({ c, load: load(s, c) })).sort((a, b) => a.load - b.load);
      // A hot agent still loading a replica gets nothing more until that one serves: its load is about to drop.
      const hot = agents.findLast(
        ({ c, load }) => load > highLoad && c.loading.length === 0 && c.serving.length < c.maxInstances,
      );
      const donor = agents.find(({ c, load }) => load < lowLoad && c.serving.length > c.minInstances && c !== hot?.c);
      const replica = donor?.c.serving
        .map((id) => s.replicas.get(id))
        .filter((r): r is ReplicaView => r !== undefined)
        .sort((a, b) => calls(a) - calls(b))[0];
      if (!hot || !replica) return;
      act.reassign(replica.id, hot.c.agent);
      movedAt = s.now;
    };
  },
);
