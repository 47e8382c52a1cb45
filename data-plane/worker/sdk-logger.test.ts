import { createLogger } from '../../common/log';
import { sdkLogger } from './sdk-logger';
import { RecentKeys } from './task-failure-log';

function collect(level: 'debug' | 'info' = 'info') {
  const lines: string[] = [];
  return { lines, logger: sdkLogger(createLogger('worker', level, (line) => lines.push(line))) };
}

test('a warning about one workflow run is written once per run, its repeats only at debug', () => {
  const { lines, logger } = collect();
  for (let attempt = 1; attempt <= 5; attempt++) {
    logger.warn('Workflow failed', { runId: 'run-a', workflowId: 'wf-a', error: new TypeError('boom') });
    logger.warn('Failing workflow task', { run_id: 'run-a', failure: 'Failure { message: "boom" }' });
  }
  logger.warn('Workflow failed', { runId: 'run-b', workflowId: 'wf-b' });
  expect(lines).toHaveLength(3);
  expect(lines[0]).toMatch(/ warn {2}\[worker\] Workflow failed runId=run-a workflowId=wf-a error="TypeError: boom"$/);
  expect(lines[1]).toMatch(/Failing workflow task run_id=run-a failure=/);
  expect(lines[2]).toMatch(/Workflow failed runId=run-b/);
  // Plain text: no ANSI colour codes, whatever the output is (the npm-start test checks a real stack's output).
  expect(lines.join('')).not.toContain('\x1b[');
});

test('lines about no run are all written, at their level; long values are cut', () => {
  const { lines, logger } = collect('debug');
  logger.warn('poll error', {});
  logger.warn('poll error', {});
  logger.trace('detail', { big: 'x'.repeat(2000) });
  logger.log('ERROR', 'fatal', { runId: 'r' });
  expect(lines.map((l) => l.split(' ')[1])).toEqual(['warn', 'warn', 'debug', 'error']);
  expect(lines[2]!.length).toBeLessThan(600);
});

test('RecentKeys forgets the oldest key beyond its capacity', () => {
  const keys = new RecentKeys(2);
  expect([keys.add('a'), keys.add('a'), keys.add('b'), keys.add('c'), keys.add('a'), keys.add('c')]).toEqual([
    true,
    false,
    true,
    true,
    true,
    false,
  ]);
});
