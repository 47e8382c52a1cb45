import { ManualClock } from '../../common/clock';
import { routeHash } from '../../common/route-hash';
import type { CallLease, GatedCall } from '../../stubs/future-context';
import { emptyDecisions, type Decisions } from '../protocol';
import { Dispatcher } from './dispatcher';

const A = 'http://a/v1';
const B = 'http://b/v1';
const replicas = [A, B];

/** A session id whose static choice (`routeHash % 2`) is replica `index`. */
function sessionOn(index: number, prefix = 's'): string {
  for (let i = 0; ; i++) if (routeHash(`${prefix}${i}`) % 2 === index) return `${prefix}${i}`;
}

const call = (sessionId: string, o: Partial<GatedCall> = {}): GatedCall => ({
  agent: 'analyst',
  replicas,
  maxInFlight: 1,
  sessionId,
  workflowId: `wf-${sessionId}`,
  promptTokens: 100,
  ...o,
});

const decisions = (version: number, d: Partial<Decisions> = {}): Decisions => ({ ...emptyDecisions, version, ...d });

/** Tracks which acquires resolved, in order. */
function harness(options: ConstructorParameters<typeof Dispatcher>[0] = {}) {
  const clock = new ManualClock();
  const d = new Dispatcher({ clock, epochNow: () => 1_000_000 + clock.now(), ...options });
  const granted: { name: string; lease: CallLease }[] = [];
  const failed: { name: string; reason: unknown }[] = [];
  const acquire = (name: string, c: GatedCall, signal = new AbortController().signal) =>
    d.acquire(c, signal).then(
      (lease) => void granted.push({ name, lease }),
      (reason: unknown) => void failed.push({ name, reason }),
    );
  const lease = (name: string) => {
    const g = granted.find((x) => x.name === name);
    if (!g) throw new Error(`${name} has no lease; granted: ${granted.map((x) => x.name).join(', ')}`);
    return g.lease;
  };
  return { clock, d, granted, failed, acquire, lease, names: () => granted.map((g) => g.name) };
}

/** Lets promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

test('without decisions a call goes at once to the static choice, hash(session) % n', async () => {
  const h = harness();
  const s0 = sessionOn(0);
  const s1 = sessionOn(1);
  void h.acquire('x', call(s0, { maxInFlight: undefined }));
  void h.acquire('y', call(s1, { maxInFlight: undefined }));
  await settle();
  expect(h.lease('x').replica).toBe(A);
  expect(h.lease('y').replica).toBe(B);
  expect(h.lease('x').priority).toBe(3);
  expect(h.lease('x').queueMs).toBe(0);
});

test('with no limit calls never wait', async () => {
  const h = harness();
  const s = sessionOn(0);
  for (let i = 0; i < 50; i++) void h.acquire(`c${i}`, call(s, { maxInFlight: undefined }));
  await settle();
  expect(h.granted).toHaveLength(50);
  // Every replica of the agent is reported, the unused one too (the global controller routes only over
  // replicas it knows); with no limit configured the capacity is unknown.
  expect(h.d.replicaLoads()).toEqual([
    { agent: 'analyst', replica: A, inFlight: 50, waiting: 0, limit: null, capacity: null, healthy: true },
    { agent: 'analyst', replica: B, inFlight: 0, waiting: 0, limit: null, capacity: null, healthy: true },
  ]);
});

test('waiting calls leave by priority, then in arrival order; the limit holds', async () => {
  const h = harness();
  const s = sessionOn(0);
  void h.acquire('first', call(s));
  void h.acquire('low-1', call(s, { priority: 5 }));
  void h.acquire('mid-1', call(s));
  void h.acquire('high', call(s, { priority: 1 }));
  void h.acquire('mid-2', call(s, { priority: 3 }));
  void h.acquire('low-2', call(s, { priority: 5 }));
  await settle();
  expect(h.names()).toEqual(['first']);
  expect(h.d.replicaLoads()[0]).toMatchObject({ inFlight: 1, waiting: 5, limit: 1 });
  for (const expected of ['high', 'mid-1', 'mid-2', 'low-1', 'low-2']) {
    h.clock.advance(10);
    h.granted[h.granted.length - 1]?.lease.release({ ok: true });
    await settle();
    expect(h.names().at(-1)).toBe(expected);
    expect(h.d.replicaLoads()[0]?.inFlight).toBe(1);
  }
  expect(h.lease('high').queueMs).toBe(10);
  expect(h.lease('low-2').queueMs).toBe(50);
});

test('an installed limit wins over the configured one; raising it sends waiting calls at once', async () => {
  const h = harness();
  const s = sessionOn(0);
  for (let i = 0; i < 4; i++) void h.acquire(`c${i}`, call(s));
  await settle();
  expect(h.granted).toHaveLength(1);
  h.d.install(decisions(1, { limits: { [A]: 3 } }));
  await settle();
  expect(h.names()).toEqual(['c0', 'c1', 'c2']);
  expect(h.d.replicaLoads()[0]).toMatchObject({ inFlight: 3, waiting: 1, limit: 3 });
});

test('a pinned session goes to its pin and waits there even when the other replica is free', async () => {
  const h = harness();
  const s = sessionOn(1);
  h.d.install(decisions(1, { pins: { analyst: { [s]: A } } }));
  void h.acquire('one', call(s));
  void h.acquire('two', call(s));
  await settle();
  expect(h.names()).toEqual(['one']);
  expect(h.lease('one').replica).toBe(A);
  expect(h.d.waitingCalls()).toEqual([
    expect.objectContaining({ sessionId: s, replica: A, priority: 3, since: 1_000_000, promptTokens: 100 }),
  ]);
  // B was free all along (and is reported so, with the configured limit as its capacity).
  expect(h.d.replicaLoads().find((r) => r.replica === B)).toEqual({
    agent: 'analyst',
    replica: B,
    inFlight: 0,
    waiting: 0,
    limit: 1,
    capacity: 1,
    healthy: true,
  });
});

test('installing a migration moves the pending calls of a session to the new replica', async () => {
  const h = harness();
  const s = sessionOn(0);
  const other = sessionOn(0, 'o');
  void h.acquire('busy', call(other));
  void h.acquire('moved', call(s));
  await settle();
  expect(h.names()).toEqual(['busy']);
  expect(h.d.waitingCalls()[0]?.replica).toBe(A);
  // migrate(s, A, B): the pin moves; the waiting call leaves for B at once, since B is free.
  h.d.install(decisions(2, { pins: { analyst: { [s]: B } } }));
  await settle();
  expect(h.names()).toEqual(['busy', 'moved']);
  expect(h.lease('moved').replica).toBe(B);
  expect(h.d.waitingCalls()).toEqual([]);
});

test('installed priorities re-order waiting calls: per agent, then every agent, then the future priority', async () => {
  const h = harness();
  const s = sessionOn(0);
  const [p, q, r] = [sessionOn(0, 'p'), sessionOn(0, 'q'), sessionOn(0, 'r')];
  void h.acquire('busy', call(s));
  void h.acquire('p', call(p, { priority: 2 }));
  void h.acquire('q', call(q, { priority: 2 }));
  void h.acquire('r', call(r, { priority: 2 }));
  await settle();
  h.d.install(
    decisions(1, { priorities: { [r]: { analyst: 1, '*': 5 }, [q]: { '*': 1, other: 5 }, [p]: { other: 1 } } }),
  );
  const order: string[] = [];
  for (let i = 0; i < 3; i++) {
    h.granted[h.granted.length - 1]?.lease.release({ ok: true });
    await settle();
    order.push(h.names().at(-1) as string);
  }
  expect(order).toEqual(['q', 'r', 'p']);
  expect(h.lease('r').priority).toBe(1);
  expect(h.lease('p').priority).toBe(2);
});

test('a decisions version lower than the installed one is ignored', () => {
  const h = harness();
  const s = sessionOn(0);
  expect(h.d.install(decisions(5, { pins: { analyst: { [s]: B } } }))).toBe(true);
  expect(h.d.install(decisions(4, { pins: { analyst: { [s]: A } } }))).toBe(false);
  expect(h.d.decisions.version).toBe(5);
  h.d.acquire(call(s), new AbortController().signal).catch(() => undefined);
  expect(h.d.routeOf('analyst', s)).toBe(B);
});

test('weights send unpinned sessions by weight; a zero weight takes none', async () => {
  const h = harness();
  h.d.install(decisions(1, { weights: { analyst: { [A]: 0, [B]: 1 } } }));
  for (let i = 0; i < 20; i++) void h.acquire(`c${i}`, call(`w${i}`, { maxInFlight: undefined }));
  await settle();
  expect(new Set(h.granted.map((g) => g.lease.replica))).toEqual(new Set([B]));
  // 3:1 over 400 sessions: about 300 on A (the chance of fewer than 250 is negligible).
  h.d.install(decisions(2, { weights: { analyst: { [A]: 3, [B]: 1 } } }));
  let onA = 0;
  for (let i = 0; i < 400; i++) if (h.d.routeOf('analyst', `v${i}`) === A) onA++;
  expect(onA).toBeGreaterThan(250);
  expect(onA).toBeLessThan(350);
});

test('a session stays where it last ran on this node once its pin is lifted', async () => {
  const h = harness();
  const s = sessionOn(0);
  h.d.install(decisions(1, { pins: { analyst: { [s]: B } } }));
  void h.acquire('pinned', call(s, { maxInFlight: undefined }));
  await settle();
  h.lease('pinned').release({ ok: true });
  h.d.install(decisions(2));
  void h.acquire('after', call(s, { maxInFlight: undefined }));
  await settle();
  expect(h.lease('after').replica).toBe(B);
  // The sticky map is bounded: with room for one session, a newer session evicts it.
  const small = harness({ stickyCapacity: 1 });
  small.d.install(decisions(1, { pins: { analyst: { [s]: B } } }));
  void small.acquire('pinned', call(s, { maxInFlight: undefined }));
  void small.acquire('other', call(sessionOn(0, 'x'), { maxInFlight: undefined }));
  await settle();
  small.d.install(decisions(2));
  expect(small.d.routeOf('analyst', s)).toBe(A);
});

test('a replica that keeps failing is avoided for a back-off, pinned calls included, then used again', async () => {
  const h = harness({ failureThreshold: 2, backoffMs: 1000 });
  const s = sessionOn(0);
  const pinned = sessionOn(1, 'p');
  h.d.install(decisions(1, { pins: { analyst: { [pinned]: A } } }));
  for (let i = 0; i < 2; i++) {
    void h.acquire(`f${i}`, call(s, { maxInFlight: undefined }));
    await settle();
    h.lease(`f${i}`).release({ ok: false, errorCode: 'NALAR_ERR_LLM_UNAVAILABLE', replicaUnavailable: true });
  }
  expect(h.d.replicaLoads().find((r) => r.replica === A)?.healthy).toBe(false);
  expect(h.d.routeOf('analyst', s)).toBe(B);
  expect(h.d.routeOf('analyst', pinned)).toBe(B);
  h.clock.advance(1000);
  expect(h.d.replicaLoads().find((r) => r.replica === A)?.healthy).toBe(true);
  expect(h.d.routeOf('analyst', pinned)).toBe(A);
  // A failure that is not the replica's (a bad request) does not count.
  const h2 = harness({ failureThreshold: 1 });
  void h2.acquire('bad', call(s, { maxInFlight: undefined }));
  await settle();
  h2.lease('bad').release({ ok: false, errorCode: 'NALAR_ERR_LLM_REJECTED' });
  expect(h2.d.replicaLoads()[0]?.healthy).toBe(true);
});

test('calls waiting on a replica that turns unhealthy go to a healthy one', async () => {
  const h = harness({ failureThreshold: 1 });
  const s = sessionOn(0);
  void h.acquire('running', call(s));
  void h.acquire('waiting', call(s));
  await settle();
  expect(h.names()).toEqual(['running']);
  h.lease('running').release({ ok: false, replicaUnavailable: true });
  await settle();
  expect(h.lease('waiting').replica).toBe(B);
});

test('a waiting call whose activity is cancelled leaves the queue; the others keep their order', async () => {
  const h = harness();
  const s = sessionOn(0);
  const cancel = new AbortController();
  void h.acquire('running', call(s));
  void h.acquire('cancelled', call(s, { priority: 1 }), cancel.signal);
  void h.acquire('next', call(s));
  await settle();
  cancel.abort(new Error('activity cancelled'));
  await settle();
  expect(h.failed).toEqual([{ name: 'cancelled', reason: new Error('activity cancelled') }]);
  expect(h.d.waitingCalls().map((w) => w.workflowId)).toEqual([`wf-${s}`]);
  h.lease('running').release({ ok: true });
  await settle();
  expect(h.names()).toEqual(['running', 'next']);
  // An already aborted signal never enters the queue.
  const gone = new AbortController();
  gone.abort(new Error('gone'));
  await expect(h.d.acquire(call(s), gone.signal)).rejects.toThrow('gone');
});

test('a release records the call for the report, once, and drains', async () => {
  const h = harness({ maxRecords: 1 });
  const s = sessionOn(0);
  void h.acquire('a', call(s, { futureId: 'f1', prefixHash: 'abc' }));
  void h.acquire('b', call(s));
  await settle();
  h.clock.advance(30);
  h.lease('a').release({ ok: true, promptTokens: 120, cachedTokens: 100 });
  h.lease('a').release({ ok: false });
  await settle();
  h.clock.advance(5);
  h.lease('b').release({ ok: false, errorCode: 'NALAR_ERR_LLM_TIMEOUT' });
  const { calls, dropped } = h.d.drainCalls();
  expect(calls).toEqual([
    {
      futureId: 'f1',
      workflowId: `wf-${s}`,
      sessionId: s,
      agent: 'analyst',
      replica: A,
      priority: 3,
      queueMs: 0,
      serviceMs: 30,
      ok: true,
      promptTokens: 120,
      cachedTokens: 100,
      prefixHash: 'abc',
      at: 1_000_030,
    },
  ]);
  expect(dropped).toBe(1);
  expect(h.d.drainCalls()).toEqual({ calls: [], dropped: 0 });
  expect(h.d.replicaLoads()[0]).toMatchObject({ inFlight: 0, waiting: 0 });
});

test('when a back-off ends, calls that waited elsewhere go back to the recovered replica', async () => {
  const h = harness({ failureThreshold: 1, backoffMs: 1000 });
  const pinned = sessionOn(1, 'p');
  h.d.install(decisions(1, { pins: { analyst: { [pinned]: A } } }));
  void h.acquire('fails', call(sessionOn(0)));
  await settle();
  h.lease('fails').release({ ok: false, replicaUnavailable: true });
  void h.acquire('occupies-b', call(sessionOn(1)));
  void h.acquire('pinned', call(pinned));
  await settle();
  expect(h.names()).toEqual(['fails', 'occupies-b']);
  expect(h.d.waitingCalls()[0]?.replica).toBe(B);
  h.clock.advance(1000);
  h.lease('occupies-b').release({ ok: true });
  await settle();
  expect(h.lease('pinned').replica).toBe(A);
});

describe('managed capacity (Decisions.replicas)', () => {
  const C = 'http://c/v1';

  test("a managed agent's calls go only to the replicas the decisions list, and a new one is reported before any call", async () => {
    const h = harness();
    h.d.install(decisions(1, { replicas: { analyst: [C] } }));
    expect(h.d.replicaLoads().map((r) => r.replica)).toEqual([C]);
    void h.acquire('x', call(sessionOn(0), { maxInFlight: undefined }));
    void h.acquire('y', call(sessionOn(1), { maxInFlight: undefined }));
    await settle();
    expect([h.lease('x').replica, h.lease('y').replica]).toEqual([C, C]);
    // An agent the decisions do not manage keeps its configured replicas.
    void h.acquire('z', call(sessionOn(0), { agent: 'writer', maxInFlight: undefined }));
    await settle();
    expect(h.lease('z').replica).toBe(A);
  });

  test('a replica leaving its agent takes no new call, stays reported while its call runs, then is forgotten', async () => {
    const h = harness();
    h.d.install(decisions(1, { replicas: { analyst: [A, B] } }));
    const s0 = sessionOn(0);
    void h.acquire('first', call(s0));
    await settle();
    expect(h.lease('first').replica).toBe(A);
    h.d.install(decisions(2, { replicas: { analyst: [B] } }));
    void h.acquire('second', call(s0));
    await settle();
    expect(h.lease('second').replica).toBe(B);
    expect(h.d.replicaLoads().find((r) => r.replica === A)).toMatchObject({ inFlight: 1 });
    h.lease('first').release({ ok: true });
    expect(h.d.replicaLoads().map((r) => r.replica)).toEqual([B]);
  });

  test('with no serving replica, calls wait (unreported) and leave as soon as one is listed', async () => {
    const h = harness();
    h.d.install(decisions(1, { replicas: { analyst: [] } }));
    void h.acquire('x', call(sessionOn(0), { maxInFlight: undefined }));
    await settle();
    expect(h.names()).toEqual([]);
    expect(h.d.waitingCalls()).toEqual([]);
    expect(h.d.routeOf('analyst', sessionOn(0))).toBeUndefined();
    h.d.install(decisions(2, { replicas: { analyst: [C] } }));
    await settle();
    expect(h.lease('x').replica).toBe(C);
  });
});
