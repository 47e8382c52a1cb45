/** Helpers for tests that run real simulator replicas over HTTP on free ports. */
import OpenAI from 'openai';
import type { Clock } from '../common/clock';
import { SimPool } from './pool';
import { poolProfileSchema, type ReplicaProfileInput } from './profile';

export interface TestPoolOptions {
  replicas?: ReplicaProfileInput[];
  /** @default 0.01 */
  timeScale?: number;
  /** @default 7 */
  seed?: number;
  /**
   * Time source of the replicas. Give a `ManualClock` wherever a test compares timings or needs requests
   * to arrive together: nothing moves until the test advances it. @default realClock
   */
  clock?: Clock;
}

/** Starts replicas on OS-chosen ports; remember to `close()` it. */
export function startTestPool(o: TestPoolOptions = {}): Promise<SimPool> {
  return SimPool.start({
    profile: poolProfileSchema.parse({
      timeScale: o.timeScale ?? 0.01,
      seed: o.seed ?? 7,
      replicas: o.replicas ?? [{}],
    }),
    basePort: 0,
    clock: o.clock,
  });
}

/** The official OpenAI client for replica `i`, with retries off (as Nalar's activities use it). */
export function clientFor(pool: SimPool, i = 0, options: { apiKey?: string; timeoutMs?: number } = {}): OpenAI {
  return new OpenAI({
    baseURL: pool.baseUrls[i],
    apiKey: options.apiKey ?? 'no-key',
    maxRetries: 0,
    timeout: options.timeoutMs ?? 10_000,
  });
}

/**
 * The `pool(options)` of a test file: starts a pool like {@link startTestPool} and closes every pool it
 * started after each test (call it at the top level of the file).
 */
export function poolsClosedAfterEach(): (o?: TestPoolOptions) => Promise<SimPool> {
  const pools: SimPool[] = [];
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.close()));
  });
  return async (o = {}) => {
    const p = await startTestPool(o);
    pools.push(p);
    return p;
  };
}
