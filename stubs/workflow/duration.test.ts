import { msToNumber } from '@temporalio/common/lib/time';
import type { Duration } from '@temporalio/common';
import { durationToMs } from './duration';

test.each<Duration>([
  0,
  1500,
  '250',
  '250ms',
  '1.5s',
  '30 seconds',
  '2 minutes',
  '1h',
  '3 hrs',
  '2 days',
  '1w',
  '1y',
  '.5m',
  '10 MS',
])("durationToMs(%p) agrees with Temporal's msToNumber", (d) => {
  expect(durationToMs(d)).toBe(msToNumber(d));
});

test.each(['', 'soon', '5 fortnights', '1e3s'])('durationToMs(%p) rejects what msToNumber rejects', (d) => {
  expect(() => msToNumber(d as Duration)).toThrow();
  expect(() => durationToMs(d as Duration)).toThrow(`invalid duration string: '${d}'`);
});
