/**
 * Capacity management of the global controller process, from its settings: which provisioner
 * (NALAR_PROVISIONER: `sim` — the simulator admin API at NALAR_SIM_ADMIN_URL; `command` —
 * NALAR_PROVISIONER_COMMAND; `none`; unset: `sim` when the embedded simulator runs), which agents it manages
 * (NALAR_AGENT_MODELS agents with a model of their own, bounded by their directives) and the worker scaler,
 * if the process has one.
 */
import type { NalarConfig } from '../../common/config';
import { ErrorCode, NalarError } from '../../common/errors';
import type { Logger } from '../../common/log';
import type { ControlView } from '../global-controller/view';
import { directiveBounds, managedAgentsOf } from './managed-agents';
import { CapacityManager } from './manager';
import type { Provisioner } from './provisioner';
import { SimProvisioner } from './sim-provisioner';
import type { WorkerScaler } from './worker-scaler';

export type CapacityConfig = Pick<
  NalarConfig,
  'provisioner' | 'sim' | 'simAdminUrl' | 'simAdminToken' | 'agentModels' | 'provisionerTimeout'
>;

/** The provisioner the settings name; undefined for `none`. NALAR_ERR_CONFIG_INVALID when one lacks its setting. */
export function provisionerFromConfig(config: CapacityConfig): Provisioner | undefined {
  const kind = config.provisioner ?? (config.sim ? 'sim' : 'none');
  if (kind === 'none') return undefined;
  if (kind === 'sim') {
    if (config.simAdminUrl === undefined) {
      throw new NalarError(
        ErrorCode.CONFIG_INVALID,
        'NALAR_PROVISIONER=sim needs NALAR_SIM_ADMIN_URL (the simulator admin API; npm start sets it)',
      );
    }
    return new SimProvisioner({
      adminUrl: config.simAdminUrl,
      ...(config.simAdminToken !== undefined && { token: config.simAdminToken }),
      waitTimeoutMs: config.provisionerTimeout,
    });
  }
  return commandProvisioner(config);
}

/**
 * The capacity manager the settings call for, started (it lists the provisioner's replicas); undefined when
 * no provisioner is set or no agent has a model of its own and there is no worker scaler.
 */
export async function capacityFromConfig(
  config: CapacityConfig,
  view: ControlView,
  log: Logger,
  workerScaler?: WorkerScaler,
): Promise<CapacityManager | undefined> {
  const provisioner = provisionerFromConfig(config);
  if (!provisioner) return undefined;
  const agents = managedAgentsOf(config.agentModels, directiveBounds());
  if (agents.length === 0 && !workerScaler) {
    log.info('capacity: no agent has a model of its own in NALAR_AGENT_MODELS; nothing to manage');
    return undefined;
  }
  const manager = await CapacityManager.start({
    provisioner,
    agents,
    view,
    log,
    ...(workerScaler && { workerScaler }),
  });
  log.info(`capacity: ${provisioner.name} provisioner manages ${agents.map((a) => a.agent).join(', ') || 'no agent'}`);
  return manager;
}
