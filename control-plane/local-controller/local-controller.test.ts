import type { FutureEvent } from '../../stubs/workflow/types';
import { LocalController } from './local-controller';

const event = (n: number, workflowId = 'wf'): FutureEvent =>
  ({
    type: 'created',
    futureId: `${workflowId}/${n}`,
    workflowId,
    runId: 'r',
    at: n,
    meta: {},
  }) as unknown as FutureEvent;

test('keeps the most recent `capacity` events, oldest first', () => {
  const c = new LocalController({ capacity: 3 });
  for (let n = 1; n <= 10; n++) c.record(event(n));
  expect(c.recent().map((e) => e.at)).toEqual([8, 9, 10]);
});

test('subscribers see every event; a throwing subscriber does not stop the others', () => {
  const c = new LocalController();
  const seen: number[] = [];
  c.subscribe(() => {
    throw new Error('broken listener');
  });
  const unsubscribe = c.subscribe((e) => seen.push(e.at));
  c.record(event(1));
  unsubscribe();
  c.record(event(2));
  expect(seen).toEqual([1]);
  expect(c.recent('wf').map((e) => e.at)).toEqual([1, 2]);
  expect(c.recent('other')).toEqual([]);
});
