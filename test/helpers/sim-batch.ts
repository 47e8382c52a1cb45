/**
 * How many requests a simulator replica runs at once, seen from outside: what a test of its batch size
 * (`maxNumSeqs`, changed by a reassignment's settings) asserts.
 */
import OpenAI from 'openai';
import type { ManualClock } from '../../common/clock';
import type { SimPool } from '../../sim/pool';
import { waitFor } from './wait-for';

/** What {@link batchOf} saw. */
export interface BatchSeen {
  /** Requests the replica ran together (its `vllm:num_requests_running`). */
  running: number;
  /** Requests left waiting for a batch slot (its `vllm:num_requests_waiting`). */
  waiting: number;
  /** The replies, once the test steps the clock far enough (each 200 tokens long). */
  replies: Promise<unknown[]>;
}

/**
 * Sends `o.n` long requests for `o.model` to the pool's replica `id` at once and reads how many it runs
 * together: once they have all reached its engine, steps `o.clock` by a few engine iterations (the engine
 * admits waiting requests at iteration boundaries), then reads the replica's `/metrics` as the control plane
 * would.
 */
export async function batchOf(
  pool: SimPool,
  id: string,
  o: { model: string; n: number; clock: ManualClock; timeScale: number },
): Promise<BatchSeen> {
  const { baseUrl } = pool.info(id);
  const client = new OpenAI({ baseURL: baseUrl, apiKey: 'no-key', maxRetries: 0, timeout: 10_000 });
  const sent = Array.from({ length: o.n }, (_, i) =>
    client.chat.completions.create({
      model: o.model,
      messages: [{ role: 'user', content: `batch request ${i}` }],
      metadata: { sim_output_tokens: '200' },
    }),
  );
  const replies = Promise.all(sent);
  replies.catch(() => undefined); // a test that only counts leaves them to the pool's close
  const engine = () => pool.replica(id).engine;
  await waitFor(() => engine().numRunning + engine().numWaiting === o.n, { what: `${o.n} requests in the engine` });
  // Four iterations' worth of model time: far less than 200 tokens take, so none has finished yet.
  o.clock.advance(pool.replica(id).profile.decodeBaseMs * 4 * o.timeScale);
  const metrics = await (await fetch(baseUrl.replace(/\/v1$/, '/metrics'))).text();
  const gauge = (name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? NaN);
  return { running: gauge('vllm:num_requests_running'), waiting: gauge('vllm:num_requests_waiting'), replies };
}
