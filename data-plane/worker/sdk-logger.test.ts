import { sdkLogger } from './sdk-logger';

function logged(color: boolean): string {
  const lines: string[] = [];
  const logger = sdkLogger('info', color, (line) => lines.push(line));
  logger.info('Worker state changed', { taskQueue: 'nalar', state: 'RUNNING', attempt: 1 });
  logger.debug('not shown at info');
  return lines.join('');
}

test('the SDK logger writes no ANSI codes unless colours are on', () => {
  const plain = logged(false);
  expect(plain).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z \[INFO\] Worker state changed \{.*taskQueue: 'nalar'/);
  expect(plain).not.toContain('\x1b[');
  expect(plain).not.toContain('not shown');
  expect(logged(true)).toContain('\x1b[');
});
