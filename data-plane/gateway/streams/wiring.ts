/**
 * Everything the gateway core needs to serve streams and sessions, built from the configuration in one call:
 * the run event bus (NALAR_STREAM_BACKEND), the `/internal/v1/events` ingest route (embedded backend), the
 * `/v1` plugins and `streamRun`. And the environment `npm start` gives its children so that workers reach the
 * gateway's bus: a fresh stack-internal token per start and the gateway's URL.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { NalarConfig } from '../../../common/config';
import type { RunEventBus } from '../../../state/streams/bus';
import { runEventBusFromConfig, type StreamConfig } from '../../../state/streams/from-config';
import type { GatewayPlugin } from '../context';
import { createSessionRoutes } from '../sessions/routes';
import { eventIngestRoutes } from './ingest';
import { createStreams, type Streams } from './routes';

/** The streaming parts of one gateway process. */
export interface GatewayStreaming {
  bus: RunEventBus;
  /** Pass as `buildGatewayApp({ plugins })`. */
  plugins: GatewayPlugin[];
  /** Pass as `buildGatewayApp({ streamRun })`. */
  streamRun: Streams['streamRun'];
  /** Registers the worker-facing ingest route at the app's root (outside the tenants' auth). */
  registerRoot(app: FastifyInstance): void;
  close(): Promise<void>;
}

type StreamingConfig = StreamConfig & Pick<NalarConfig, 'sessionIdleTimeout'>;

/** Builds the bus, routes and plugins from `config`. */
export function gatewayStreaming(config: StreamingConfig): GatewayStreaming {
  const bus = runEventBusFromConfig(config);
  const streams = createStreams({ bus });
  return {
    bus,
    plugins: [streams.streamRoutes, createSessionRoutes({ bus, idleTimeoutMs: config.sessionIdleTimeout })],
    streamRun: streams.streamRun,
    registerRoot(app) {
      // With the redis backend workers publish to Redis directly; the route is not needed.
      if (config.streamBackend === 'embedded') eventIngestRoutes(app, { bus, token: config.streamToken });
    },
    close: () => bus.close(),
  };
}

/**
 * The environment of the stack's children (gateway and workers): NALAR_STREAM_TOKEN generated for this start
 * unless set, and NALAR_STREAM_URL = the gateway's URL unless set. Without a gateway, unchanged.
 */
export function withStreamEnv(env: NodeJS.ProcessEnv, gatewayUrl: string | undefined): NodeJS.ProcessEnv {
  if (!gatewayUrl) return env;
  return {
    ...env,
    NALAR_STREAM_TOKEN: env.NALAR_STREAM_TOKEN ?? randomBytes(24).toString('base64url'),
    NALAR_STREAM_URL: env.NALAR_STREAM_URL ?? gatewayUrl,
  };
}
