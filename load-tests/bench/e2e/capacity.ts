/**
 * Capacity in a workload benchmark. When the run's policies include a capacity policy (`capacity-reassign`,
 * `autoscale`), the runner serves the pool's admin API, hands a {@link CapacityManager} over it
 * ({@link SimProvisioner}) to the global controller, and keeps both variants on the same replica budget:
 * before every segment the static split is restored (replicas moved by the previous Nalar segment go back,
 * which costs their model load outside the measurement), and capacity policies act only while the Nalar
 * variant plays (the baseline keeps its static allocation by definition).
 */
import type { FastifyInstance } from 'fastify';
import { CapacityManager, type CapacityManagerOptions } from '../../../control-plane/capacity/manager';
import { directiveBounds, managedAgentsOf } from '../../../control-plane/capacity/managed-agents';
import { SimProvisioner } from '../../../control-plane/capacity/sim-provisioner';
import type { GlobalController } from '../../../control-plane/global-controller/controller';
import type { InstalledPolicy } from '../../../control-plane/global-controller/policy-config';
import { createLogger } from '../../../common/log';
import { buildSimAdminApp } from '../../../sim/admin';
import type { SimPool } from '../../../sim/pool';
import type { BenchVariant } from '../workloads/types';
import { waitFor } from './wait';

/** Policies that change capacity: with one of them installed the run manages capacity. */
export const capacityPolicies: ReadonlySet<string> = new Set(['capacity-reassign', 'autoscale']);

/** Longest wait for the static split to be back before a segment (several model loads in parallel). */
const defaultRestoreTimeoutMs = 120_000;
/** How often the restore asks again for replicas that were still moving (reassignAll skips them). */
const restoreRetryMs = 1_000;

export interface BenchCapacity {
  readonly manager: CapacityManager;
  /** The pool's admin API the provisioner drives. */
  readonly adminUrl: string;
  /** Base URL → agent of the static split. */
  readonly split: Readonly<Record<string, string>>;
  /** Restores the split and installs the variant's policies; resolves when the split is back. */
  prepare(variant: BenchVariant): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts capacity management when `policies` include a capacity policy; undefined otherwise.
 * `agentModels` is the worker's NALAR_AGENT_MODELS (agent → model and base URLs).
 */
export async function startBenchCapacity(o: {
  pool: SimPool;
  controller: GlobalController;
  policies: readonly InstalledPolicy[];
  agentModels: Readonly<Record<string, { model: string; baseUrls: readonly string[] }>>;
  /** Profile fields of a replica started for an agent (the workload's replica of that agent). */
  template: (agent: string) => Record<string, unknown>;
  /** Bounds of the managed agents (agent → min/max instances). @default their directives (stubs manifest) */
  bounds?: ReadonlyMap<string, { min: number; max: number }>;
  log: (line: string) => void;
  /** Longest wait for the static split before a segment. @default 120 s */
  restoreTimeoutMs?: number;
  /** The workload's settings of the capacity manager (`BenchWorkload.capacityManager`). @default none */
  manager?: Pick<CapacityManagerOptions, 'releaseWaitsForCalls'>;
}): Promise<BenchCapacity | undefined> {
  const restoreTimeoutMs = o.restoreTimeoutMs ?? defaultRestoreTimeoutMs;
  if (!o.policies.some((p) => capacityPolicies.has(p.name))) return undefined;
  const admin: FastifyInstance = buildSimAdminApp({ pool: o.pool });
  const adminUrl = await admin.listen({ host: '127.0.0.1', port: 0 });
  const manager = await CapacityManager.start({
    provisioner: new SimProvisioner({ adminUrl, template: o.template }),
    agents: managedAgentsOf(o.agentModels, o.bounds ?? directiveBounds()),
    view: o.controller.view,
    ...o.manager,
    log: createLogger('capacity', 'warn', o.log),
  });
  o.controller.setCapacity(manager);
  // Progress: every change of capacity (refusals are counted on /metrics, not logged per round), at its second
  // since the segment's policies were installed (when a move happened in a segment's phases).
  let segmentAt = Date.now();
  manager.onEvent((e) => {
    if (e.kind === 'refused') return;
    const at = ((e.at - segmentAt) / 1000).toFixed(1);
    o.log(`capacity: +${at} s ${e.kind} ${[e.agent, e.replica, e.detail].filter(Boolean).join(' ')}`);
  });
  const split: Record<string, string> = {};
  for (const [agent, binding] of Object.entries(o.agentModels)) for (const url of binding.baseUrls) split[url] = agent;
  const withoutCapacity = o.policies.filter((p) => !capacityPolicies.has(p.name));
  o.log(
    `capacity: managed by ${o.policies
      .filter((p) => capacityPolicies.has(p.name))
      .map((p) => p.name)
      .join(', ')} in Nalar segments; admin API ${adminUrl}`,
  );
  return {
    manager,
    adminUrl,
    split,
    async prepare(variant) {
      segmentAt = Date.now(); // the restore's moves, from its start
      o.controller.setPolicies(withoutCapacity);
      const deadline = Date.now() + restoreTimeoutMs;
      let back: boolean;
      do {
        // A replica still moving when the last segment ended is skipped (only serving ones move): ask again
        // until the moves under way are done and every replica is back.
        manager.reassignAll(split);
        back = await waitFor(() => manager.quiet && sameSplit(o.controller, split), restoreRetryMs);
      } while (!back && Date.now() < deadline);
      if (!back) o.log(`capacity: the static split was not back after ${restoreTimeoutMs / 1000} s; going on`);
      if (variant === 'nalar') o.controller.setPolicies(o.policies);
      segmentAt = Date.now();
    },
    async close() {
      o.controller.setCapacity(undefined);
      await manager.close();
      await admin.close();
    },
  };
}

/** Whether the published decisions route every agent over exactly its static replicas. */
function sameSplit(controller: GlobalController, split: Readonly<Record<string, string>>): boolean {
  const routed = controller.decisions.replicas;
  for (const [url, agent] of Object.entries(split)) if (!routed[agent]?.includes(url)) return false;
  return Object.values(routed).reduce((n, urls) => n + urls.length, 0) === Object.keys(split).length;
}
