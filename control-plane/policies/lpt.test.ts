import { lpt } from './lpt';
import { runPolicy, SnapshotBuilder } from './testing';

describe('lpt', () => {
  test('sessions whose work re-entered go first, more re-entries further; the rest keep their priority', () => {
    const snapshot = new SnapshotBuilder()
      .workflow('w-clean', { session: 'clean' })
      .workflow('w-once', { session: 'once', reentries: 1 })
      .workflow('w-twice', { session: 'twice', reentries: 2 })
      .workflow('w-many', { session: 'many', reentries: 7 })
      .build();
    const act = runPolicy(lpt.create({}), snapshot);
    expect(act.priorityOf('twice')).toBe(1);
    expect(act.priorityOf('many')).toBe(1);
    expect(act.priorityOf('once')).toBe(2);
    expect(act.priorityOf('clean')).toBeUndefined();
  });

  test('takes no params', () => {
    expect(() => lpt.create({ x: 1 })).toThrow(/policy 'lpt'/);
  });
});
