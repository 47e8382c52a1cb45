import { ErrorCode, hasErrorCode } from '../../common/errors';
import type { Policy } from './api';
import { autoscale } from './autoscale';
import { runPolicy, SnapshotBuilder, type CapacitySpec, type ReplicaSpec, type WorkerPoolSpec } from './testing';

const start = 1_000_000;
const period = 250;
const at = (round: number) => start + round * period;

/** `chat`'s managed replicas, each with its own load. */
function chat(round: number, replicas: Record<string, Partial<ReplicaSpec>>, capacity: CapacitySpec = {}) {
  const builder = new SnapshotBuilder({ now: at(round), periodMs: period });
  for (const [id, spec] of Object.entries(replicas)) builder.replica(id, { agent: 'chat', capacity: 4, ...spec });
  return builder.capacity('chat', capacity).build();
}

/** Per round, how many calls `chat` has at once; four-slot replicas share them evenly. */
type Demand = (round: number) => number;

/**
 * Runs `policy` for `rounds` rounds against one agent under `demand`: a provisioned replica serves after a 5 s model
 * load, a killed one leaves at once. Returns each capacity change with its round, and the serving count at the end.
 */
function simulate(policy: Policy, demand: Demand, rounds: number, replicas: number, capacity: CapacitySpec = {}) {
  let serving = Array.from({ length: replicas }, (_, i) => `r${i}`);
  let loading: { id: string; round: number }[] = [];
  const changes: { round: number; kind: string }[] = [];
  for (let round = 0; round < rounds; round++) {
    serving.push(...loading.filter((l) => (round - l.round) * period >= 5_000).map((l) => l.id));
    loading = loading.filter((l) => (round - l.round) * period < 5_000);
    const share = demand(round) / serving.length;
    const load = { inFlight: Math.min(4, share), waiting: Math.max(0, share - 4) };
    const snapshot = chat(round, Object.fromEntries(serving.map((id) => [id, load])), {
      ...capacity,
      loading: loading.map((l) => l.id),
    });
    for (const change of runPolicy(policy, snapshot).capacityChanges()) {
      changes.push({ round, kind: change.kind });
      if (change.kind === 'provision') loading.push({ id: `r${serving.length + loading.length}-${round}`, round });
      if (change.kind === 'kill') serving = serving.filter((id) => id !== change.replica);
    }
  }
  return { changes, serving: serving.length };
}

describe('autoscale: model replicas', () => {
  const overloaded = { inFlight: 4, waiting: 6 }; // 6 waiting on one replica: above 2 per replica

  test('a sustained backlog provisions one replica; a single spike does not', () => {
    const policy = autoscale.create({});
    const round = (r: number, load: Partial<ReplicaSpec>) => runPolicy(policy, chat(r, { c1: load })).capacityChanges();
    expect(round(0, overloaded)).toEqual([]); // a spike…
    expect(round(1, { inFlight: 3 })).toEqual([]); // …that passed
    expect(round(2, overloaded)).toEqual([]);
    expect(round(3, overloaded)).toEqual([{ kind: 'provision', agent: 'chat' }]); // second round in a row
  });

  test('a long queue time with calls waiting provisions too; a stale one on an idle agent does not', () => {
    const queueing = autoscale.create({ upQueueMs: 1_000 });
    const slow = { inFlight: 4, waiting: 1, meanQueueMs: 3_000 };
    expect(runPolicy(queueing, chat(0, { c1: slow })).capacityChanges()).toEqual([]);
    expect(runPolicy(queueing, chat(1, { c1: slow })).capacityChanges()).toEqual([
      { kind: 'provision', agent: 'chat' },
    ]);
    // The mean is learned from finished calls, so it keeps its last value while nothing runs.
    const stale = autoscale.create({ upQueueMs: 1_000 });
    for (let r = 0; r < 100; r++) {
      const act = runPolicy(stale, chat(r, { c1: { inFlight: 2, meanQueueMs: 3_000 } }));
      expect(act.capacityChanges()).toEqual([]);
    }
  });

  test('a call waiting longer than upQueueMs provisions before the waiting count says so', () => {
    // One call waiting on a full replica (below upWaiting's 2), no finished call's queue time yet.
    const waitingFor = (round: number, waitedMs: number) =>
      new SnapshotBuilder({ now: at(round), periodMs: period })
        .replica('c1', { agent: 'chat', capacity: 4, inFlight: 4 })
        .session('s1', { waiting: [{ agent: 'chat', replica: 'c1', waitedMs }] })
        .capacity('chat', {})
        .build();
    const patient = autoscale.create({});
    for (let r = 0; r < 10; r++) expect(runPolicy(patient, waitingFor(r, 1_900)).capacityChanges()).toEqual([]);
    const policy = autoscale.create({});
    expect(runPolicy(policy, waitingFor(0, 2_100)).capacityChanges()).toEqual([]); // upRounds: not yet
    expect(runPolicy(policy, waitingFor(1, 2_350)).capacityChanges()).toEqual([{ kind: 'provision', agent: 'chat' }]);
  });

  test('no replica beyond maxInstances, and none more while one is loading', () => {
    for (const capacity of [{ maxInstances: 1 }, { loading: ['c9'] }]) {
      const policy = autoscale.create({});
      for (let r = 0; r < 10; r++) expect(runPolicy(policy, chat(r, { c1: overloaded }, capacity)).actions).toEqual([]);
    }
  });

  test('an idle agent loses its least busy replica only after the long window, and never below minInstances', () => {
    const idle = { c1: { inFlight: 1 }, c2: { inFlight: 0 }, c3: { inFlight: 1 } }; // busy 2/12, nothing waiting
    const kills = (capacity: CapacitySpec) => {
      const policy = autoscale.create({});
      return Array.from({ length: 60 }, (_, r) => runPolicy(policy, chat(r, idle, capacity)).capacityChanges())
        .map((changes, round) => ({ round, changes }))
        .filter((x) => x.changes.length > 0);
    };
    expect(kills({})).toEqual([{ round: 39, changes: [{ kind: 'kill', replica: 'c2' }] }]); // the 40th idle round
    expect(kills({ minInstances: 3 })).toEqual([]);
  });

  test('one busy round restarts the idle window', () => {
    const policy = autoscale.create({});
    const idle = { c1: { inFlight: 0 }, c2: { inFlight: 0 } };
    const busy = { c1: { inFlight: 2 }, c2: { inFlight: 2 } };
    const rounds = Array.from(
      { length: 80 },
      (_, r) => runPolicy(policy, chat(r, r === 30 ? busy : idle)).capacityChanges().length,
    );
    expect(rounds.indexOf(1)).toBe(70); // 40 idle rounds after round 30
  });

  test('after a change the next one waits for the cool-down', () => {
    const { changes } = simulate(autoscale.create({ cooldownMs: 20_000 }), () => 0, 200, 4);
    // First kill after 40 idle rounds; the next ones 20 s (80 rounds) apart, down to minInstances 1.
    expect(changes).toEqual([
      { round: 39, kind: 'kill' },
      { round: 119, kind: 'kill' },
      { round: 199, kind: 'kill' },
    ]);
  });

  test('sustained overload grows the agent one replica at a time until calls no longer pile up', () => {
    const { changes, serving } = simulate(autoscale.create({}), () => 30, 400, 1);
    // 30 calls at once on four-slot replicas: 30 - 4n wait, more than 2 per replica while n < 5. Each provision
    // waits for the previous replica's model load (20 rounds) and the 10 s cool-down (40 rounds).
    expect(changes).toEqual([1, 41, 81, 121].map((round) => ({ round, kind: 'provision' })));
    expect(serving).toBe(5);
  });

  test('no flapping: a steady load between the thresholds makes the one change it needs, then none', () => {
    // 10 calls on one replica: 6 waiting → one more replica; on two, 1 waits per replica and both are busy.
    const { changes, serving } = simulate(autoscale.create({}), () => 10, 400, 1);
    expect(changes).toEqual([{ round: 1, kind: 'provision' }]);
    expect(serving).toBe(2);
  });

  test('no flapping: a noisy load around a mid value, spiking above and dipping below the thresholds, changes nothing', () => {
    // Two replicas (8 slots) with 7 calls ±1; every third round a spike to 14 (6 waiting, above 2 per replica),
    // every fifth a dip to 1 (busy 1/8, below 0.3): single rounds on either side, never sustained.
    let seed = 42;
    const jitter = () => ((seed = (seed * 16_807) % 2_147_483_647) % 3) - 1; // a seeded Park–Miller generator
    const noisy: Demand = (r) => (r % 5 === 0 ? 1 : r % 3 === 0 ? 14 : 7 + jitter());
    const { changes, serving } = simulate(autoscale.create({}), noisy, 400, 2);
    expect(changes).toEqual([]);
    expect(serving).toBe(2);
  });
});

describe('autoscale: worker pools', () => {
  /** The `chat-queue` pool (bounds 1…8) at round `r` with `backlog` tasks, or an unmeasured backlog. */
  function pool(r: number, backlog: number | undefined, spec: WorkerPoolSpec) {
    const builder = new SnapshotBuilder({ now: at(r), periodMs: period }).workers('chat-queue', {
      min: 1,
      max: 8,
      ...spec,
    });
    return (backlog === undefined ? builder : builder.backlog('chat-queue', backlog)).build();
  }

  /** Runs rounds of backlogs; the pool's `desired` follows what the policy asked. Returns each ask with its round. */
  function run(policy: Policy, backlogs: readonly (number | undefined)[], desired: number) {
    const asks: { round: number; n: number }[] = [];
    backlogs.forEach((backlog, round) => {
      const n = runPolicy(policy, pool(round, backlog, { desired, current: desired })).workersOf('chat-queue');
      if (n !== undefined) asks.push({ round, n });
      desired = n ?? desired;
    });
    return asks;
  }

  test('a sustained backlog scales workers to backlog / tasksPerWorker; a single spike does not', () => {
    expect(run(autoscale.create({}), [50, 0, 50, 50], 2)).toEqual([{ round: 3, n: 5 }]);
  });

  test('it scales up to the least the backlog asked for in the streak, and within the bounds', () => {
    expect(run(autoscale.create({}), [80, 50], 2)).toEqual([{ round: 1, n: 5 }]);
    expect(run(autoscale.create({}), [500, 500], 2)).toEqual([{ round: 1, n: 8 }]);
  });

  test('it scales down only after the long window, to the most the backlog asked for in it', () => {
    const backlogs = Array.from({ length: 60 }, (_, r) => (r === 0 ? 30 : 0));
    expect(run(autoscale.create({}), backlogs, 5)).toEqual([{ round: 39, n: 3 }]);
    expect(run(autoscale.create({}), backlogs.slice(1), 5)).toEqual([{ round: 39, n: 1 }]);
  });

  test('no scaling without a measured backlog, nor when it asks for what the pool has', () => {
    expect(
      run(
        autoscale.create({}),
        Array.from({ length: 100 }, () => undefined),
        3,
      ),
    ).toEqual([]);
    expect(
      run(
        autoscale.create({}),
        Array.from({ length: 100 }, () => 25),
        3,
      ),
    ).toEqual([]);
  });

  test('no flapping: a steady backlog makes one change; a noisy one around a mid value makes none', () => {
    expect(
      run(
        autoscale.create({}),
        Array.from({ length: 400 }, () => 25),
        1,
      ),
    ).toEqual([{ round: 1, n: 3 }]);
    // 30 tasks on average, alternating 5 and 55 (1 and 6 workers wanted) round by round, with 3 workers.
    const noisy = Array.from({ length: 400 }, (_, r) => (r % 2 === 0 ? 5 : 55));
    expect(run(autoscale.create({}), noisy, 3)).toEqual([]);
  });
});

test('bad params are CONFIG_INVALID naming the policy and the field', () => {
  expect.assertions(2);
  try {
    autoscale.create({ downRounds: 0.5 });
  } catch (err) {
    expect(hasErrorCode(err, ErrorCode.CONFIG_INVALID)).toBe(true);
    expect((err as Error).message).toMatch(/^policy 'autoscale': params\.downRounds: /);
  }
});
