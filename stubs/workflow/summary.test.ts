import { futureSummary, shortFutureId, SUMMARY_MAX_BYTES } from './summary';

const f = (activityType: string, n: number) => ({ activityType, id: `wf-1/with/slashes/${n}` });
const payloadBytes = (s: string) => Buffer.byteLength(JSON.stringify(s));

test('names the method and call number, then each dependency in argument order', () => {
  expect(futureSummary(f('writer.draft', 3), [f('writer.plan', 1), f('textTools.search', 2)])).toBe(
    'writer.draft #3 ← writer.plan #1, textTools.search #2',
  );
  expect(futureSummary(f('textTools.shout', 1), [])).toBe('textTools.shout #1');
  expect(shortFutureId('a/b/12')).toBe('#12');
});

test('a wide fan-in is cut to the byte budget and counts the dependencies left out', () => {
  const deps = Array.from({ length: 50 }, (_, i) => f('textTools.shout', i + 1));
  const summary = futureSummary(f('textTools.join', 51), deps);
  expect(payloadBytes(summary)).toBeLessThanOrEqual(SUMMARY_MAX_BYTES);
  expect(summary).toMatch(/^textTools\.join #51 ← textTools\.shout #1, textTools\.shout #2, .*… \+\d+ more$/);
  const shown = summary.match(/textTools\.shout #/g)?.length ?? 0;
  expect(summary).toContain(`+${50 - shown} more`);
});

test('one line and within the budget whatever the names hold', () => {
  const summary = futureSummary(f(`agent.${'é"\n'.repeat(200)}`, 1), [f('x\ny', 2)]);
  expect(summary).not.toMatch(/\n/);
  expect(payloadBytes(summary)).toBeLessThanOrEqual(SUMMARY_MAX_BYTES);
  expect(summary.endsWith('…') || summary.includes('←')).toBe(true);
});
