/**
 * The critical path of a workload request: the model and tool time along its longest chain of dependent calls,
 * which the benchmarks subtract from latency to get the framework's own overhead. Workflow-side (pure).
 */

/** Model and tool time on a request's critical path. */
export interface CriticalPath {
  /** Model milliseconds the engine reported (`engine.totalMs`: model time; × the simulator's time scale = real time). */
  modelMs: number;
  /** Real milliseconds the tools measured. */
  toolMs: number;
}

/** Sequential steps: their times add up. */
export function sequential(...paths: CriticalPath[]): CriticalPath {
  return paths.reduce((a, b) => ({ modelMs: a.modelMs + b.modelMs, toolMs: a.toolMs + b.toolMs }), {
    modelMs: 0,
    toolMs: 0,
  });
}

/**
 * Parallel branches: the longest one, by model ms plus tool ms. (Model ms are model time and tool ms real
 * time; the benchmarks run tools at the simulator's time scale, so the sum ranks branches as the clock does.)
 */
export function longest(paths: CriticalPath[]): CriticalPath {
  return paths.reduce((a, b) => (b.modelMs + b.toolMs > a.modelMs + a.toolMs ? b : a), { modelMs: 0, toolMs: 0 });
}
