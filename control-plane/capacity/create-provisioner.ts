/**
 * Which provisioner a process uses (NALAR_PROVISIONER), built from the configuration: `sim` (the simulator's
 * admin API, sim-provisioner.ts), `command` (NALAR_PROVISIONER_COMMAND, command-provisioner.ts) or `none` (capacity
 * stays as configured). Unset, it is `sim` when the stack runs the embedded simulator (NALAR_SIM), else `none`.
 */
import type { NalarConfig } from '../../common/config';
import { ErrorCode, NalarError } from '../../common/errors';
import { CommandProvisioner } from './command-provisioner';
import type { Provisioner } from './provisioner';
import { SimProvisioner } from './sim-provisioner';

export type ProvisionerKind = 'sim' | 'command' | 'none';

/** The settings {@link createProvisioner} reads. */
export type ProvisionerConfig = Pick<
  NalarConfig,
  'provisioner' | 'sim' | 'simAdminToken' | 'provisionerCommand' | 'provisionerTimeout'
>;

/** NALAR_PROVISIONER, or its default: `sim` when the embedded simulator runs (NALAR_SIM), else `none`. */
export function provisionerKind(config: Pick<NalarConfig, 'provisioner' | 'sim'>): ProvisionerKind {
  return config.provisioner ?? (config.sim ? 'sim' : 'none');
}

/** What {@link createProvisioner} needs besides the configuration. */
export interface CreateProvisionerOptions {
  /** The simulator admin API's base URL (the simulator's ready message `adminUrl`); required for `sim`. */
  simAdminUrl?: string;
  /** Per-agent replica profile fields for `sim` (see `SimProvisionerOptions.template`). @default none */
  simTemplate?: (agent: string) => Record<string, unknown>;
}

/**
 * The configured provisioner, or undefined for `none`. A NALAR_ERR_CONFIG_INVALID when `sim` has no admin URL or
 * `command` no NALAR_PROVISIONER_COMMAND.
 */
export function createProvisioner(
  config: ProvisionerConfig,
  o: CreateProvisionerOptions = {},
): Provisioner | undefined {
  const kind = provisionerKind(config);
  switch (kind) {
    case 'none':
      return undefined;
    case 'sim':
      if (o.simAdminUrl === undefined) {
        throw new NalarError(
          ErrorCode.CONFIG_INVALID,
          'NALAR_PROVISIONER=sim needs the simulator admin API (NALAR_SIM with its admin port); set NALAR_PROVISIONER=none or command otherwise',
        );
      }
      return new SimProvisioner({
        adminUrl: o.simAdminUrl,
        ...(config.simAdminToken !== undefined && { token: config.simAdminToken }),
        ...(o.simTemplate !== undefined && { template: o.simTemplate }),
        waitTimeoutMs: config.provisionerTimeout,
      });
    case 'command':
      if (config.provisionerCommand === undefined) {
        throw new NalarError(
          ErrorCode.CONFIG_INVALID,
          'NALAR_PROVISIONER=command needs NALAR_PROVISIONER_COMMAND (the executable to run; docs/control-plane/capacity.md)',
        );
      }
      return new CommandProvisioner({ command: config.provisionerCommand, timeoutMs: config.provisionerTimeout });
  }
}
