import { ErrorCode, hasErrorCode } from '../../common/errors';
import { highPriority } from './high-priority';
import { runPolicy, SnapshotBuilder } from './testing';

describe('high-priority', () => {
  const snapshot = new SnapshotBuilder()
    .session('vip-1')
    .session('gold-a')
    .session('gold-b')
    .session('regular-7')
    .session('vip-10')
    .session('goldfish')
    .build();

  test('the named sessions (ids and globs) get priority 1 on every agent; the rest keep the default', () => {
    const act = runPolicy(highPriority.create({ sessions: ['vip-1', 'gold-*'] }), snapshot);
    expect(act.priorityOf('vip-1')).toBe(1);
    expect(act.priorityOf('vip-1', 'analyst')).toBe(1);
    expect(act.priorityOf('gold-a')).toBe(1);
    expect(act.priorityOf('gold-b')).toBe(1);
    // An id is matched whole, and only `*` is special.
    for (const other of ['regular-7', 'vip-10', 'goldfish']) expect(act.priorityOf(other)).toBeUndefined();
  });

  test('regex characters in a name are literal', () => {
    const dotted = new SnapshotBuilder().session('a.b').session('axb').build();
    const act = runPolicy(highPriority.create({ sessions: ['a.b'] }), dotted);
    expect(act.priorityOf('a.b')).toBe(1);
    expect(act.priorityOf('axb')).toBeUndefined();
  });

  test('the priority can be another level; with no sessions named it does nothing', () => {
    expect(runPolicy(highPriority.create({ sessions: ['vip-*'], priority: 2 }), snapshot).priorityOf('vip-10')).toBe(2);
    expect(runPolicy(highPriority.create(undefined), snapshot).actions).toEqual([]);
  });

  test('bad params are CONFIG_INVALID naming the policy and the field', () => {
    expect.assertions(2);
    try {
      highPriority.create({ sessions: ['vip-1'], priority: 0 });
    } catch (err) {
      expect(hasErrorCode(err, ErrorCode.CONFIG_INVALID)).toBe(true);
      expect((err as Error).message).toMatch(/^policy 'high-priority': params\.priority: /);
    }
  });
});
