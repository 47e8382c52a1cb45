/**
 * Temporal `Duration` (a number of milliseconds or a string such as `'30 seconds'`) to milliseconds, inside
 * the workflow sandbox. It follows the grammar of the `ms` package that Temporal's own `msToNumber` uses
 * (`@temporalio/common` is not part of the sandbox allow-list); duration.test.ts checks they agree.
 */
import type { Duration } from '@temporalio/common';

const unitMs: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_557_600_000,
};

const units: [RegExp, keyof typeof unitMs][] = [
  [/^(milliseconds?|msecs?|ms)$/, 'ms'],
  [/^(seconds?|secs?|s)$/, 's'],
  [/^(minutes?|mins?|m)$/, 'm'],
  [/^(hours?|hrs?|h)$/, 'h'],
  [/^(days?|d)$/, 'd'],
  [/^(weeks?|w)$/, 'w'],
  [/^(years?|yrs?|y)$/, 'y'],
];

/** Milliseconds of `duration`; throws a TypeError naming the value when it is not a duration. */
export function durationToMs(duration: Duration): number {
  if (typeof duration === 'number') return duration;
  const match = /^(-?(?:\d+)?\.?\d+) *([a-z]*)$/i.exec(String(duration));
  const unit = match && (match[2] === '' ? 'ms' : units.find(([re]) => re.test(match[2]!.toLowerCase()))?.[1]);
  if (!match || !unit) throw new TypeError(`invalid duration string: '${String(duration)}'`);
  return Number(match[1]) * unitMs[unit]!;
}
