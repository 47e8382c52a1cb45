/** The global controller as a {@link StackComponent}: forked with IPC, ready when it listens. */
import { controllerReadyMessage } from '../../control-plane/global-controller/ready-message';
import type { StackComponent } from './component';
import { ManagedProcess, type LineSink } from './managed-process';
import { waitForReadyMessage } from './readiness';

const controllerMain = require.resolve('../../control-plane/global-controller/main');

/** Options of {@link controllerProcess}. */
export interface ControllerProcessOptions {
  host: string;
  port: number;
  /** The URL local controllers are given (NALAR_CONTROLLER_URL). */
  url: string;
  /** Whether it requires NALAR_CONTROL_TOKEN (said in the startup output, never the token itself). */
  tokenRequired: boolean;
  env: NodeJS.ProcessEnv;
  /** More environment, read at launch (what earlier components said when ready: the simulator admin URL). */
  envAtLaunch?: () => NodeJS.ProcessEnv;
}

/** The global controller process of `npm start`. */
export function controllerProcess(o: ControllerProcessOptions): StackComponent {
  const auth = o.tokenRequired ? ' (bearer token: NALAR_CONTROL_TOKEN)' : ' (no token: loopback only)';
  return {
    name: 'controller',
    description: `global controller at ${o.url}${auth}: runs NALAR_POLICIES every NALAR_CONTROL_PERIOD over the workers' reports; GET /v1/graph, /v1/policy`,
    ports: [{ host: o.host, port: o.port, what: 'global controller', setting: 'NALAR_CONTROLLER_PORT' }],
    endpoints: [`Global controller ${o.url}${auth}: curl ${o.url}/v1/policy`],
    launch(sink: LineSink) {
      return ManagedProcess.start(
        {
          name: 'controller',
          command: controllerMain,
          nodeModule: true,
          env: { ...o.env, ...o.envAtLaunch?.(), NALAR_PROCESS_NAME: 'controller' },
        },
        sink,
      );
    },
    waitReady(proc, timeoutMs) {
      return waitForReadyMessage(proc, (m) => controllerReadyMessage.safeParse(m).success, timeoutMs);
    },
  };
}
