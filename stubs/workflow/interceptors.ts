/**
 * Workflow interceptors module (registered with the worker's `interceptors.workflowModules`): puts each
 * future's metadata into the headers of the activity it schedules, so worker-side code (the local
 * controller, agent code) sees session, dependencies, priority and deadline; and reports a workflow whose
 * code throws an error that fails its workflow task (a bug: Temporal retries the task until the code is fixed).
 */
import {
  ContinueAsNew,
  defaultPayloadConverter,
  isCancellation,
  proxySinks,
  TemporalFailure,
  type Sinks,
  type WorkflowInterceptorsFactory,
} from '@temporalio/workflow';
import { futureMetaForActivity } from './future';
import { FUTURE_HEADER } from './types';

/** What workflow code reports to the worker about its own failures (not called during replay). */
export interface NalarDiagnosticsSinks extends Sinks {
  nalarDiagnostics: {
    /** The workflow's code threw an error that fails the workflow task (it is retried, not the workflow failed). */
    workflowTaskFailed(error: { name: string; message: string; stack?: string }): void;
  };
}

const { nalarDiagnostics } = proxySinks<NalarDiagnosticsSinks>();

/**
 * True for what fails the workflow task rather than the workflow: anything but a Temporal failure (e.g.
 * `ApplicationFailure`), a cancellation or a continue-as-new, with Temporal's default `workflowFailureErrorTypes`.
 */
function failsTheTask(err: unknown): err is Error {
  return !(err instanceof TemporalFailure || err instanceof ContinueAsNew || isCancellation(err));
}

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      async execute(input, next) {
        try {
          return await next(input);
        } catch (err) {
          if (failsTheTask(err)) {
            const error = err instanceof Error ? err : new Error(String(err));
            nalarDiagnostics.workflowTaskFailed({
              name: error.name,
              message: error.message,
              ...(error.stack !== undefined && { stack: error.stack }),
            });
          }
          throw err;
        }
      },
    },
  ],
  outbound: [
    {
      async scheduleActivity(input, next) {
        const meta = futureMetaForActivity(input.options.activityId);
        if (!meta) return next(input);
        return next({
          ...input,
          headers: { ...input.headers, [FUTURE_HEADER]: defaultPayloadConverter.toPayload(meta) },
        });
      },
    },
  ],
});
