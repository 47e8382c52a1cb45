/**
 * Workflow interceptors module (registered with the worker's `interceptors.workflowModules`): puts each
 * future's metadata into the headers of the activity it schedules, so worker-side code (the local
 * controller, agent code) sees session, dependencies, priority and deadline.
 */
import { defaultPayloadConverter, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { futureMetaForActivity } from './future';
import { FUTURE_HEADER } from './types';

export const interceptors: WorkflowInterceptorsFactory = () => ({
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
