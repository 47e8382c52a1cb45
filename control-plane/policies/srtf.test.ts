import { srtf } from './srtf';
import { runPolicy, SnapshotBuilder } from './testing';

describe('srtf', () => {
  test('sessions whose workflows reached later stages go first', () => {
    const snapshot = new SnapshotBuilder()
      .workflow('w-new', { session: 'new', stage: 0 })
      .workflow('w-mid', { session: 'mid', stage: 1 })
      .workflow('w-late', { session: 'late', stage: 3 })
      .workflow('w-last', { session: 'last', stage: 9 })
      .build();
    const act = runPolicy(srtf.create({}), snapshot);
    const order = ['last', 'late', 'mid', 'new'].map((s) => act.priorityOf(s) ?? 0);
    expect(order).toEqual([1, 2, 4, 5]);
  });

  test("a session's priority follows its furthest workflow, whose stage comes from its futures' graph", () => {
    const snapshot = new SnapshotBuilder()
      .workflow('w1', { session: 's' })
      .workflow('w2', { session: 's' })
      .future('plan', { workflow: 'w2', agent: 'planner', stage: 0 })
      .future('code', { workflow: 'w2', agent: 'developer', stage: 1, dependencies: ['plan'] })
      .future('test', { workflow: 'w2', agent: 'tester', stage: 2, dependencies: ['code'] })
      .build();
    expect(runPolicy(srtf.create({}), snapshot).priorityOf('s')).toBe(3);
  });

  test('takes no params', () => {
    expect(() => srtf.create({ stages: 3 })).toThrow(/policy 'srtf': params: .*stages/);
  });
});
