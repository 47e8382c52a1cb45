import { z } from 'zod';
import type { AgentCapacityView, ReplicaView, Snapshot } from './api';
import { definePolicy } from './define';

const params = z.strictObject({
  /** Load (calls on and waiting for its replicas per call slot, loading ones counted) above which an agent needs one more. @default 1 */
  highLoad: z.number().positive().default(1),
  /** Load below which an agent above its minInstances can give one away (and only if that leaves it below highLoad). @default 0.5 */
  lowLoad: z.number().nonnegative().default(0.5),
  /** Real ms between two moves: paces them while the calls spread over the new replica. @default 2000 */
  cooldownMs: z.number().nonnegative().default(2_000),
});

const calls = (r: ReplicaView) => r.waiting + r.inFlight;
const slots = (rs: readonly ReplicaView[]) => rs.reduce((sum, r) => sum + (r.capacity ?? 1), 0);

/** An agent's demand and call slots; a replica still loading counts with its agent's mean slots (it serves soon). */
function stateOf(s: Snapshot, c: AgentCapacityView) {
  const serving = c.serving.map((id) => s.replicas.get(id)).filter((r): r is ReplicaView => r !== undefined);
  const mean = serving.length > 0 ? slots(serving) / serving.length : 1;
  const replica = serving.sort((a, b) => calls(a) - calls(b))[0]; // the one it would give: least busy
  const demand = serving.reduce((sum, r) => sum + calls(r), 0);
  const load = (n: number) => (n > 0 ? demand / n : demand > 0 ? Infinity : 0);
  const total = slots(serving) + c.loading.length * mean;
  return { c, replica, load: load(total), loadWithout: load(total - (replica ? slots([replica]) : 0)) };
}

/**
 * Resource reassignment: replicas move from idle agents to overloaded ones, one per cool-down, until the
 * receiver's load (its loading replicas counted) is back under highLoad; a donor never becomes overloaded.
 */
export const capacityReassign = definePolicy(
  'capacity-reassign',
  'moves replicas from the least loaded agents to the most loaded one while one is idle and the other overloaded',
  params.refine((p) => p.lowLoad < p.highLoad, { message: 'lowLoad must be below highLoad', path: ['lowLoad'] }),
  ({ highLoad, lowLoad, cooldownMs }) => {
    let movedAt = -Infinity;
    return (s, act) => {
      if (s.now - movedAt < cooldownMs) return;
      const agents = [...s.capacity.values()].map((c) => stateOf(s, c)).sort((a, b) => a.load - b.load);
      const hot = agents.findLast(
        ({ c, load }) => load > highLoad && c.serving.length + c.loading.length < c.maxInstances,
      );
      const donor = agents.find(
        (a) => a.load < lowLoad && a.loadWithout < highLoad && a.c.serving.length > a.c.minInstances && a !== hot,
      );
      if (!hot || !donor?.replica) return;
      act.reassign(donor.replica.id, hot.c.agent);
      movedAt = s.now;
    };
  },
);
