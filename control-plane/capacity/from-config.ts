/**
 * Capacity management of the global controller process, from its settings: the provisioner of
 * NALAR_PROVISIONER (create-provisioner.ts; the simulator's admin API at NALAR_SIM_ADMIN_URL for `sim`), the
 * agents it manages (NALAR_AGENT_MODELS agents with a model of their own, bounded by their directives) and the
 * worker scaler, when the process has one.
 */
import type { NalarConfig } from '../../common/config';
import type { Logger } from '../../common/log';
import type { ControlView } from '../global-controller/view';
import { createProvisioner, type ProvisionerConfig } from './create-provisioner';
import { directiveBounds, managedAgentsOf } from './managed-agents';
import { CapacityManager } from './manager';
import type { Provisioner } from './provisioner';
import type { WorkerScaler } from './worker-scaler';

/** The provisioner of a manager that scales workers only: it has no replica and is never asked for one. */
const noReplicas: Provisioner = {
  name: 'none',
  list: () => Promise.resolve([]),
  provision: () => Promise.reject(new Error('no provisioner')),
  whenServing: () => Promise.reject(new Error('no provisioner')),
  kill: () => Promise.reject(new Error('no provisioner')),
  reassign: () => Promise.reject(new Error('no provisioner')),
};

export type CapacityConfig = ProvisionerConfig & Pick<NalarConfig, 'simAdminUrl' | 'agentModels'>;

/**
 * The capacity manager the settings call for, started (it lists the provisioner's replicas); undefined when
 * no provisioner is set, or when no agent has a model of its own and there is no worker scaler.
 */
export async function capacityFromConfig(
  config: CapacityConfig,
  view: ControlView,
  log: Logger,
  workerScaler?: WorkerScaler,
): Promise<CapacityManager | undefined> {
  const agents = managedAgentsOf(config.agentModels, directiveBounds());
  // Without a managed agent no replica changes: the provisioner's settings are not needed (nor checked).
  const provisioner =
    agents.length > 0
      ? createProvisioner(config, { ...(config.simAdminUrl !== undefined && { simAdminUrl: config.simAdminUrl }) })
      : undefined;
  if (!provisioner && !workerScaler) return undefined;
  const manager = await CapacityManager.start({
    provisioner: provisioner ?? noReplicas,
    agents: provisioner ? agents : [],
    view,
    log,
    ...(workerScaler && { workerScaler }),
  });
  log.info(
    provisioner
      ? `capacity: the ${provisioner.name} provisioner manages ${agents.map((a) => a.agent).join(', ')}`
      : 'capacity: workers only (no agent has a model of its own, or NALAR_PROVISIONER=none)',
  );
  return manager;
}
