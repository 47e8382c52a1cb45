/**
 * Creates a Nalar worker: one Temporal worker that runs the user's workflows (workflows/index.ts, the
 * single workflowsPath), activities (activities/index.ts) and agent/tool methods (activities/agents, as
 * `<name>.<method>`), plus the framework's own workflows and activities (session moves), with the future
 * runtime wired in: the workflow interceptor that puts future metadata into activity headers, the `nalar`
 * sink into the local controller, and the activity interceptor that exposes the metadata to agent code and
 * makes the local controller the call gate of every future's model calls;
 * and every activity's `NalarError`s become typed failures (failure-interceptor.ts). A workflow whose code
 * fails its workflow task is logged once per run at error level (task-failure-log.ts).
 */
import { type InjectedSinks, type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import * as activities from '../../activities';
import { definitions } from '../../activities/agents';
import { ErrorCode, NalarError } from '../../common/errors';
import { frameworkActivities } from '../../state/placement/activities';
import { activitiesOf, type Definition } from '../../stubs/define';
import type { NalarSinks } from '../../stubs/workflow/future';
import { LocalController } from '../../control-plane/local-controller/local-controller';
import { futureActivityInterceptors } from '../../stubs/future-context';
import { failureActivityInterceptors } from './failure-interceptor';
import { createLogger, type Logger } from '../../common/log';
import { taskFailureSinks } from './task-failure-log';
import type { NalarRunSinks } from '../../stubs/workflow/interceptors';
import { runEventActivityInterceptors } from '../../state/streams/activity-context';
import type { RunEventPublisher } from '../../state/streams/publisher';

import { bundleNalarWorkflows, type NalarWorkflowBundle } from './bundle';

/** Path of the workflow registration barrel, bundled by the worker. */
export const workflowsPath = require.resolve('../../workflows');

export interface NalarWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** A prebuilt bundle (tests build one per file to save time); by default the worker bundles `workflowsPath`. */
  workflowBundle?: NalarWorkflowBundle;
  /** Workflows module to bundle when no `workflowBundle` is given. @default workflows/index.ts */
  workflowsPath?: string;
  /** @default Temporal's default `pid@hostname` */
  identity?: string;
  /** @default Temporal's default: SIGINT, SIGTERM, SIGQUIT, SIGUSR2 */
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
  /**
   * Receives future lifecycle events and gates every model call of a future (the process's one local
   * controller, which main.ts links to the global controller). @default a new LocalController
   */
  localController?: LocalController;
  /** Agent and tool definitions whose methods become activities. @default activities/agents */
  definitions?: readonly Definition[];
  /** The user's activities (the framework adds its own). @default activities/index.ts */
  activities?: Record<string, (...args: never[]) => Promise<unknown>>;
  /** Payload conversion, e.g. `nalarDataConverter(config)` (large payloads out of history). @default Temporal's */
  dataConverter?: WorkerOptions['dataConverter'];
  /** Where the worker reports workflows whose code fails their workflow task. @default a `worker` logger on stderr */
  log?: Logger;
  /**
   * Where run events go (future lifecycle events, LLM tokens, run ends) for the gateway's SSE streams; see
   * state/streams. @default none: nothing is published
   */
  runEvents?: RunEventPublisher;
}

/** Sinks that deliver workflow-side future events to `controller` (not called during replay). */
export function nalarSinks(controller: LocalController): InjectedSinks<NalarSinks> {
  return { nalar: { event: { fn: (_info, event) => controller.record(event), callDuringReplay: false } } };
}

/**
 * Sinks and interceptors that publish a worker's run events: each future lifecycle event the local
 * controller records, the end of each run (the `nalarRun` sink), and, through async-local storage, the
 * tokens `callLlm` streams. Best-effort and beside Temporal: nothing here enters workflow history.
 */
export function runEventWiring(controller: LocalController, publisher: RunEventPublisher | undefined) {
  if (!publisher) {
    // The workflow side calls the sink either way; with nothing to publish, it does nothing.
    const sinks: InjectedSinks<NalarRunSinks> = {
      nalarRun: { ended: { fn: () => undefined, callDuringReplay: false } },
    };
    return { sinks, activityInterceptors: [] };
  }
  controller.subscribe((e) =>
    publisher.publish(e.workflowId, {
      kind: 'future',
      futureId: e.futureId,
      activityType: e.meta.activityType,
      state: e.type,
      at: e.at,
    }),
  );
  const sinks: InjectedSinks<NalarRunSinks> = {
    nalarRun: {
      ended: {
        fn: (info, status) => publisher.publish(info.workflowId, { kind: 'run', status }),
        callDuringReplay: false,
      },
    },
  };
  return { sinks, activityInterceptors: [runEventActivityInterceptors(publisher)] };
}

/**
 * Every activity the worker registers: the user's, their agent and tool methods, and the framework's. A
 * name registered twice is a definition error, not a silent override.
 */
export function registeredActivities(
  user: NonNullable<NalarWorkerOptions['activities']>,
  definitions: readonly Definition[],
): Record<string, unknown> {
  const parts: [string, Record<string, unknown>][] = [
    ['activities', user],
    ['agent and tool methods', activitiesOf(definitions)],
    ["Nalar's own activities", frameworkActivities],
  ];
  const all: Record<string, unknown> = {};
  const from = new Map<string, string>();
  for (const [part, activities] of parts) {
    for (const [name, fn] of Object.entries(activities)) {
      const earlier = from.get(name);
      if (earlier !== undefined) {
        throw new NalarError(
          ErrorCode.DEFINITION_INVALID,
          `activity ${name} is registered twice (${earlier} and ${part}): rename one of them`,
        );
      }
      from.set(name, part);
      all[name] = fn;
    }
  }
  return all;
}

/** Builds the worker; call `run()` on the result. */
export async function createNalarWorker(options: NalarWorkerOptions): Promise<Worker> {
  const controller = options.localController ?? new LocalController();
  const workflowBundle = options.workflowBundle ?? (await bundleNalarWorkflows(options.workflowsPath ?? workflowsPath));
  const runEvents = runEventWiring(controller, options.runEvents);
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    // The core SDK rejects an explicit `undefined`; only pass what was set.
    ...(options.identity !== undefined && { identity: options.identity }),
    ...(options.shutdownGraceTime !== undefined && { shutdownGraceTime: options.shutdownGraceTime }),
    activities: registeredActivities(options.activities ?? activities, options.definitions ?? definitions),
    interceptors: {
      activity: [
        failureActivityInterceptors,
        futureActivityInterceptors(controller, controller),
        ...runEvents.activityInterceptors,
      ],
    },
    sinks: {
      ...nalarSinks(controller),
      ...taskFailureSinks(options.log ?? createLogger('worker')),
      ...runEvents.sinks,
    },
    ...(options.dataConverter !== undefined && { dataConverter: options.dataConverter }),
    workflowBundle,
  });
}
