/**
 * The benchmark's capacity restore against a real simulator pool, its admin API over HTTP and a running
 * global controller: before a segment every replica is back on its agent of the static split, including one
 * that was still moving when the previous segment ended.
 */
import { GlobalController } from '../../../control-plane/global-controller/controller';
import { parsePolicyList, resolvePolicies } from '../../../control-plane/global-controller/policy-config';
import { poolsClosedAfterEach } from '../../../sim/test-helpers';
import { startBenchCapacity, type BenchCapacity } from './capacity';
import { waitFor } from './wait';

const startPool = poolsClosedAfterEach();
let capacity: BenchCapacity | undefined;
let controller: GlobalController | undefined;
afterEach(async () => {
  controller?.stop();
  await capacity?.close();
});

test('prepare brings back a replica that was still moving when the segment ended', async () => {
  // timeScale 0.01: a 5 s model load is 50 real ms; waits below are conditions with deadlines.
  const pool = await startPool({
    replicas: [
      { name: 'a-0', model: 'model-a' },
      { name: 'a-1', model: 'model-a' },
      { name: 'b-2', model: 'model-b' },
    ],
  });
  const [a0, a1, b2] = pool.baseUrls as [string, string, string];
  controller = new GlobalController({ policies: [], periodMs: 20 });
  controller.start();
  const lines: string[] = [];
  const started = await startBenchCapacity({
    pool,
    controller,
    policies: resolvePolicies(parsePolicyList('capacity-reassign', 'test')),
    agentModels: { a: { model: 'model-a', baseUrls: [a0, a1] }, b: { model: 'model-b', baseUrls: [b2] } },
    template: () => ({}),
    bounds: new Map([
      ['a', { min: 1, max: 3 }],
      ['b', { min: 1, max: 3 }],
    ]),
    log: (line) => lines.push(line),
    restoreTimeoutMs: 20_000,
  });
  if (!started) throw new Error('a capacity policy is installed: capacity is managed');
  capacity = started;
  const routed = () => controller?.decisions.replicas ?? {};
  expect(await waitFor(() => routed().a?.length === 2 && routed().b?.length === 1, 10_000)).toBe(true);

  // A Nalar segment ends with a-1 on its way to b (draining, not serving): prepare runs at once.
  started.manager.apply([{ kind: 'reassign', replica: a1, agent: 'b' }]);
  await started.prepare('baseline');

  expect(lines.filter((l) => l.includes('not back'))).toEqual([]);
  expect(routed()).toEqual({ a: expect.arrayContaining([a0, a1]), b: [b2] });
  expect(routed().a).toHaveLength(2);
  expect(pool.replicas.map((r) => r.profile.model)).toEqual(['model-a', 'model-a', 'model-b']);
}, 60_000);
