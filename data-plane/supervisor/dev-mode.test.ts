import { ManualClock } from '../../common/clock';
import { createLogger } from '../../common/log';
import { DevMode, isWatchedFile } from './dev-mode';

test('worker code is watched; tests, generated stubs, dot files and docs are not', () => {
  expect(isWatchedFile('activities/hello-agent.ts')).toBe(true);
  expect(isWatchedFile('workflows/index.ts')).toBe(true);
  expect(isWatchedFile('activities/tools/corpus.json')).toBe(true);
  expect(isWatchedFile('activities/tools/search.test.ts')).toBe(false);
  expect(isWatchedFile('stubs/generated/writer.ts')).toBe(false);
  expect(isWatchedFile('workflows/.hello-agent.ts.swp')).toBe(false);
  expect(isWatchedFile('activities/README.md')).toBe(false);
});

test('a burst of changes makes one restart, after the changes pause', async () => {
  const clock = new ManualClock();
  const lines: string[] = [];
  let restarts = 0;
  const dev = new DevMode({
    root: '/nonexistent',
    log: createLogger('nalar', 'info', (l) => lines.push(l)),
    restartWorkers: async () => {
      restarts++;
    },
    debounceMs: 200,
    clock,
  });
  dev.fileChanged('activities/hello-agent.ts');
  clock.advance(150);
  dev.fileChanged('workflows/hello-agent.ts');
  dev.fileChanged('activities/hello-agent.test.ts');
  clock.advance(150);
  expect(restarts).toBe(0); // still within 200 ms of the last change
  clock.advance(50);
  await dev.idle();
  expect(restarts).toBe(1);
  expect(lines.join('\n')).toContain('changed: activities/hello-agent.ts, workflows/hello-agent.ts');
  expect(lines.join('\n')).not.toContain('hello-agent.test.ts');
  expect(lines.join('\n')).toContain('workers restarted with the changed code');
});

test('a worker that does not start is reported, and the next change restarts again', async () => {
  const clock = new ManualClock();
  const lines: string[] = [];
  let attempts = 0;
  const dev = new DevMode({
    root: '/nonexistent',
    log: createLogger('nalar', 'info', (l) => lines.push(l)),
    restartWorkers: async () => {
      if (++attempts === 1) throw new Error('worker-1 exited before it was ready');
    },
    clock,
  });
  dev.fileChanged('activities/hello-agent.ts');
  clock.advance(1_000);
  await dev.idle();
  expect(lines.join('\n')).toContain('workers did not start (Error: worker-1 exited before it was ready)');
  dev.fileChanged('activities/hello-agent.ts');
  clock.advance(1_000);
  await dev.idle();
  expect(attempts).toBe(2);
  expect(lines.at(-1)).toContain('workers restarted with the changed code');
});
