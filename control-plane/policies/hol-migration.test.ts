import { ErrorCode, hasErrorCode } from '../../common/errors';
import { holMigration } from './hol-migration';
import { runPolicy, SnapshotBuilder, type ReplicaSpec } from './testing';

/** Six analyst replicas of one sequence each; `a1` is busy with a long answer. Prefill costs 0.5 ms/token. */
function analysts(now: number, overrides: Record<string, Partial<ReplicaSpec>> = {}): SnapshotBuilder {
  const builder = new SnapshotBuilder({ now });
  for (const id of ['a1', 'a2', 'a3', 'a4', 'a5', 'a6']) {
    builder.replica(id, {
      agent: 'analyst',
      capacity: 1,
      inFlight: id === 'a1' ? 1 : 0,
      meanServiceMs: 1_500,
      prefillMsPerToken: 0.5,
      ...overrides[id],
    });
  }
  return builder;
}

describe('hol-migration', () => {
  test('a session blocked behind a long answer longer than its prefix recompute moves to a free replica', () => {
    // 2,000 context tokens × 0.5 ms = 1,000 ms to recompute; it has waited 3,000 ms.
    const snapshot = analysts(10_000)
      .session('s1', { contextTokens: 2_000, waiting: [{ agent: 'analyst', replica: 'a1', waitedMs: 3_000 }] })
      .build();
    const act = runPolicy(holMigration.create({}), snapshot);
    expect(act.migrations()).toHaveLength(1);
    expect(act.migrations()[0]).toMatchObject({ session: 's1', from: 'a1' });
    expect(act.migrations()[0]?.to).not.toBe('a1');
  });

  test('a wait cheaper than the move is not migrated', () => {
    const snapshot = analysts(10_000)
      .session('s1', { contextTokens: 2_000, waiting: [{ agent: 'analyst', replica: 'a1', waitedMs: 900 }] })
      .build();
    expect(runPolicy(holMigration.create({}), snapshot).migrations()).toEqual([]);
  });

  test('the margin is part of the cost: the same wait moves with no margin and stays with a large one', () => {
    const build = () =>
      analysts(10_000)
        .session('s1', { contextTokens: 2_000, waiting: [{ agent: 'analyst', replica: 'a1', waitedMs: 1_500 }] })
        .build();
    expect(runPolicy(holMigration.create({ marginMs: 0 }), build()).migrations()).toHaveLength(1);
    expect(runPolicy(holMigration.create({ marginMs: 600 }), build()).migrations()).toEqual([]);
  });

  test('a known prefill rate replaces the learned one (learned from whole calls, it can be far too high)', () => {
    // Learned 5 ms/token: 10,000 ms to move 2,000 tokens, more than the 3,000 ms waited; the engine's 0.1: 200 ms.
    const learned = Object.fromEntries(['a2', 'a3', 'a4', 'a5', 'a6'].map((id) => [id, { prefillMsPerToken: 5 }]));
    const build = () =>
      analysts(10_000, learned)
        .session('s1', { contextTokens: 2_000, waiting: [{ agent: 'analyst', replica: 'a1', waitedMs: 3_000 }] })
        .build();
    expect(runPolicy(holMigration.create({}), build()).migrations()).toEqual([]);
    expect(runPolicy(holMigration.create({ prefillMsPerToken: 0.1 }), build()).migrations()).toHaveLength(1);
  });

  test('the target is the replica with the least expected wait: a free slot over a busy one', () => {
    const snapshot = analysts(10_000, {
      a2: { inFlight: 1 },
      a3: { inFlight: 1 },
      a4: { inFlight: 1 },
      a5: { inFlight: 1 },
      a6: { inFlight: 0 },
    })
      .session('s1', { contextTokens: 2_000, waiting: [{ agent: 'analyst', replica: 'a1', waitedMs: 5_000 }] })
      .build();
    expect(runPolicy(holMigration.create({}), snapshot).migrations()).toEqual([
      { session: 's1', from: 'a1', to: 'a6' },
    ]);
  });

  test('never onto a replica that is itself backed up, nor an unhealthy one', () => {
    const builder = new SnapshotBuilder({ now: 10_000 })
      .replica('a1', { agent: 'analyst', capacity: 1, inFlight: 1, prefillMsPerToken: 0.5 })
      .replica('a2', { agent: 'analyst', capacity: 1, inFlight: 1, waiting: 2, prefillMsPerToken: 0.5 })
      .replica('a3', { agent: 'analyst', capacity: 1, healthy: false, prefillMsPerToken: 0.5 })
      .session('s1', { contextTokens: 2_000, waiting: [{ agent: 'analyst', replica: 'a1', waitedMs: 60_000 }] });
    expect(runPolicy(holMigration.create({}), builder.build()).migrations()).toEqual([]);
  });

  test('two sessions blocked on one replica, one free replica: the one that waited longest moves', () => {
    const snapshot = new SnapshotBuilder({ now: 10_000 })
      .replica('a1', { agent: 'analyst', capacity: 1, inFlight: 1, meanServiceMs: 2_000, prefillMsPerToken: 0.1 })
      .replica('a2', { agent: 'analyst', capacity: 1, meanServiceMs: 2_000, prefillMsPerToken: 0.1 })
      .session('early', { contextTokens: 1_000, waiting: [{ agent: 'analyst', replica: 'a1', waitedMs: 3_000 }] })
      .session('late', { contextTokens: 1_000, waiting: [{ agent: 'analyst', replica: 'a1', waitedMs: 1_500 }] })
      .build();
    // After `early` takes a2's slot, `late` would wait a whole service time there too: 2,100 ms > 1,500 ms waited.
    expect(runPolicy(holMigration.create({}), snapshot).migrations()).toEqual([
      { session: 'early', from: 'a1', to: 'a2' },
    ]);
  });

  test('cool-down: a moved session is not moved again on that agent until it passes', () => {
    const policy = holMigration.create({ cooldownMs: 2_000 });
    const blockedOn = (now: number, replica: string) =>
      analysts(now, { a1: { inFlight: 0 }, [replica]: { inFlight: 1 } })
        .session('s1', { contextTokens: 2_000, waiting: [{ agent: 'analyst', replica, waitedMs: 5_000 }] })
        .build();
    const first = runPolicy(policy, blockedOn(10_000, 'a1')).migrations();
    expect(first).toHaveLength(1);
    const target = first[0]?.to ?? '';
    // Blocked again on its new replica soon after: it stays (no ping-pong) ...
    expect(runPolicy(policy, blockedOn(11_000, target)).migrations()).toEqual([]);
    expect(runPolicy(policy, blockedOn(11_999, target)).migrations()).toEqual([]);
    // ... until the cool-down has passed.
    expect(runPolicy(policy, blockedOn(12_000, target)).migrations()).toMatchObject([{ session: 's1', from: target }]);
  });

  test('a move not yet visible in the reports still counts: the next round does not send another session there', () => {
    const policy = holMigration.create({});
    // Only a2 is free; s1 and s2 are both blocked on full replicas.
    const round = (now: number) =>
      analysts(now, { a3: { inFlight: 1 }, a4: { inFlight: 1 }, a5: { inFlight: 1 }, a6: { inFlight: 1 } })
        .session('s1', { contextTokens: 100, waiting: [{ agent: 'analyst', replica: 'a1', waitedMs: 9_000 }] })
        .session('s2', { contextTokens: 100, waiting: [{ agent: 'analyst', replica: 'a3', waitedMs: 1_000 }] })
        .build();
    // Round 1: s1 (longest wait) takes a2; s2 would queue behind it there (1,500 ms expected > 1,000 waited).
    expect(runPolicy(policy, round(10_000)).migrations()).toEqual([{ session: 's1', from: 'a1', to: 'a2' }]);
    // Round 2, one period later: the reports still show a2 idle and s1 waiting on a1 (not re-moved: cool-down),
    // and s2 has waited long enough for an idle a2, but a2 is taken: it stays.
    const stale = analysts(10_250, {
      a3: { inFlight: 1 },
      a4: { inFlight: 1 },
      a5: { inFlight: 1 },
      a6: { inFlight: 1 },
    })
      .session('s2', { contextTokens: 100, waiting: [{ agent: 'analyst', replica: 'a3', waitedMs: 1_250 }] })
      .build();
    expect(runPolicy(policy, stale).migrations()).toEqual([]);
    expect(runPolicy(holMigration.create({}), stale).migrations()).toEqual([{ session: 's2', from: 'a3', to: 'a2' }]);
  });

  test('a session waiting on two agents can be moved on each', () => {
    const snapshot = analysts(10_000)
      .replica('r1', { agent: 'risk', capacity: 1, inFlight: 1, prefillMsPerToken: 0.5 })
      .replica('r2', { agent: 'risk', capacity: 1, prefillMsPerToken: 0.5 })
      .session('s1', {
        contextTokens: 1_000,
        waiting: [
          { agent: 'analyst', replica: 'a1', waitedMs: 4_000 },
          { agent: 'risk', replica: 'r1', waitedMs: 4_000 },
        ],
      })
      .build();
    const moves = runPolicy(holMigration.create({}), snapshot).migrations();
    expect(moves.map((m) => m.from).sort()).toEqual(['a1', 'r1']);
    expect(moves.find((m) => m.from === 'r1')?.to).toBe('r2');
  });

  test('bad params are CONFIG_INVALID naming the policy and the field', () => {
    const bad = (params: unknown) => () => holMigration.create(params);
    expect(bad({ cooldownMs: 'soon' })).toThrow(/policy 'hol-migration': params\.cooldownMs: /);
    expect(bad({ margin: 5 })).toThrow(/policy 'hol-migration': params: .*margin/);
    try {
      holMigration.create({ marginMs: -1 });
    } catch (err) {
      expect(hasErrorCode(err, ErrorCode.CONFIG_INVALID)).toBe(true);
    }
    expect.assertions(3);
  });
});
