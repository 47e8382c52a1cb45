import { createLogger } from '../../common/log';
import type { StackComponent } from './component';
import { WorkerScaling } from './worker-scaling';

/** A host that records starts and resolves them at once; stops are not expected here. */
function recordingHost(calls: string[]) {
  return {
    start: async (index: number) => void calls.push(`start ${index}`),
    stop: (index: number): Promise<void> => {
      throw new Error(`unexpected stop ${index}`);
    },
  };
}

function setup() {
  const calls: string[] = [];
  const lines: string[] = [];
  const scaling = new WorkerScaling({
    log: createLogger('nalar', 'info', (line) => lines.push(line)),
    pools: [{ taskQueue: 'q', min: 1, max: 3, initial: 1, host: recordingHost(calls) }],
  });
  const sent: unknown[] = [];
  let deliver: (m: unknown) => void = () => {
    throw new Error('not linked');
  };
  scaling.link({ onMessage: (l) => (deliver = l), send: (m) => sent.push(m) > 0 });
  return { scaling, calls, lines, sent, deliver: (m: unknown) => deliver(m) };
}

test('the link sends the pools at once and after every change, and carries out scaleWorkers', async () => {
  const { scaling, calls, sent, deliver } = setup();
  expect(sent).toEqual([{ type: 'workers', pools: [{ taskQueue: 'q', current: 1, desired: 1, min: 1, max: 3 }] }]);
  deliver({ type: 'scaleWorkers', taskQueue: 'q', n: 2 });
  await scaling.pools.get('q')?.settled();
  expect(calls).toEqual(['start 2']);
  expect(sent.at(-1)).toEqual({ type: 'workers', pools: [{ taskQueue: 'q', current: 2, desired: 2, min: 1, max: 3 }] });
});

test('malformed requests and unknown task queues are logged and change nothing; other messages are not ours', () => {
  const { calls, lines, sent, deliver } = setup();
  deliver({ type: 'scaleWorkers', taskQueue: 'q', n: -1 });
  deliver({ type: 'scaleWorkers', taskQueue: 'q' });
  deliver({ type: 'scaleWorkers', taskQueue: 'other', n: 2 });
  deliver({ type: 'controller-ready', url: 'http://127.0.0.1:1' });
  deliver('noise');
  expect(calls).toEqual([]);
  expect(sent).toHaveLength(1);
  expect(lines.filter((l) => l.includes('malformed scaleWorkers request'))).toHaveLength(1);
  expect(lines.join('\n')).toContain('scaleWorkers(other, 2): no worker pool on that task queue');
});

test("exits of the pool workers are the pool's to judge; other components are not tolerated", () => {
  const { scaling } = setup();
  const component = (name: string) => ({ name }) as StackComponent;
  expect(scaling.workerExited(component('gateway'), { code: 1, signal: null })).toBe(false);
  // worker-1 is the only one: below min 1 without it.
  expect(scaling.workerExited(component('worker-1'), { code: 1, signal: null })).toBe(false);
});
