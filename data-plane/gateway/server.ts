/**
 * The listening gateway: where it binds and whom it answers, from the one configuration, and
 * {@link buildGatewayApp} on that host and port. Without tokens it serves one implicit tenant and only on
 * loopback; bound to any other address it must have NALAR_GATEWAY_TOKENS, or it does not start.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { NalarConfig } from '../../common/config';
import { listenOrExplain } from '../../common/child-process';
import { ErrorCode, NalarError } from '../../common/errors';
import { codecEndpointUrl, isLoopback } from '../codec-server/codec-config';
import { buildGatewayApp, type GatewayAppOptions } from './app';
import { parseGatewayTokens } from './tenants';

/** What the gateway needs from the configuration. */
export type GatewaySettings = Pick<
  NalarConfig,
  | 'gatewayHost'
  | 'gatewayPort'
  | 'gatewayTokens'
  | 'gatewayRate'
  | 'gatewayBurst'
  | 'gatewayMaxRuns'
  | 'gatewayWaitTimeout'
  | 'gatewayBodyLimit'
  | 'taskQueue'
>;

/** The resolved options of the gateway, less its client and codec. */
export interface GatewayListenOptions extends Omit<GatewayAppOptions, 'client'> {
  host: string;
  port: number;
  /** Token → tenant; empty without NALAR_GATEWAY_TOKENS. */
  tokens: Readonly<Record<string, string>>;
}

/**
 * Listening options from the configuration; throws `NALAR_ERR_CONFIG_INVALID` for bad tokens or when the
 * gateway would be reachable beyond this machine without them.
 */
export function gatewayListenOptions(settings: GatewaySettings): GatewayListenOptions {
  const tokens = parseGatewayTokens(settings.gatewayTokens);
  if (!isLoopback(settings.gatewayHost) && Object.keys(tokens).length === 0) {
    throw new NalarError(
      ErrorCode.CONFIG_INVALID,
      `NALAR_GATEWAY_HOST=${settings.gatewayHost} would let anyone who reaches it start and read runs: set ` +
        'NALAR_GATEWAY_TOKENS (JSON {"<token>": "<tenant>"}; clients send "Authorization: Bearer <token>") or bind to 127.0.0.1',
    );
  }
  return {
    host: settings.gatewayHost,
    port: settings.gatewayPort,
    tokens,
    taskQueue: settings.taskQueue,
    ratePerSecond: settings.gatewayRate,
    burst: settings.gatewayBurst,
    maxRunsInFlight: settings.gatewayMaxRuns,
    waitTimeoutMs: settings.gatewayWaitTimeout,
    bodyLimitBytes: settings.gatewayBodyLimit,
  };
}

/** The URL clients use: `http://<host>:<port>`, with 127.0.0.1 for a wildcard bind. */
export const gatewayUrl = codecEndpointUrl;

/** A listening gateway. */
export interface GatewayServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Options of {@link startGateway}. */
export interface StartGatewayOptions extends GatewayAppOptions {
  host: string;
  /** 0: any free port (tests). */
  port: number;
  /** Registers routes at the app's root, outside the tenants' auth (the workers' event ingest). @default none */
  registerRoot?: (app: FastifyInstance) => void;
}

/** Starts the gateway; rejects with `NALAR_ERR_PORT_IN_USE` when the port is taken. */
export async function startGateway(options: StartGatewayOptions): Promise<GatewayServer> {
  const app = buildGatewayApp(options);
  options.registerRoot?.(app);
  await listenOrExplain(app, {
    host: options.host,
    port: options.port,
    what: 'gateway',
    setting: 'NALAR_GATEWAY_PORT',
  });
  const { port } = app.server.address() as AddressInfo;
  return { url: gatewayUrl(options.host, port), close: () => app.close() };
}
