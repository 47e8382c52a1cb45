import type { CallRecord, Report, ReportedFutureEvent, WaitingCall } from '../protocol';
import { ControlView, maxWatchedTaskQueues, watchedTaskQueueMs } from './view';

const periodMs = 250;
const t0 = 1_700_000_000_000;

/** A report of `node` with only what the test gives. */
function reportOf(node: string, seq: number, parts: Partial<Report> = {}): Report {
  return {
    node,
    seq,
    decisionsVersion: 0,
    taskQueues: ['nalar'],
    events: [],
    calls: [],
    waiting: [],
    replicas: [],
    at: t0,
    ...parts,
  };
}

function event(
  type: ReportedFutureEvent['type'],
  futureId: string,
  activityType: string,
  at: number,
  dependencies: string[] = [],
  workflowId = 'wf-1',
  sessionId = 's-1',
): ReportedFutureEvent {
  return { type, futureId, workflowId, sessionId, activityType, dependencies, at };
}

function call(parts: Partial<CallRecord> & Pick<CallRecord, 'replica' | 'serviceMs'>): CallRecord {
  return {
    workflowId: 'wf-1',
    sessionId: 's-1',
    agent: 'planner',
    priority: 3,
    queueMs: 0,
    ok: true,
    at: t0,
    ...parts,
  };
}

function waiting(parts: Partial<WaitingCall> = {}): WaitingCall {
  return {
    workflowId: 'wf-1',
    sessionId: 's-1',
    agent: 'planner',
    replica: 'http://r1/v1',
    priority: 3,
    since: t0,
    promptTokens: 500,
    ...parts,
  };
}

test('the graph: futures with their states, dependencies and stages; a workflow reaches its deepest stage', () => {
  const view = new ControlView({ periodMs });
  // a, b independent; c waits for both; d waits for c; a late 'created' of a started future changes nothing.
  view.merge(
    reportOf('n1', 0, {
      events: [
        event('created', 'a', 'planner.plan', t0),
        event('created', 'b', 'search.query', t0),
        event('created', 'c', 'writer.draft', t0 + 1, ['a', 'b']),
        event('created', 'd', 'writer.edit', t0 + 2, ['c']),
        event('started', 'a', 'planner.plan', t0 + 3),
      ],
    }),
    t0,
  );
  view.merge(reportOf('n2', 0, { events: [event('created', 'a', 'planner.plan', t0)] }), t0);
  expect(view.futures.get('a')).toMatchObject({ state: 'started', stage: 0, agent: 'planner', workflowId: 'wf-1' });
  expect(view.futures.get('c')).toMatchObject({ stage: 1, dependencies: ['a', 'b'], agent: 'writer' });
  expect(view.futures.get('d')?.stage).toBe(2);
  const wf = view.workflows.get('wf-1');
  expect(wf).toMatchObject({ stage: 2, sessionId: 's-1', futures: ['a', 'b', 'c', 'd'], reentries: 0 });
  expect(view.sessions.get('s-1')?.workflows).toEqual(['wf-1']);
});

test('re-entries: work of an agent created after one of its calls finished counts; parallel calls of one round do not', () => {
  const view = new ControlView({ periodMs });
  const e = (type: ReportedFutureEvent['type'], id: string, agent: string, at: number, deps: string[] = []) =>
    event(type, id, `${agent}.run`, at, deps);
  view.merge(
    reportOf('n1', 0, {
      events: [
        // Round 1: planner, two parallel developers, tester.
        e('created', 'p1', 'planner', t0),
        e('completed', 'p1', 'planner', t0 + 10),
        e('created', 'd1', 'developer', t0 + 11, ['p1']),
        e('created', 'd2', 'developer', t0 + 11, ['p1']),
        e('completed', 'd1', 'developer', t0 + 20),
        e('failed', 'd2', 'developer', t0 + 21),
        e('created', 't1', 'tester', t0 + 22, ['d1', 'd2']),
        e('completed', 't1', 'tester', t0 + 30),
        // Round 2: the failed work re-enters the planner and the developers.
        e('created', 'p2', 'planner', t0 + 31, ['t1']),
        e('created', 'd3', 'developer', t0 + 40, ['p2']),
      ],
    }),
    t0,
  );
  expect(view.workflows.get('wf-1')).toMatchObject({ reentries: 2, stage: 4 });
  expect(view.futures.get('d2')?.state).toBe('failed');
});

test('sessions: attained service, context, prefix, where they last ran, and their waiting calls with waited time', () => {
  const view = new ControlView({ periodMs });
  view.merge(
    reportOf('n1', 0, {
      calls: [
        call({
          replica: 'http://r1/v1',
          serviceMs: 100,
          ttftMs: 60,
          promptTokens: 1000,
          cachedTokens: 0,
          prefixHash: 'h1',
        }),
        call({
          replica: 'http://r2/v1',
          serviceMs: 50,
          ttftMs: 30,
          promptTokens: 1300,
          cachedTokens: 1000,
          prefixHash: 'h1',
        }),
        // Too few uncached tokens to learn from (fixed request costs would dominate).
        call({
          replica: 'http://r2/v1',
          serviceMs: 0,
          ttftMs: 30,
          promptTokens: 1300,
          cachedTokens: 1200,
          prefixHash: 'h1',
        }),
      ],
      waiting: [waiting({ since: t0 - 400 })],
    }),
    t0,
  );
  view.setNow(t0 + 100);
  const s = view.sessions.get('s-1')!;
  expect(s.attainedServiceMs).toBe(150);
  expect(s.contextTokens).toBe(1300);
  expect(s.prefixHash).toBe('h1');
  expect(s.replicas).toEqual({ planner: 'http://r2/v1' });
  expect(s.waiting).toHaveLength(1);
  expect(s.waiting[0]!.waitedMs).toBe(500);
  // The sessions with waiting calls, for policies about waiting work (no pass over every session).
  expect(view.waitingSessions.map((w) => w.id)).toEqual(['s-1']);
  // It moved: r2 holds it now, r1 no longer; both remember the prefix.
  expect(view.replicas.get('http://r2/v1')?.residentSessions).toEqual(['s-1']);
  expect(view.replicas.get('http://r1/v1')?.residentSessions).toEqual([]);
  expect(view.replicas.get('http://r1/v1')?.residentPrefixes).toEqual(['h1']);
  // Learned prefill: time to first token over uncached tokens (r1: 60 ms / 1000; r2: 30 ms / 300), not the
  // whole service time (which counts decoding too).
  expect(view.replicas.get('http://r1/v1')?.prefillMsPerToken).toBeCloseTo(0.06);
  expect(view.replicas.get('http://r2/v1')?.prefillMsPerToken).toBeCloseTo(0.1);
  // Pins in force show as its replicas, priorities as its priorities.
  view.setDecisions({ pins: { planner: { 's-1': 'http://r1/v1' } }, priorities: { 's-1': { '*': 1 } } });
  expect(s.replicas).toEqual({ planner: 'http://r1/v1' });
  expect(s.priorities).toEqual({ '*': 1 });
});

test('replicas merge every node’s load; a node’s next report replaces its share; means move towards new calls', () => {
  const view = new ControlView({ periodMs });
  const load = (inFlight: number, waitingCalls: number, healthy = true) => ({
    agent: 'planner',
    replica: 'http://r1/v1',
    inFlight,
    waiting: waitingCalls,
    limit: null,
    capacity: 8,
    healthy,
  });
  view.merge(reportOf('n1', 0, { replicas: [load(2, 1)] }), t0);
  view.merge(reportOf('n2', 0, { replicas: [load(3, 4, false)] }), t0);
  let r = view.replicas.get('http://r1/v1')!;
  expect(r).toMatchObject({ inFlight: 5, waiting: 5, capacity: 8, agent: 'planner' });
  expect(r.healthy).toBe(true); // one of two nodes sees it healthy: not enough to take it out
  view.merge(reportOf('n1', 1, { replicas: [load(0, 0, false)] }), t0 + periodMs);
  r = view.replicas.get('http://r1/v1')!;
  expect(r).toMatchObject({ inFlight: 3, waiting: 4 });
  expect(r.healthy).toBe(false);
  const planner = view.agents.get('planner')!;
  expect(planner).toMatchObject({ name: 'planner', replicas: ['http://r1/v1'], inFlight: 3, waiting: 4 });

  view.merge(reportOf('n1', 2, { calls: [call({ replica: 'http://r1/v1', serviceMs: 100, queueMs: 10 })] }), t0);
  view.merge(reportOf('n1', 3, { calls: [call({ replica: 'http://r1/v1', serviceMs: 200, queueMs: 10 })] }), t0);
  r = view.replicas.get('http://r1/v1')!;
  expect(r.meanServiceMs).toBeGreaterThan(100);
  expect(r.meanServiceMs).toBeLessThan(200);
  expect(r.meanQueueMs).toBe(10);
});

test('a duplicate report is ignored; a restarted node (seq 0) replaces its state with its next report', () => {
  const view = new ControlView({ periodMs });
  const c = call({ replica: 'http://r1/v1', serviceMs: 100 });
  expect(view.merge(reportOf('n1', 0, { calls: [c], waiting: [waiting()] }), t0)).toBe('accepted');
  expect(view.merge(reportOf('n1', 1, { calls: [c], waiting: [waiting()] }), t0)).toBe('accepted');
  // The same report again (a retried POST): not counted twice.
  expect(view.merge(reportOf('n1', 1, { calls: [c], waiting: [waiting()] }), t0)).toBe('duplicate');
  expect(view.sessions.get('s-1')?.attainedServiceMs).toBe(200);
  // The node restarted: its calls in waiting are gone, its seq starts again.
  expect(view.merge(reportOf('n1', 0), t0 + 10)).toBe('restarted');
  expect(view.sessions.get('s-1')?.waiting).toEqual([]);
  expect(view.merge(reportOf('n1', 1, { calls: [c] }), t0 + 20)).toBe('accepted');
  expect(view.sessions.get('s-1')?.attainedServiceMs).toBe(300);
  // Restarted again, and its first report (seq 0) was lost: seq 1 after seq 1 is a retry, but 1 after 5 is not.
  view.merge(reportOf('n1', 5), t0 + 30);
  expect(view.merge(reportOf('n1', 1, { waiting: [waiting()] }), t0 + 40)).toBe('restarted');
  expect(view.sessions.get('s-1')?.waiting).toHaveLength(1);
});

test('a node silent for 3 periods is dropped with its waiting calls and its load; the others stay', () => {
  const view = new ControlView({ periodMs });
  const load = (node: number) => ({
    agent: 'planner',
    replica: 'http://r1/v1',
    inFlight: node,
    waiting: 1,
    limit: null,
    capacity: null,
    healthy: true,
  });
  view.merge(reportOf('n1', 0, { replicas: [load(1)], waiting: [waiting({ sessionId: 's-a' })] }), t0);
  view.merge(reportOf('n2', 0, { replicas: [load(2)], waiting: [waiting({ sessionId: 's-b' })] }), t0);
  // n2 keeps reporting, n1 goes quiet.
  for (let i = 1; i <= 3; i++) {
    view.merge(reportOf('n2', i, { replicas: [load(2)], waiting: [waiting({ sessionId: 's-b' })] }), t0 + i * periodMs);
    const result = view.expire(t0 + i * periodMs);
    expect(result.nodesDropped).toEqual(i < 3 ? [] : ['n1']);
  }
  expect([...view.nodes.keys()]).toEqual(['n2']);
  expect(view.replicas.get('http://r1/v1')).toMatchObject({ inFlight: 2, waiting: 1 });
  expect(view.sessions.get('s-a')?.waiting ?? []).toEqual([]);
  expect(view.sessions.get('s-b')?.waiting).toHaveLength(1);
});

test('eviction: a finished workflow goes after the retention period without events, with its futures and session', () => {
  const view = new ControlView({ periodMs, retentionMs: 1000 });
  view.merge(
    reportOf('n1', 0, {
      events: [
        event('created', 'a', 'planner.plan', t0),
        event('completed', 'a', 'planner.plan', t0),
        event('created', 'x', 'planner.plan', t0, [], 'wf-2', 's-2'),
      ],
    }),
    t0,
  );
  expect(view.expire(t0 + 999).workflowsEvicted).toBe(0);
  // An event of wf-1 renews its retention.
  view.merge(reportOf('n1', 1, { events: [event('completed', 'a', 'planner.plan', t0)] }), t0 + 500);
  expect(view.expire(t0 + 1000).workflowsEvicted).toBe(0);
  const result = view.expire(t0 + 1500);
  expect(result).toMatchObject({ workflowsEvicted: 1, sessionsEnded: ['s-1'] });
  expect(view.futures.has('a')).toBe(false);
  expect(view.workflows.has('wf-1')).toBe(false);
  expect(view.sessions.has('s-1')).toBe(false);
  // wf-2 still has an open future: kept however old.
  expect(view.expire(t0 + 1_000_000).workflowsEvicted).toBe(0);
  expect(view.workflows.get('wf-2')?.futures).toEqual(['x']);
});

test('a restarted controller (an empty view) rebuilds what the next reports say', () => {
  const view = new ControlView({ periodMs });
  // Futures created before the restart are first seen in a later state; their dependencies are unknown.
  view.merge(
    reportOf('n1', 57, {
      events: [event('started', 'c', 'writer.draft', t0, ['a', 'b']), event('created', 'd', 'writer.edit', t0, ['c'])],
    }),
    t0,
  );
  expect(view.futures.get('c')).toMatchObject({ state: 'started', stage: 1 });
  expect(view.futures.get('d')?.stage).toBe(2);
  expect(view.nodes.get('n1')?.lastSeq).toBe(57);
});

test('a task queue asked about is read although no node polls it, until it has not been asked for a while', () => {
  const view = new ControlView({ periodMs });
  view.setNow(t0);
  view.merge(reportOf('n1', 1), t0);
  expect([...view.taskQueues()]).toEqual(['nalar']);
  // KEDA asks about the queue of workers scaled to zero: no node polls it, its backlog is read all the same.
  view.watchTaskQueue('scaled-to-zero');
  expect([...view.taskQueues()].sort()).toEqual(['nalar', 'scaled-to-zero']);
  // Asked again within the window: kept from the later question.
  view.setNow(t0 + watchedTaskQueueMs - 1);
  view.watchTaskQueue('scaled-to-zero');
  view.setNow(t0 + 2 * watchedTaskQueueMs - 2);
  expect(view.taskQueues().has('scaled-to-zero')).toBe(true);
  // Not asked for longer than the window (its ScaledObject is gone): dropped.
  view.setNow(t0 + 2 * watchedTaskQueueMs);
  expect(view.taskQueues().has('scaled-to-zero')).toBe(false);
  // Stray names stay bounded: the one asked about longest ago goes first.
  for (let i = 0; i <= maxWatchedTaskQueues; i++) view.watchTaskQueue(`q${i}`);
  const queues = view.taskQueues();
  expect(queues.has('q0')).toBe(false);
  expect(queues.has(`q${maxWatchedTaskQueues}`)).toBe(true);
  expect(queues.size).toBe(maxWatchedTaskQueues + 1); // and 'nalar', which n1 polls
});
