import { ErrorCode, hasErrorCode } from '../../common/errors';
import { loadBalance } from './load-balance';
import { runPolicy, SnapshotBuilder } from './testing';

const share = (weights: Readonly<Record<string, number>> | undefined, replica: string): number => {
  const all = Object.values(weights ?? {});
  return (weights?.[replica] ?? 0) / all.reduce((a, b) => a + b, 0);
};

describe('load-balance', () => {
  test('a hot replica (full, calls waiting, queueing) gets almost none of the new sessions; a cold one most', () => {
    const snapshot = new SnapshotBuilder()
      .replica('hot', { agent: 'chat', capacity: 4, inFlight: 4, waiting: 3, meanQueueMs: 800, meanServiceMs: 400 })
      .replica('cold', { agent: 'chat', capacity: 4, inFlight: 0, meanServiceMs: 400 })
      .build();
    const weights = runPolicy(loadBalance.create({}), snapshot).weightsOf('chat');
    expect(share(weights, 'cold')).toBeGreaterThan(0.95);
    expect(share(weights, 'hot')).toBeGreaterThan(0); // a floor: never starved entirely
  });

  test('weights follow free slots: 3 free of 4 gets three times the share of 1 free of 4', () => {
    const snapshot = new SnapshotBuilder()
      .replica('a', { agent: 'coder', capacity: 4, inFlight: 1 })
      .replica('b', { agent: 'coder', capacity: 4, inFlight: 3 })
      .build();
    const weights = runPolicy(loadBalance.create({ floor: 0.001 }), snapshot).weightsOf('coder');
    expect(share(weights, 'a') / share(weights, 'b')).toBeCloseTo(3, 1);
  });

  test('an unhealthy replica gets no sessions; each agent is balanced over its own replicas', () => {
    const snapshot = new SnapshotBuilder()
      .replica('c1', { agent: 'chat', capacity: 2 })
      .replica('c2', { agent: 'chat', capacity: 2, healthy: false })
      .replica('k1', { agent: 'coder', capacity: 2 })
      .build();
    const act = runPolicy(loadBalance.create({}), snapshot);
    expect(Object.keys(act.weightsOf('chat') ?? {})).toEqual(['c1']);
    expect(Object.keys(act.weightsOf('coder') ?? {})).toEqual(['k1']);
  });

  test('with unknown capacity the replica with fewer calls on it gets more', () => {
    const snapshot = new SnapshotBuilder()
      .replica('busy', { agent: 'chat', inFlight: 5, waiting: 4 })
      .replica('idle', { agent: 'chat' })
      .build();
    const weights = runPolicy(loadBalance.create({}), snapshot).weightsOf('chat');
    expect(share(weights, 'idle')).toBeGreaterThan(0.8);
  });

  test('an agent with no healthy replica is left alone (local controllers keep their last routing)', () => {
    const snapshot = new SnapshotBuilder().replica('c1', { agent: 'chat', healthy: false }).build();
    expect(runPolicy(loadBalance.create({}), snapshot).actions).toEqual([]);
  });

  test('bad params are CONFIG_INVALID naming the policy and the field', () => {
    expect.assertions(2);
    try {
      loadBalance.create({ floor: -1 });
    } catch (err) {
      expect(hasErrorCode(err, ErrorCode.CONFIG_INVALID)).toBe(true);
      expect((err as Error).message).toMatch(/^policy 'load-balance': params\.floor: /);
    }
  });
});
