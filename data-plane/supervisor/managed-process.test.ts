import { ErrorCode, hasErrorCode } from '../../common/errors';
import { waitFor } from '../../test/helpers/wait-for';
import { processAlive } from './process-alive';
import { ManualClock } from '../../common/clock';
import { ManagedProcess, type LineSink } from './managed-process';

const alive = processAlive;

function collect(): { sink: LineSink; lines: string[] } {
  const lines: string[] = [];
  return { lines, sink: (name, stream, line) => lines.push(`${name}/${stream}: ${line}`) };
}

function lineMatching(lines: string[], re: RegExp): Promise<string> {
  return waitFor(() => lines.find((l) => re.test(l)), {
    what: () => `a line matching ${re} in:\n${lines.join('\n')}`,
  });
}

test('output is delivered line by line with the process name and stream', async () => {
  const { sink, lines } = collect();
  const proc = await ManagedProcess.start(
    { name: 'echo', command: 'sh', args: ['-c', 'echo out-line; echo err-line >&2'] },
    sink,
  );
  await expect(proc.exited).resolves.toEqual({ code: 0, signal: null });
  await lineMatching(lines, /err-line/);
  expect(lines).toEqual(expect.arrayContaining(['echo/stdout: out-line', 'echo/stderr: err-line']));
});

test('stop sends SIGINT and a process that handles it exits by itself', async () => {
  const { sink, lines } = collect();
  const proc = await ManagedProcess.start(
    {
      name: 'polite',
      command: 'sh',
      args: ['-c', 'trap "echo bye; exit 0" INT; echo up; while :; do sleep 0.1; done'],
    },
    sink,
  );
  await lineMatching(lines, /up/);
  // A generous grace: it bounds a hang; the process exits as soon as it handles the signal.
  await expect(proc.stop(30_000)).resolves.toEqual({ code: 0, signal: null });
  expect(lines).toContain('polite/stdout: bye');
});

test('a process that ignores SIGINT is killed after the grace time, with everything it spawned', async () => {
  const { sink, lines } = collect();
  const proc = await ManagedProcess.start(
    {
      name: 'stubborn',
      command: 'sh',
      args: ['-c', 'trap "echo ignored INT" INT; sleep 60 & echo child=$!; while :; do sleep 0.1; done'],
    },
    sink,
  );
  const childPid = Number((await lineMatching(lines, /child=\d+/)).split('=')[1]);
  expect(alive(childPid)).toBe(true);
  // The grace runs on a stepped clock: SIGKILL comes exactly when the grace has passed, not before.
  const clock = new ManualClock();
  const stopped = proc.stop(300, clock);
  await lineMatching(lines, /ignored INT/);
  clock.advance(299);
  expect(proc.running).toBe(true);
  clock.advance(1);
  const status = await stopped;
  expect(status.signal).toBe('SIGKILL');
  expect(proc.running).toBe(false);
  // The grandchild was in the same process group; the kernel reaps it in its own time.
  await waitFor(() => !alive(childPid), { what: `the grandchild ${childPid} to be gone` });
});

test('stopping a process that already exited is a no-op', async () => {
  const proc = await ManagedProcess.start({ name: 'quick', command: 'true' }, collect().sink);
  await proc.exited;
  await expect(proc.stop(100)).resolves.toEqual({ code: 0, signal: null });
});

test('a missing binary fails at start with the process name', async () => {
  const err = await ManagedProcess.start({ name: 'ghost', command: '/nonexistent/binary' }, collect().sink).catch(
    (e: unknown) => e,
  );
  expect(hasErrorCode(err, ErrorCode.PROCESS_EXITED)).toBe(true);
  expect((err as Error).message).toMatch(/^ghost: .*ENOENT/);
});
