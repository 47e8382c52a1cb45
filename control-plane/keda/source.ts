/**
 * What the KEDA external scaler reads: worker demand per task queue, and a tick when it may have changed.
 * The global controller's view implements it (view-source.ts); tests can drive any implementation.
 */

/** Worker demand as the scaler serves it. */
export interface KedaSource {
  /**
   * Work for the workers of `taskQueue` now, in tasks and calls: the queue's Temporal backlog, plus the calls
   * waiting in local controllers and the calls in flight of its agents (only `agent`'s when given). Never
   * negative; 0 means the workers have nothing to do.
   */
  demand(taskQueue: string, agent?: string): number;
  /**
   * Calls `listener` whenever demand may have changed (at most once per control period); returns the
   * unsubscribe function. A listener that throws is the source's to log, never its caller's to see.
   */
  subscribe(listener: () => void): () => void;
}
