import { attainedService } from './attained-service';
import { runPolicy, SnapshotBuilder } from './testing';

describe('attained-service', () => {
  const snapshot = new SnapshotBuilder()
    .session('fresh', { attainedServiceMs: 0 })
    .session('short', { attainedServiceMs: 400 })
    .session('some', { attainedServiceMs: 1_200 })
    .session('more', { attainedServiceMs: 3_000 })
    .session('long', { attainedServiceMs: 6_000 })
    .session('hog', { attainedServiceMs: 600_000 })
    .build();

  test('programs that received less model time go first, in levels that double (500 ms, 1 s, 2 s, 4 s, …)', () => {
    const act = runPolicy(attainedService.create({}), snapshot);
    const levels = ['fresh', 'short', 'some', 'more', 'long', 'hog'].map((s) => act.priorityOf(s));
    expect(levels).toEqual([1, 1, 2, 3, 4, 5]);
  });

  test('the quantum sets the first level', () => {
    const act = runPolicy(attainedService.create({ quantumMs: 10_000 }), snapshot);
    expect(act.priorityOf('long')).toBe(1);
    expect(act.priorityOf('hog')).toBe(5);
  });

  test('bad params are CONFIG_INVALID naming the field', () => {
    expect(() => attainedService.create({ quantumMs: 0 })).toThrow(/policy 'attained-service': params\.quantumMs: /);
  });
});
