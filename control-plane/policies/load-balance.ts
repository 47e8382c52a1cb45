import { z } from 'zod';
import type { ReplicaView } from './api';
import { definePolicy } from './define';

const params = z.strictObject({
  /** Weight of a replica with no free slot, so a full agent still spreads its new sessions. @default 0.05 */
  floor: z.number().positive().default(0.05),
});

/** Room: free slots (with unknown capacity, 1/(1 + calls on it)), shrunk by recent queueing against service time. */
function weight(r: ReplicaView, floor: number): number {
  const load = r.inFlight + r.waiting;
  const room = r.capacity === null ? 1 / (1 + load) : Math.max(0, r.capacity - load);
  return (room + floor) / (1 + r.meanQueueMs / Math.max(1, r.meanServiceMs));
}

/** Load balancing: each agent's unpinned sessions go to its healthy replicas in proportion to their room. */
export const loadBalance = definePolicy(
  'load-balance',
  'weighted routing per agent over healthy replicas, by free capacity and recent queue time',
  params,
  ({ floor }) =>
    (s, act) => {
      for (const agent of s.agents.values()) {
        const healthy = agent.replicas.map((id) => s.replicas.get(id)).filter((r): r is ReplicaView => !!r?.healthy);
        const [ids, weights] = [healthy.map((r) => r.id), healthy.map((r) => weight(r, floor))];
        if (healthy.length > 0) act.route(agent.name, ids, weights);
      }
    },
);
