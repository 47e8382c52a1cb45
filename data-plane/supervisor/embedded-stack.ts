/**
 * The embedded stack of `npm start`, in dependency order: Temporal dev server, codec server, model simulator,
 * global controller, workers (given NALAR_CONTROLLER_URL), HTTP gateway. The dev server's Web UI is pointed at the codec server, so it shows offloaded payloads as values.
 */
import path from 'node:path';
import type { NalarConfig } from '../../common/config';
import { poolProfileFromSettings } from '../../sim/pool';
import { codecEndpointUrl, codecListenOptions } from '../codec-server/codec-config';
import { gatewayListenOptions, gatewayUrl } from '../gateway/server';
import { withStreamEnv } from '../gateway/streams/wiring';
import { controllerListenOptions, controllerUrl } from '../../control-plane/global-controller/listen';
import { codecServerProcess } from './codec-server-process';
import { controllerProcess } from './controller-process';
import { gatewayProcess } from './gateway-process';
import type { StackComponent } from './component';
import { simulatorProcess } from './simulator-process';
import { temporalDevServer } from './temporal-dev-server';
import { workerProcess, type WorkerProcessOptions } from './worker-process';

export interface EmbeddedStackOptions {
  config: NalarConfig;
  /** Temporal CLI binary; required when `config.devServer` is true. */
  temporalBin?: string;
  /** Environment passed to child processes. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** The worker's entry module and its arguments (tests run a stand-in). @default data-plane/worker/main.ts */
  workerCommand?: WorkerProcessOptions['command'];
}

/** The stack's components, and how to make more workers like its own. */
export interface EmbeddedStack {
  /** In start order. */
  readonly components: StackComponent[];
  /**
   * Worker `index` of the stack's task queue, started exactly as the stack's own workers are (the same
   * environment, stream token included; metrics port NALAR_METRICS_PORT + index - 1; the state janitor in
   * worker-1 only): the worker scaler's extra workers.
   */
  worker(index: number): StackComponent;
}

function workerComponent(
  { config, workerCommand }: EmbeddedStackOptions,
  env: NodeJS.ProcessEnv,
  index: number,
): StackComponent {
  return workerProcess({
    index,
    taskQueue: config.taskQueue,
    metricsPort: config.metricsPort === 0 ? 0 : config.metricsPort + index - 1,
    // One janitor per stack: two would only repeat each other's work.
    runsStateJanitor: index === 1,
    env,
    ...(workerCommand && { command: workerCommand }),
  });
}

/** The environment of the stack's children: the controller's URL and the gateway's stream settings added. */
function childEnv({ config, env: baseEnv = process.env }: EmbeddedStackOptions): NodeJS.ProcessEnv {
  const gateway = config.gatewayPort === 0 ? undefined : gatewayListenOptions(config);
  const controller = config.controllerPort === 0 ? undefined : controllerListenOptions(config);
  const controlUrl = controller && controllerUrl(controller.host, controller.port);
  // Workers publish run events (future states, tokens) to the gateway's bus: its URL and a token made for this
  // start, shared by every child.
  return withStreamEnv(
    // Local controllers (in the workers) report to the global controller; without it they run on their own.
    controlUrl === undefined ? baseEnv : { ...baseEnv, NALAR_CONTROLLER_URL: controlUrl },
    gateway && gatewayUrl(gateway.host, gateway.port),
  );
}

export function embeddedStack(options: EmbeddedStackOptions): StackComponent[] {
  return buildEmbeddedStack(options).components;
}

/** {@link embeddedStack} with the factory of further workers ({@link EmbeddedStack.worker}). */
export function buildEmbeddedStack(options: EmbeddedStackOptions): EmbeddedStack {
  const { config, temporalBin } = options;
  const components: StackComponent[] = [];
  // Checked now: a codec exposed without a token fails before anything starts.
  const codec = config.codecPort === 0 ? undefined : codecListenOptions(config);
  const codecUrl = codec && codecEndpointUrl(codec.host, codec.port);
  // Likewise a gateway exposed without tokens, or with malformed ones.
  const gateway = config.gatewayPort === 0 ? undefined : gatewayListenOptions(config);
  // And a controller exposed without a token.
  const controller = config.controllerPort === 0 ? undefined : controllerListenOptions(config);
  const controlUrl = controller && controllerUrl(controller.host, controller.port);
  const env = childEnv(options);
  if (config.devServer) {
    if (!temporalBin) throw new Error('embeddedStack: temporalBin is required when devServer is on');
    components.push(
      temporalDevServer({
        bin: temporalBin,
        address: config.temporalAddress,
        namespace: config.temporalNamespace,
        uiPort: config.devServerUiPort,
        dataDir: config.dataDir,
        ...(codecUrl !== undefined && { uiCodecEndpoint: codecUrl }),
      }),
    );
  }
  if (codec && codecUrl !== undefined) {
    components.push(
      codecServerProcess({ host: codec.host, port: codec.port, url: codecUrl, tokenRequired: !!codec.token, env }),
    );
  }
  let simAdminUrl: string | undefined;
  if (config.sim) {
    // Read the profile now: a bad profile file fails before anything starts, and it fixes the replica count.
    const profile = poolProfileFromSettings({
      replicas: config.simReplicas,
      timeScale: config.simTimeScale,
      seed: config.simSeed,
      profileFile: config.simProfile ? path.resolve(config.simProfile) : undefined,
    });
    components.push(
      simulatorProcess({
        host: config.simHost,
        basePort: config.simPort,
        replicas: profile.replicas.length,
        env,
        onReady: (ready) => (simAdminUrl = ready.adminUrl),
      }),
    );
  }
  if (controller && controlUrl !== undefined) {
    // Before the workers: their local controllers find it at their first report.
    components.push(
      controllerProcess({
        host: controller.host,
        port: controller.port,
        url: controlUrl,
        tokenRequired: controller.token !== undefined,
        env,
        // Its sim provisioner drives the simulator's admin API (a free port unless NALAR_SIM_ADMIN_PORT is set).
        envAtLaunch: () => (simAdminUrl === undefined ? {} : { NALAR_SIM_ADMIN_URL: simAdminUrl }),
      }),
    );
  }
  for (let index = 1; index <= config.workers; index++) components.push(workerComponent(options, env, index));
  if (gateway) {
    // Last: it answers as soon as it listens, and a start then finds workers polling.
    components.push(
      gatewayProcess({
        host: gateway.host,
        port: gateway.port,
        url: gatewayUrl(gateway.host, gateway.port),
        tokensConfigured: Object.keys(gateway.tokens).length > 0,
        env,
      }),
    );
  }
  return { components, worker: (index) => workerComponent(options, env, index) };
}
