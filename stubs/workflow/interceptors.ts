/**
 * Workflow interceptors module (registered with the worker's `interceptors.workflowModules`): puts each
 * future's metadata into the headers of the activity it schedules, so worker-side code (the local
 * controller, agent code) sees session, dependencies, priority and deadline; makes every workflow accept the
 * control plane's priority signal (and carry its priorities over continue-as-new); and reports a workflow
 * whose code throws an error that fails its workflow task (a bug: Temporal retries the task until the code
 * is fixed).
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
import { futureMetaForActivity, futuresCalled } from './future';
import { acceptPrioritySignals, prioritiesInForce } from './priority';
import { FUTURE_HEADER, PRIORITIES_HEADER } from './types';

/** What workflow code reports to the worker about its own failures (not called during replay). */
export interface NalarDiagnosticsSinks extends Sinks {
  nalarDiagnostics: {
    /** The workflow's code threw an error that fails the workflow task (it is retried, not the workflow failed). */
    workflowTaskFailed(error: { name: string; message: string; stack?: string }): void;
  };
}

const { nalarDiagnostics } = proxySinks<NalarDiagnosticsSinks>();

/** How a run's main function ended, as far as the workflow itself sees it. */
export type RunEndStatus = 'completed' | 'failed' | 'cancelled' | 'continued_as_new';

/**
 * Tells the worker a run ended (not called during replay), after every future event of its last activation:
 * the gateway's SSE stream closes on it, so no event of the run is cut off.
 */
export interface NalarRunSinks extends Sinks {
  nalarRun: { ended(status: RunEndStatus): void };
}

const { nalarRun } = proxySinks<NalarRunSinks>();

/**
 * Reports the end of a run that made stub calls: such a run runs on a Nalar worker, which registers the sink.
 * A plain workflow may share the bundle with plain workers (the vanilla baselines) that do not register it,
 * and an unregistered sink is an error log per call; its SSE stream closes on Temporal's word instead.
 */
function reportEnd(status: RunEndStatus): void {
  if (futuresCalled() > 0) nalarRun.ended(status);
}

function endStatus(err: unknown): RunEndStatus {
  if (err instanceof ContinueAsNew) return 'continued_as_new';
  return isCancellation(err) ? 'cancelled' : 'failed';
}

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
        // Before the workflow function runs, so its first calls already see priorities sent with the start.
        acceptPrioritySignals(input.headers[PRIORITIES_HEADER]);
        try {
          const result = await next(input);
          reportEnd('completed');
          return result;
        } catch (err) {
          if (!failsTheTask(err)) reportEnd(endStatus(err));
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
      async continueAsNew(input, next) {
        // A policy's priorities hold for the session, not one run: the next run starts with them.
        const carried = prioritiesInForce();
        if (!carried) return next(input);
        return next({
          ...input,
          headers: { ...input.headers, [PRIORITIES_HEADER]: defaultPayloadConverter.toPayload(carried) },
        });
      },
    },
  ],
});
