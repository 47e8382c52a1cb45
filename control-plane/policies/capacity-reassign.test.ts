import { ErrorCode, hasErrorCode } from '../../common/errors';
import { capacityReassign } from './capacity-reassign';
import { runPolicy, SnapshotBuilder, type CapacitySpec } from './testing';

/** An agent as a test states it: calls on each serving replica (in flight, waiting), and its capacity facts. */
interface AgentSpec extends CapacitySpec {
  replicas: Record<string, { inFlight: number; waiting?: number }>;
}

/** A snapshot of managed agents whose replicas take `slots` calls at once. */
function system(now: number, agents: Record<string, AgentSpec>, slots = 4) {
  const builder = new SnapshotBuilder({ now });
  for (const [agent, { replicas, ...capacity }] of Object.entries(agents)) {
    for (const [id, load] of Object.entries(replicas)) builder.replica(id, { agent, capacity: slots, ...load });
    builder.capacity(agent, capacity);
  }
  return builder.build();
}

/** `chat` overloaded on one replica (load 3), `coder` nearly idle on three (load 1/6). */
const hotAndIdle = (now = 1_000_000, chat: Partial<AgentSpec> = {}, coder: Partial<AgentSpec> = {}) =>
  system(now, {
    chat: { replicas: { c1: { inFlight: 4, waiting: 8 } }, ...chat },
    coder: { replicas: { k1: { inFlight: 1 }, k2: { inFlight: 1 }, k3: { inFlight: 0 } }, ...coder },
  });

describe('capacity-reassign', () => {
  test("the idle agent's least busy replica goes to the overloaded agent", () => {
    const act = runPolicy(capacityReassign.create({}), hotAndIdle());
    expect(act.capacityChanges()).toEqual([{ kind: 'reassign', replica: 'k3', agent: 'chat' }]);
  });

  test('nothing moves when no agent is overloaded, or none is idle', () => {
    const busyEnough = { replicas: { c1: { inFlight: 4 } } }; // load 1: full, nothing waiting
    expect(runPolicy(capacityReassign.create({}), hotAndIdle(1, busyEnough)).actions).toEqual([]);
    const notIdle = { replicas: { k1: { inFlight: 2 }, k2: { inFlight: 2 }, k3: { inFlight: 2 } } }; // 6/12
    expect(runPolicy(capacityReassign.create({}), hotAndIdle(1, {}, notIdle)).actions).toEqual([]);
  });

  test('an idle agent at its minInstances gives nothing; an overloaded one at its maxInstances gets nothing', () => {
    expect(runPolicy(capacityReassign.create({}), hotAndIdle(1, {}, { minInstances: 3 })).actions).toEqual([]);
    expect(runPolicy(capacityReassign.create({}), hotAndIdle(1, { maxInstances: 1 })).actions).toEqual([]);
  });

  test('of two overloaded agents the more loaded gets the replica, the other when the first is at its max', () => {
    const three = (analystMax: number) =>
      system(1, {
        chat: { replicas: { c1: { inFlight: 4, waiting: 4 } } }, // load 2
        analyst: { replicas: { a1: { inFlight: 4, waiting: 12 } }, maxInstances: analystMax }, // load 4
        coder: { replicas: { k1: { inFlight: 0 }, k2: { inFlight: 0 } } },
      });
    expect(runPolicy(capacityReassign.create({}), three(5)).capacityChanges()).toEqual([
      { kind: 'reassign', replica: 'k1', agent: 'analyst' },
    ]);
    expect(runPolicy(capacityReassign.create({}), three(1)).capacityChanges()).toEqual([
      { kind: 'reassign', replica: 'k1', agent: 'chat' },
    ]);
  });

  test('replicas still loading count: another moves only while the load with them stays above highLoad', () => {
    // chat: 12 calls on 4 slots; each replica it loads brings 4 more slots.
    const oneLoading = runPolicy(capacityReassign.create({ cooldownMs: 0 }), hotAndIdle(1, { loading: ['k9'] }));
    expect(oneLoading.capacityChanges()).toEqual([{ kind: 'reassign', replica: 'k3', agent: 'chat' }]); // 12/8
    const twoLoading = runPolicy(capacityReassign.create({}), hotAndIdle(1, { loading: ['k8', 'k9'] }));
    expect(twoLoading.actions).toEqual([]); // 12/12: not above highLoad
  });

  test('a donor gives nothing when the replica it would give leaves it overloaded', () => {
    const busyDonor = { replicas: { k1: { inFlight: 3 }, k2: { inFlight: 1 } } }; // 4/8 now, 4/4 without k2
    expect(runPolicy(capacityReassign.create({ lowLoad: 0.6 }), hotAndIdle(1, {}, busyDonor)).actions).toEqual([]);
    const lighter = { replicas: { k1: { inFlight: 2 }, k2: { inFlight: 1 } } }; // 3/8 now, 3/4 without k2
    expect(runPolicy(capacityReassign.create({ lowLoad: 0.6 }), hotAndIdle(1, {}, lighter)).capacityChanges()).toEqual([
      { kind: 'reassign', replica: 'k2', agent: 'chat' },
    ]);
  });

  test('at most one move per cool-down, on the snapshot clock', () => {
    const policy = capacityReassign.create({ cooldownMs: 10_000 });
    const moves = (now: number) => runPolicy(policy, hotAndIdle(now)).capacityChanges().length;
    expect(moves(1_000_000)).toBe(1);
    expect(moves(1_000_250)).toBe(0);
    expect(moves(1_009_999)).toBe(0);
    expect(moves(1_010_000)).toBe(1);
  });

  test('over 400 rounds of steady load a replica moves to the hot agent and never back (no flapping)', () => {
    // Two agents with steady demand (calls at once) and four-slot replicas; a reassigned replica loads for 5 s.
    const demand: Record<string, number> = { chat: 14, coder: 2 };
    const serving: Record<string, string[]> = { chat: ['c1', 'c2'], coder: ['k1', 'k2', 'k3', 'k4'] };
    let loading: { id: string; agent: string; at: number }[] = [];
    const policy = capacityReassign.create({});
    const moves: { replica: string; agent: string }[] = [];
    for (let round = 0, now = 1_000_000; round < 400; round++, now += 250) {
      for (const l of loading.filter((x) => now - x.at >= 5_000)) serving[l.agent]?.push(l.id);
      loading = loading.filter((x) => now - x.at < 5_000);
      const agents: Record<string, AgentSpec> = {};
      for (const [agent, ids] of Object.entries(serving)) {
        const share = (demand[agent] ?? 0) / ids.length; // calls spread evenly over its serving replicas
        const replicas = Object.fromEntries(
          ids.map((id) => [id, { inFlight: Math.min(4, share), waiting: Math.max(0, share - 4) }]),
        );
        agents[agent] = { replicas, loading: loading.filter((l) => l.agent === agent).map((l) => l.id) };
      }
      for (const change of runPolicy(policy, system(now, agents)).capacityChanges()) {
        if (change.kind !== 'reassign') throw new Error(`unexpected ${change.kind}`);
        moves.push({ replica: change.replica, agent: change.agent });
        for (const [agent, ids] of Object.entries(serving)) serving[agent] = ids.filter((id) => id !== change.replica);
        loading.push({ id: change.replica, agent: change.agent, at: now });
      }
    }
    // chat needs 14/4 → 4 replicas: two moves from coder (2 calls on 4 replicas), then it sits at load 0.875.
    expect(moves).toEqual([
      { replica: 'k1', agent: 'chat' },
      { replica: 'k2', agent: 'chat' },
    ]);
    expect(serving).toEqual({ chat: ['c1', 'c2', 'k1', 'k2'], coder: ['k3', 'k4'] });
  });

  test('bad params are CONFIG_INVALID naming the policy and the field', () => {
    expect.assertions(3);
    try {
      capacityReassign.create({ highLoad: 0.5, lowLoad: 0.8 });
    } catch (err) {
      expect(hasErrorCode(err, ErrorCode.CONFIG_INVALID)).toBe(true);
      expect((err as Error).message).toMatch(/^policy 'capacity-reassign': params\.lowLoad: /);
    }
    expect(() => capacityReassign.create({ cooldownMs: -1 })).toThrow(/params\.cooldownMs/);
  });
});
