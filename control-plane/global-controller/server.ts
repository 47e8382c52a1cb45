/**
 * The listening global controller: {@link buildControllerApp} on a host and port, its control loop, and the
 * task-queue backlog poller, started and stopped together.
 */
import type { AddressInfo } from 'node:net';
import { listenOrExplain } from '../../common/child-process';
import { createLogger } from '../../common/log';
import { buildControllerApp, type ControllerAppOptions } from './app';
import { BacklogPoller, type BacklogSource } from './backlog';
import { controllerUrl } from './listen';
import { PrioritySignaller, type PrioritySignallerOptions } from './priority-signals';
import type { WorkerScaler } from '../capacity/worker-scaler';

/** Options of {@link startControllerServer}. */
export interface StartControllerServerOptions extends ControllerAppOptions {
  host: string;
  /** 0: any free port (tests). */
  port: number;
  /** Where task-queue backlogs come from (undefined: none are read). */
  backlog?: BacklogSource;
  /** @default 2000 */
  backlogIntervalMs?: number;
  /**
   * Client of the sessions' namespace: when given, policy priorities also reach Temporal (each running
   * workflow of a session whose priority changed gets the `nalar.setPriority` signal, so its later calls carry
   * the priority key). Undefined: priorities act in the local controllers and engines only.
   */
  workflowClient?: PrioritySignallerOptions['client'];
  /**
   * What carries out `scaleWorkers` (under `npm start`: the supervisor, over IPC). Kept on the server for the
   * capacity manager; undefined: no worker scaling.
   */
  workerScaler?: WorkerScaler;
}

/** A listening controller. */
export interface ControllerServer {
  /** The URL local controllers use (NALAR_CONTROLLER_URL). */
  readonly url: string;
  /** The worker scaler it was given ({@link StartControllerServerOptions.workerScaler}). */
  readonly workerScaler?: WorkerScaler;
  /** Stops the loop, answers held long polls with 204, closes the server. */
  close(): Promise<void>;
}

/** Starts the server and the control loop; rejects with `NALAR_ERR_PORT_IN_USE` when the port is taken. */
export async function startControllerServer(options: StartControllerServerOptions): Promise<ControllerServer> {
  const app = buildControllerApp(options);
  await listenOrExplain(app, {
    host: options.host,
    port: options.port,
    what: 'global controller',
    setting: 'NALAR_CONTROLLER_PORT',
  });
  const { port } = app.server.address() as AddressInfo;
  const { controller } = options;
  const poller =
    options.backlog &&
    new BacklogPoller({
      view: controller.view,
      source: options.backlog,
      log: options.log ?? createLogger('controller'),
      ...(options.backlogIntervalMs !== undefined && { intervalMs: options.backlogIntervalMs }),
    });
  const signaller =
    options.workflowClient &&
    new PrioritySignaller({
      client: options.workflowClient,
      workflowsOf: (session) => controller.view.sessions.get(session)?.workflows ?? [],
      ...(options.log !== undefined && { logger: options.log }),
    });
  const unsubscribe = signaller
    ? controller.onPublish((previous, next) => void signaller.update(previous.priorities, next.priorities))
    : undefined;
  controller.start();
  poller?.start();
  return {
    url: controllerUrl(options.host, port),
    ...(options.workerScaler && { workerScaler: options.workerScaler }),
    async close() {
      poller?.stop();
      unsubscribe?.();
      controller.stop();
      await app.close();
    },
  };
}
