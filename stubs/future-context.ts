/**
 * Worker side of futures: an activity interceptor that reads the future's metadata from the activity
 * headers, makes it available to agent code (`currentFuture()`), and reports the `started` event.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type Context } from '@temporalio/activity';
import { defaultPayloadConverter } from '@temporalio/common';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';
import { FUTURE_HEADER, type FutureEvent, type FutureMeta } from './workflow/types';

/** Where worker-side future events go (the worker's local controller). */
export interface FutureEventRecorder {
  record(event: FutureEvent): void;
}

const storage = new AsyncLocalStorage<FutureMeta>();

/** The metadata of the future the running activity serves, or undefined for plain activities. */
export function currentFuture(): Readonly<FutureMeta> | undefined {
  return storage.getStore();
}

/** Activity interceptors that carry future metadata into activity code and report attempts. */
export function futureActivityInterceptors(controller: FutureEventRecorder): ActivityInterceptorsFactory {
  return (ctx: Context) => {
    const inbound: ActivityInboundCallsInterceptor = {
      async execute(input, next) {
        const payload = input.headers[FUTURE_HEADER];
        if (!payload) return next(input);
        const meta = defaultPayloadConverter.fromPayload<FutureMeta>(payload);
        const info = ctx.info;
        const at = Date.now();
        const started: FutureMeta = { ...meta, state: 'started', timestamps: { ...meta.timestamps, started: at } };
        controller.record({
          type: 'started',
          futureId: meta.id,
          workflowId: info.workflowExecution?.workflowId ?? '',
          runId: info.workflowExecution?.runId ?? '',
          at,
          meta: started,
        });
        return storage.run(started, () => next(input));
      },
    };
    return { inbound };
  };
}
