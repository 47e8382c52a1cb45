import { priorityChanges } from './priority-signals';

describe('priorityChanges', () => {
  test('a session whose priorities are the same gets no signal', () => {
    expect(priorityChanges({ s: { '*': 1, coder: 2 } }, { s: { coder: 2, '*': 1 } })).toEqual([]);
    expect(priorityChanges({}, {})).toEqual([]);
  });

  test('a new or changed key is set; for every agent, the signal names none', () => {
    expect(priorityChanges({ s: { '*': 3 } }, { s: { '*': 1, coder: 5 }, t: { planner: 2 } })).toEqual([
      { session: 's', signal: { value: 1 } },
      { session: 's', signal: { value: 5, agent: 'coder' } },
      { session: 't', signal: { value: 2, agent: 'planner' } },
    ]);
  });

  test('a key that is gone, or a session that is gone, is cleared with null', () => {
    expect(priorityChanges({ s: { '*': 1, coder: 2 }, t: { '*': 4 } }, { s: { '*': 1 } })).toEqual([
      { session: 's', signal: { value: null, agent: 'coder' } },
      { session: 't', signal: { value: null } },
    ]);
  });
});
