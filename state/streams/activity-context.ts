/**
 * How activity code reaches the worker's run event publisher: an activity interceptor runs every activity
 * with the publisher in async-local storage, so `callLlm` streams its tokens to the run that called it
 * without any global (several workers in one process each keep their own).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Context } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { currentFuture } from '../../stubs/future-context';
import type { RunEventPublisher } from './publisher';

const storage = new AsyncLocalStorage<RunEventPublisher>();

/** Activity interceptors that make `publisher` the running activity's publisher. */
export function runEventActivityInterceptors(publisher: RunEventPublisher): ActivityInterceptorsFactory {
  return () => ({ inbound: { execute: (input, next) => storage.run(publisher, () => next(input)) } });
}

/** The token stream of the running activity's attempt (see {@link tokenStream}). */
export interface TokenStream {
  /** One piece of generated text. */
  token(text: string): void;
  /** Waits (bounded) until the tokens so far left the worker, so they precede the future's `completed` event. */
  flush(): Promise<void>;
}

/** Longest wait of {@link TokenStream.flush}: a slow bus must not hold an activity. */
const flushWaitMs = 1_000;

/**
 * Tokens of the running activity go to the run that called it, tagged with the future (or, for a plain
 * activity, the activity id) and the attempt; an attempt after the first starts with a `reset` event so a
 * client drops the failed attempt's text. Undefined outside an activity or when the worker publishes nothing.
 */
export function tokenStream(): TokenStream | undefined {
  const publisher = storage.getStore();
  if (!publisher) return undefined;
  let info;
  try {
    info = Context.current().info;
  } catch {
    return undefined;
  }
  const workflowId = info.workflowExecution?.workflowId;
  if (!workflowId) return undefined;
  const futureId = currentFuture()?.id ?? info.activityId;
  const attempt = info.attempt;
  if (attempt > 1) publisher.publish(workflowId, { kind: 'reset', futureId, attempt });
  return {
    token: (text) => publisher.publish(workflowId, { kind: 'token', futureId, attempt, text }),
    flush: async () => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        publisher.flush(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, flushWaitMs);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
    },
  };
}
