/**
 * Where the global controller listens and what it requires, from the one configuration. The rule: bound to
 * loopback it may run without a token (only this machine reaches it); bound to any other address it must
 * have NALAR_CONTROL_TOKEN (reports, decisions and PUT /v1/policy then require it), or it does not start.
 */
import type { NalarConfig } from '../../common/config';
import { ErrorCode, NalarError } from '../../common/errors';
import { isLoopback } from '../../common/loopback';

export { isLoopback };

/** What the controller's listening needs from the configuration. */
export type ControllerSettings = Pick<NalarConfig, 'controllerHost' | 'controllerPort' | 'controlToken'>;

/** The resolved listening options. */
export interface ControllerListenOptions {
  host: string;
  port: number;
  token?: string;
}

/** Shortest NALAR_CONTROL_TOKEN accepted: a guessable token protects nothing. */
export const minControlTokenLength = 16;

/** The URL local controllers and people use: `http://<host>:<port>`, with 127.0.0.1 for a wildcard bind. */
export function controllerUrl(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}

/**
 * Listening options from the configuration; throws NALAR_ERR_CONFIG_INVALID when the controller would be
 * reachable beyond this machine without a token, or the token is too short (never printing it).
 */
export function controllerListenOptions(settings: ControllerSettings): ControllerListenOptions {
  if (!isLoopback(settings.controllerHost) && settings.controlToken === undefined) {
    throw new NalarError(
      ErrorCode.CONFIG_INVALID,
      `NALAR_CONTROLLER_HOST=${settings.controllerHost} lets anyone on the network steer the stack: set ` +
        `NALAR_CONTROL_TOKEN (at least ${minControlTokenLength} characters) or bind to 127.0.0.1`,
    );
  }
  if (settings.controlToken !== undefined && settings.controlToken.length < minControlTokenLength) {
    throw new NalarError(
      ErrorCode.CONFIG_INVALID,
      `NALAR_CONTROL_TOKEN is too short (${settings.controlToken.length} characters): use at least ` +
        `${minControlTokenLength}, for example \`openssl rand -hex 24\``,
    );
  }
  return {
    host: settings.controllerHost,
    port: settings.controllerPort,
    ...(settings.controlToken !== undefined && { token: settings.controlToken }),
  };
}
