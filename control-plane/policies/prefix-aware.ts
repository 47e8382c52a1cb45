/**
 * Prefix-cache-aware routing (llm-d's idea): a session goes to a replica that already holds its prompt prefix,
 * so the engine serves the prefix from its KV cache instead of recomputing it. Run it after `load-balance`:
 * sessions with no holder with room keep the weighted routing.
 */
import { z } from 'zod';
import type { ReplicaView } from './api';
import { definePolicy } from './define';

const params = z.strictObject({
  /**
   * A holder counts as overloaded (the session is left to load balancing) when calls in flight plus waiting
   * reach this share of its capacity; with unknown capacity, when any call waits on it. @default 1
   */
  maxUtilization: z.number().positive().default(1),
});

function overloaded(r: ReplicaView, maxUtilization: number): boolean {
  return r.capacity === null ? r.waiting > 0 : r.inFlight + r.waiting >= r.capacity * maxUtilization;
}

const load = (r: ReplicaView) => r.inFlight + r.waiting;

/** Per agent, the least-loaded of `holders`. */
function leastLoaded(holders: readonly ReplicaView[] | undefined): Map<string, ReplicaView> {
  const best = new Map<string, ReplicaView>();
  for (const r of holders ?? []) {
    const current = best.get(r.agent);
    if (current === undefined || load(r) < load(current)) best.set(r.agent, r);
  }
  return best;
}

/** Appends `replica` to the list of `key` in `index`. */
function add(index: Map<string, ReplicaView[]>, key: string, replica: ReplicaView): void {
  const list = index.get(key);
  if (list) list.push(replica);
  else index.set(key, [replica]);
}

/**
 * Pins each session, per agent, to the least-loaded healthy replica that served the session itself (it holds the
 * whole context), else to one holding its prefix hash (the shared start of the prompt).
 */
export const prefixAware = definePolicy(
  'prefix-aware',
  'pins a session to a replica that holds its prompt prefix, unless that replica is overloaded',
  params,
  ({ maxUtilization }) =>
    (s, act) => {
      // Indexes first: one pass over the replicas, so a round is linear in sessions plus resident entries.
      const bySession = new Map<string, ReplicaView[]>();
      const byPrefix = new Map<string, ReplicaView[]>();
      for (const r of s.replicas.values()) {
        if (!r.healthy || overloaded(r, maxUtilization)) continue;
        for (const id of r.residentSessions) add(bySession, id, r);
        for (const hash of r.residentPrefixes) add(byPrefix, hash, r);
      }
      for (const session of s.sessions.values()) {
        const shared = leastLoaded(session.prefixHash === undefined ? undefined : byPrefix.get(session.prefixHash));
        for (const [agent, r] of new Map([...shared, ...leastLoaded(bySession.get(session.id))])) {
          act.route(session.id, agent, r.id);
        }
      }
    },
);
