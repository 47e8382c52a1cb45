import { ManualClock } from '../../common/clock';
import type { LogSink } from '../../common/log';
import { createLogger } from '../../common/log';
import type { Policy, Primitives, Snapshot } from '../policies/api';
import type { Report, ReplicaLoad } from '../protocol';
import { GlobalController } from './controller';
import type { InstalledPolicy } from './policy-config';

const t0 = 1_700_000_000_000;
const periodMs = 250;

function policy(name: string, decide: (s: Snapshot, act: Primitives) => void): InstalledPolicy {
  const p: Policy = { name, decide };
  return { name, params: undefined, policy: p };
}

function load(replica: string, capacity: number | null, agent = 'planner'): ReplicaLoad {
  return { agent, replica, inFlight: 0, waiting: 0, limit: null, capacity, healthy: true };
}

function reportOf(node: string, seq: number, parts: Partial<Report> = {}): Report {
  return {
    node,
    seq,
    decisionsVersion: 0,
    taskQueues: ['nalar'],
    events: [],
    calls: [],
    waiting: [],
    replicas: [load('r1', 8), load('r2', 8)],
    at: t0,
    ...parts,
  };
}

function setup(policies: InstalledPolicy[], extra: { retentionMs?: number } = {}) {
  const clock = new ManualClock();
  const lines: string[] = [];
  const sink: LogSink = (line) => lines.push(line);
  const controller = new GlobalController({
    policies,
    periodMs,
    policyBudgetMs: 50,
    clock,
    epochNow: () => t0 + clock.now(),
    log: createLogger('controller', 'info', sink),
    ...extra,
  });
  return { clock, controller, lines };
}

test('pins persist across rounds, weights and priorities are the round’s, and the version moves only on a change', async () => {
  let round = 0;
  const { controller, clock } = setup([
    policy('test', (s, act) => {
      round++;
      if (round === 1) act.route('s-1', 'planner', 'r2');
      if (round <= 2) act.route('planner', ['r1', 'r2'], [1, 3]);
      if (round === 2) act.setPriority('s-1', 1);
    }),
  ]);
  const ran = { workflowId: 'wf', sessionId: 's-1', agent: 'planner', replica: 'r1', priority: 3, at: t0 };
  controller.submit(reportOf('n1', 0, { calls: [{ ...ran, queueMs: 0, serviceMs: 10, ok: true }] }));
  const poll = controller.waitForDecisions(0, 10_000);
  controller.runRound();
  const v1 = await poll;
  expect(v1).toMatchObject({
    version: 1,
    policies: ['test'],
    pins: { planner: { 's-1': 'r2' } },
    weights: { planner: { r1: 1, r2: 3 } },
    priorities: {},
  });
  clock.advance(periodMs);
  controller.runRound();
  expect(controller.decisions).toMatchObject({
    version: 2,
    pins: { planner: { 's-1': 'r2' } }, // not set again this round: still there
    priorities: { 's-1': { '*': 1 } },
  });
  clock.advance(periodMs);
  controller.submit(reportOf('n1', 1));
  controller.runRound(); // weights and priority not set again: withdrawn
  expect(controller.decisions).toMatchObject({ version: 3, weights: {}, priorities: {} });
  expect(controller.decisions.pins).toEqual({ planner: { 's-1': 'r2' } });
  clock.advance(periodMs);
  controller.submit(reportOf('n1', 2));
  const timings = controller.runRound();
  expect(timings.changed).toBe(false);
  expect(controller.decisions.version).toBe(3);
  // The snapshot shows the pin (not where it last ran) as the session's replica.
  expect(controller.view.sessions.get('s-1')?.replicas).toEqual({ planner: 'r2' });
});

test('a throwing and an overrunning policy are skipped and reported, logged once; the others still apply', () => {
  const clock = new ManualClock();
  const policies = [
    policy('pin-first', (_s, act) => act.route('s-1', 'planner', 'r1')),
    policy('throws', (_s, act) => {
      act.route('s-2', 'planner', 'r1');
      throw new Error('bug in policy');
    }),
    policy('slow', (_s, act) => {
      act.route('s-3', 'planner', 'r1');
      clock.advance(51); // past the 50 ms budget
    }),
    policy('bad-priority', (_s, act) => act.setPriority('s-4', 9)),
    policy('pin-last', (_s, act) => act.route('s-5', 'planner', 'r2')),
  ];
  const lines: string[] = [];
  const controller = new GlobalController({
    policies,
    periodMs,
    policyBudgetMs: 50,
    clock,
    epochNow: () => t0 + clock.now(),
    log: createLogger('controller', 'info', (l) => lines.push(l)),
  });
  controller.submit(reportOf('n1', 0));
  controller.runRound();
  clock.advance(periodMs);
  controller.runRound();
  expect(controller.decisions.pins).toEqual({ planner: { 's-1': 'r1', 's-5': 'r2' } });
  const status = controller.status();
  expect(status.skippedLastRound.map((s) => [s.policy, s.reason])).toEqual([
    ['throws', 'error'],
    ['slow', 'overrun'],
    ['bad-priority', 'error'],
  ]);
  expect(status.skippedLastRound[0]?.message).toBe('bug in policy');
  expect(status.skippedLastRound[1]?.message).toMatch(/over its budget of 50 ms/);
  expect(status.skippedLastRound[2]?.message).toMatch(/integer from 1 \(first\) to 5/);
  expect(status.policies.find((p) => p.name === 'throws')).toMatchObject({ errors: 2, overruns: 0 });
  expect(status.policies.find((p) => p.name === 'slow')).toMatchObject({ errors: 0, overruns: 2 });
  // Two rounds, three faulty policies: one line each.
  expect(lines.filter((l) => l.includes('skipped'))).toHaveLength(3);
  expect(status.lastRound).toMatchObject({ changed: false });
});

test('per-node limits split each replica’s capacity over the live nodes that report it, at least 1', () => {
  const { controller, clock } = setup([]);
  controller.submit(reportOf('n1', 0, { replicas: [load('r1', 8), load('r2', 2), load('r3', null)] }));
  controller.runRound();
  expect(controller.decisions.limits).toEqual({ r1: 8, r2: 2 });
  controller.submit(reportOf('n2', 0, { replicas: [load('r1', 8), load('r2', 2)] }));
  controller.submit(reportOf('n3', 0, { replicas: [load('r1', 8), load('r2', 2)] }));
  clock.advance(periodMs);
  controller.runRound();
  expect(controller.decisions.limits).toEqual({ r1: 2, r2: 1 });
  // n2 and n3 go silent: n1 gets the whole replica back.
  for (let i = 1; i <= 3; i++) {
    controller.submit(reportOf('n1', i, { replicas: [load('r1', 8), load('r2', 2)] }));
    clock.advance(periodMs);
    controller.runRound();
  }
  expect([...controller.view.nodes.keys()]).toEqual(['n1']);
  expect(controller.decisions.limits).toEqual({ r1: 8, r2: 2 });
});

test('a session that ends takes its pins with it; swapping policies publishes a new version', () => {
  const { controller, clock } = setup([policy('pin', (s, act) => act.route('s-1', 'planner', 'r1'))], {
    retentionMs: 1000,
  });
  const done = (type: 'created' | 'completed') => ({
    type,
    futureId: 'f',
    workflowId: 'wf',
    sessionId: 's-1',
    activityType: 'planner.plan',
    dependencies: [],
    at: t0,
  });
  controller.submit(reportOf('n1', 0, { events: [done('created'), done('completed')] }));
  controller.runRound();
  expect(controller.decisions.pins).toEqual({ planner: { 's-1': 'r1' } });
  const version = controller.decisions.version;
  controller.setPolicies([]);
  clock.advance(1000);
  controller.submit(reportOf('n1', 1));
  controller.runRound();
  expect(controller.view.sessions.has('s-1')).toBe(false);
  expect(controller.decisions).toMatchObject({ version: version + 1, policies: [], pins: {} });
});

test('a long poll ends empty when its wait passes without a newer version', async () => {
  const { controller, clock } = setup([]);
  const poll = controller.waitForDecisions(0, 1000);
  clock.advance(999);
  controller.runRound(); // no policies, no capacity: nothing to publish
  clock.advance(1);
  await expect(poll).resolves.toBeUndefined();
});

test('the loop runs a round every period on the injected clock and survives a failing round', () => {
  const { controller, clock, lines } = setup([]);
  controller.start();
  // A report the HTTP layer would have refused: the round that merges it fails, the next ones run.
  controller.submit({ ...reportOf('n0', 0), events: null } as unknown as Report);
  clock.advance(periodMs);
  expect(lines.some((l) => l.includes('round failed'))).toBe(true);
  controller.submit(reportOf('n1', 0));
  clock.advance(periodMs);
  expect(controller.view.nodes.has('n1')).toBe(true);
  expect(controller.decisions.version).toBe(1); // limits of r1 and r2
  controller.stop();
  controller.submit(reportOf('n2', 0));
  clock.advance(10 * periodMs);
  expect(controller.view.nodes.has('n2')).toBe(false);
});

test('a restarted controller publishes above the version its nodes hold, so they take its decisions', async () => {
  const { controller } = setup([policy('pin', (_s, act) => act.route('s-1', 'planner', 'r1'))]);
  // The nodes installed version 41 from the controller before it restarted.
  const poll = controller.waitForDecisions(41, 10_000);
  controller.submit(reportOf('n1', 12, { decisionsVersion: 41 }));
  controller.submit(reportOf('n2', 7, { decisionsVersion: 40 }));
  controller.runRound();
  await expect(poll).resolves.toMatchObject({ version: 42, pins: { planner: { 's-1': 'r1' } } });
});

test('a primitive call that cannot be right skips its policy with a message naming the call', () => {
  const calls: [string, (act: Primitives) => void, RegExp][] = [
    ['unknown-replica', (act) => act.route('s-1', 'planner', 'r9'), /route\(s-1, planner, r9\): no replica r9/],
    ['other-agent', (act) => act.route('s-1', 'writer', 'r1'), /replica r1 serves planner, not writer/],
    ['lengths', (act) => act.route('planner', ['r1', 'r2'], [1]), /two lists of the same length/],
    ['negative', (act) => act.route('planner', ['r1'], [-1]), /weight -1 of r1 is not a number ≥ 0/],
    ['cross-agent', (act) => act.migrate('s-1', 'w1', 'r1'), /w1 serves writer, r1 serves planner/],
  ];
  const { controller } = setup(calls.map(([name, call]) => policy(name, (_s, act) => call(act))));
  controller.submit(reportOf('n1', 0, { replicas: [load('r1', 8), load('r2', 8), load('w1', 8, 'writer')] }));
  controller.runRound();
  const skipped = controller.status().skippedLastRound;
  expect(skipped.map((s) => s.policy)).toEqual(calls.map(([name]) => name));
  skipped.forEach((s, i) => expect(s.message).toMatch(calls[i]![2]));
  expect(controller.decisions.pins).toEqual({});
  expect(controller.decisions.weights).toEqual({});
});

test('an async policy is refused for the round, and its late actions and rejection change nothing', async () => {
  let late: Promise<void> | undefined;
  const asyncPolicy = policy('async', (_s, act) => {
    late = (async () => {
      await Promise.resolve();
      act.route('s-1', 'planner', 'r1');
      throw new Error('rejected after the round');
    })();
    return late as unknown as void;
  });
  const { controller } = setup([asyncPolicy]);
  controller.submit(reportOf('n1', 0));
  controller.runRound();
  await expect(late).rejects.toThrow('rejected after the round');
  expect(controller.status().skippedLastRound[0]?.message).toMatch(/decide returned a promise/);
  expect(controller.decisions.pins).toEqual({});
});
