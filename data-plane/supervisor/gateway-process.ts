/** The HTTP gateway as a {@link StackComponent}: forked with IPC, ready when it listens. */
import { gatewayReadyMessage } from '../gateway/protocol';
import type { StackComponent } from './component';
import { ManagedProcess, type LineSink } from './managed-process';
import { waitForReadyMessage } from './readiness';

const gatewayMain = require.resolve('../gateway/main');

/** Options of {@link gatewayProcess}. */
export interface GatewayProcessOptions {
  host: string;
  port: number;
  /** The URL clients use. */
  url: string;
  /** Whether requests need a bearer token (said in the startup output, never a token itself). */
  tokensConfigured: boolean;
  env: NodeJS.ProcessEnv;
}

/** The gateway process of `npm start`. */
export function gatewayProcess(o: GatewayProcessOptions): StackComponent {
  const auth = o.tokensConfigured
    ? ' (bearer tokens: NALAR_GATEWAY_TOKENS)'
    : ' (no tokens: loopback only, tenant local)';
  return {
    name: 'gateway',
    description: `HTTP gateway at ${o.url}${auth}: start workflows (POST /v1/workflows/<name>), read and cancel runs, /openapi.json`,
    ports: [{ host: o.host, port: o.port, what: 'gateway', setting: 'NALAR_GATEWAY_PORT' }],
    endpoints: [`HTTP gateway      ${o.url}${auth}: curl -X POST ${o.url}/v1/workflows/<name> -d '{...}'`],
    launch(sink: LineSink) {
      return ManagedProcess.start(
        { name: 'gateway', command: gatewayMain, nodeModule: true, env: { ...o.env, NALAR_PROCESS_NAME: 'gateway' } },
        sink,
      );
    },
    waitReady(proc, timeoutMs) {
      return waitForReadyMessage(proc, (m) => gatewayReadyMessage.safeParse(m).success, timeoutMs);
    },
  };
}
