import { RecordingPrimitives, SnapshotBuilder } from './testing';

describe('SnapshotBuilder', () => {
  test('derives agents, session links and replica queues from what a test adds', () => {
    const s = new SnapshotBuilder({ now: 5_000 })
      .replica('a1', { agent: 'analyst', capacity: 1, inFlight: 1 })
      .replica('a2', { agent: 'analyst', capacity: 1 })
      .workflow('w1', { session: 's1' })
      .future('f1', { workflow: 'w1', agent: 'analyst', stage: 2 })
      .session('s1', { contextTokens: 900, waiting: [{ agent: 'analyst', replica: 'a1', waitedMs: 100 }] })
      .build();
    expect(s.now).toBe(5_000);
    expect(s.agents.get('analyst')).toEqual({ name: 'analyst', replicas: ['a1', 'a2'], waiting: 1, inFlight: 1 });
    expect(s.replicas.get('a1')?.waiting).toBe(1);
    expect(s.sessions.get('s1')).toMatchObject({ workflows: ['w1'], replicas: { analyst: 'a1' } });
    expect(s.sessions.get('s1')?.waiting[0]).toMatchObject({ workflowId: 'w1', promptTokens: 900, priority: 3 });
    expect(s.workflows.get('w1')).toMatchObject({ stage: 2, futures: ['f1'], sessionId: 's1' });
    expect(s.futures.get('f1')).toMatchObject({ sessionId: 's1', workflowId: 'w1', activityType: 'analyst.call' });
  });

  test('a future of a workflow that was not added is a mistake in the test', () => {
    expect(() => new SnapshotBuilder().future('f', { workflow: 'nope', agent: 'a' }).build()).toThrow(/nope/);
  });
});

describe('RecordingPrimitives', () => {
  test('later calls win, and an agent-specific priority over the all-agents one', () => {
    const act = new RecordingPrimitives();
    act.setPriority('s', 4);
    act.setPriority('s', 2);
    act.setPriority('s', 5, 'coder');
    expect(act.priorityOf('s')).toBe(2);
    expect(act.priorityOf('s', 'chat')).toBe(2);
    expect(act.priorityOf('s', 'coder')).toBe(5);
    act.route('chat', ['c1', 'c2'], [1, 3]);
    expect(act.weightsOf('chat')).toEqual({ c1: 1, c2: 3 });
  });

  test('fails loudly on what the global controller refuses', () => {
    const act = new RecordingPrimitives();
    expect(() => act.setPriority('s', 0)).toThrow(/not 1…5/);
    expect(() => act.route('chat', ['c1'], [1, 2])).toThrow(/same length/);
    expect(() => act.route('chat', ['c1'], [-1])).toThrow(/non-negative/);
    expect(() => act.migrate('s', 'a1', 'a1')).toThrow(/same replica/);
    expect(act.actions).toEqual([]);
  });

  test("given the round's snapshot, refuses replicas it does not have and replicas of another agent", () => {
    const snapshot = new SnapshotBuilder()
      .replica('c1', { agent: 'chat' })
      .replica('k1', { agent: 'coder' })
      .replica('k2', { agent: 'coder' })
      .build();
    const act = new RecordingPrimitives(snapshot);
    expect(() => act.route('s', 'chat', 'c9')).toThrow(/no replica c9/);
    expect(() => act.route('s', 'chat', 'k1')).toThrow(/serves coder, not chat/);
    expect(() => act.route('chat', ['c1', 'k1'], [1, 1])).toThrow(/serves coder/);
    expect(() => act.migrate('s', 'c1', 'k1')).toThrow(/serves chat, not coder/);
    act.migrate('s', 'k1', 'k2');
    expect(act.replicaOf('s', 'coder')).toBe('k2');
    expect(act.replicaOf('s', 'chat')).toBeUndefined();
  });
});
