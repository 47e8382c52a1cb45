/**
 * Creates a Nalar worker: one Temporal worker that runs every registered workflow (workflows/index.ts, the
 * single workflowsPath), every activity (activities/index.ts) and every agent/tool method
 * (activities/agents, as `<name>.<method>`), with the future runtime wired in: the workflow interceptor
 * that puts future metadata into activity headers, the `nalar` sink into the local controller, and the
 * activity interceptor that exposes the metadata to agent code.
 */
import { type InjectedSinks, type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import * as activities from '../../activities';
import { definitions } from '../../activities/agents';
import { activitiesOf, type Definition } from '../../stubs/define';
import type { NalarSinks } from '../../stubs/workflow/future';
import { LocalController } from '../local-controller/local-controller';
import { futureActivityInterceptors } from '../../stubs/future-context';

/** Path of the workflow registration barrel, bundled by the worker. */
export const workflowsPath = require.resolve('../../workflows');

/** The workflow interceptors module of the future runtime (bundled with the workflows). */
export const workflowInterceptorModules = [require.resolve('../../stubs/workflow/interceptors')];

export interface NalarWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** A prebuilt bundle (tests build one per file to save time); by default the worker bundles `workflowsPath`. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Workflows module to bundle when no `workflowBundle` is given. @default workflows/index.ts */
  workflowsPath?: string;
  /** @default Temporal's default `pid@hostname` */
  identity?: string;
  /** @default Temporal's default: SIGINT, SIGTERM, SIGQUIT, SIGUSR2 */
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
  /** Receives future lifecycle events. @default a new LocalController */
  localController?: LocalController;
  /** Agent and tool definitions whose methods become activities. @default activities/agents */
  definitions?: readonly Definition[];
  /** Extra activities (tests). */
  activities?: WorkerOptions['activities'];
  /** Payload conversion, e.g. `nalarDataConverter(config)` (large payloads out of history). @default Temporal's */
  dataConverter?: WorkerOptions['dataConverter'];
}

/** Sinks that deliver workflow-side future events to `controller` (not called during replay). */
export function nalarSinks(controller: LocalController): InjectedSinks<NalarSinks> {
  return { nalar: { event: { fn: (_info, event) => controller.record(event), callDuringReplay: false } } };
}

/** Builds the worker; call `run()` on the result. */
export function createNalarWorker(options: NalarWorkerOptions): Promise<Worker> {
  const controller = options.localController ?? new LocalController();
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    // The core SDK rejects an explicit `undefined`; only pass what was set.
    ...(options.identity !== undefined && { identity: options.identity }),
    ...(options.shutdownGraceTime !== undefined && { shutdownGraceTime: options.shutdownGraceTime }),
    activities: { ...activities, ...activitiesOf(options.definitions ?? definitions), ...options.activities },
    interceptors: { workflowModules: workflowInterceptorModules, activity: [futureActivityInterceptors(controller)] },
    sinks: nalarSinks(controller),
    ...(options.dataConverter !== undefined && { dataConverter: options.dataConverter }),
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: options.workflowsPath ?? workflowsPath, workflowInterceptorModules }),
  });
}
