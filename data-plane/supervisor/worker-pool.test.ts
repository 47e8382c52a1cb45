import { ManualClock } from '../../common/clock';
import { createLogger } from '../../common/log';
import type { WorkerPoolStatus } from '../../control-plane/capacity/worker-scaler';
import { WorkerPool, type WorkerPoolHost } from './worker-pool';

/** A host whose starts and stops stay pending until the test settles them; anything unexpected throws. */
class FakeHost implements WorkerPoolHost {
  readonly calls: string[] = [];
  private pending: { what: string; resolve: () => void; reject: (err: Error) => void } | undefined;

  start(index: number): Promise<void> {
    return this.record(`start ${index}`);
  }

  stop(index: number): Promise<void> {
    return this.record(`stop ${index}`);
  }

  /** Settles the one pending call, which must be `what`. */
  async finish(what: string, err?: Error): Promise<void> {
    const p = this.pending;
    if (!p) throw new Error(`expected a pending ${what}, none is pending (calls: ${this.calls.join(', ')})`);
    if (p.what !== what) throw new Error(`expected a pending ${what}, got ${p.what}`);
    this.pending = undefined;
    if (err) p.reject(err);
    else p.resolve();
    // Let the pool's step continue up to its next call.
    for (let i = 0; i < 10; i++) await Promise.resolve();
  }

  get busy(): string | undefined {
    return this.pending?.what;
  }

  private record(what: string): Promise<void> {
    if (this.pending) throw new Error(`${what} while ${this.pending.what} is pending: two changes at once`);
    this.calls.push(what);
    return new Promise((resolve, reject) => (this.pending = { what, resolve, reject }));
  }
}

function setup(options: { initial?: number; min?: number; max?: number; clock?: ManualClock } = {}) {
  const host = new FakeHost();
  const lines: string[] = [];
  const changes: WorkerPoolStatus[] = [];
  const pool = new WorkerPool({
    taskQueue: 'q',
    min: options.min ?? 1,
    max: options.max ?? 4,
    initial: options.initial ?? 1,
    host,
    log: createLogger('nalar', 'info', (line) => lines.push(line)),
    onChange: (s) => changes.push(s),
    ...(options.clock && { clock: options.clock }),
  });
  return { host, pool, lines, changes };
}

test('scales up one worker at a time, with the lowest free names, and down from the highest', async () => {
  const { host, pool, lines, changes } = setup();
  expect(pool.status()).toEqual({ taskQueue: 'q', current: 1, desired: 1, min: 1, max: 4 });
  expect(pool.scale(3)).toBe(3);
  expect(host.busy).toBe('start 2');
  // Starting ones count as current.
  expect(pool.status()).toMatchObject({ current: 2, desired: 3 });
  await host.finish('start 2');
  expect(host.busy).toBe('start 3');
  await host.finish('start 3');
  expect(host.busy).toBeUndefined();
  await pool.settled();
  expect(lines.join('\n')).toContain('worker-2 started (2 workers on q)');
  expect(lines.join('\n')).toContain('worker-3 started (3 workers on q)');

  pool.scale(1);
  expect(host.busy).toBe('stop 3');
  // A draining worker is no longer counted.
  expect(pool.status()).toMatchObject({ current: 2, desired: 1 });
  await host.finish('stop 3');
  await host.finish('stop 2');
  await pool.settled();
  expect(host.calls).toEqual(['start 2', 'start 3', 'stop 3', 'stop 2']);
  expect(lines.join('\n')).toContain('worker-2 stopped (1 worker on q)');
  expect(changes.map((c) => `${c.current}/${c.desired}`)).toEqual(['1/3', '2/3', '3/3', '3/1', '2/1', '1/1']);
});

test('requests are clamped to the bounds; an invalid count throws', async () => {
  const { host, pool } = setup({ min: 1, max: 2 });
  expect(pool.scale(0)).toBe(1);
  expect(host.busy).toBeUndefined();
  expect(pool.scale(10)).toBe(2);
  await Promise.resolve(); // the no-op step of scale(0) returns
  expect(host.busy).toBe('start 2');
  expect(() => pool.scale(-1)).toThrow(/whole number/);
  expect(() => pool.scale(1.5)).toThrow(/whole number/);
});

test('a newer request supersedes a pending one; a start under way finishes first', async () => {
  const { host, pool } = setup();
  pool.scale(4);
  expect(host.busy).toBe('start 2');
  pool.scale(3);
  pool.scale(1); // supersedes 3 before anything beyond worker-2 started
  await host.finish('start 2');
  expect(host.busy).toBe('stop 2');
  pool.scale(2); // while worker-2 drains: a new worker starts once the stop is done, with the lowest free name
  await host.finish('stop 2');
  expect(host.busy).toBe('start 2');
  await host.finish('start 2');
  await pool.settled();
  expect(host.calls).toEqual(['start 2', 'stop 2', 'start 2']);
  expect(pool.status()).toMatchObject({ current: 2, desired: 2 });
});

test('a worker that dies is counted out and logged; the stack stops only below min; the next request replaces it', async () => {
  const { host, pool, lines, changes } = setup({ initial: 3 });
  expect(pool.has('worker-3')).toBe(true);
  expect(pool.workerExited('worker-2', { code: null, signal: 'SIGKILL' })).toBe(true);
  expect(pool.status()).toMatchObject({ current: 2, desired: 3 });
  expect(changes.at(-1)).toMatchObject({ current: 2, desired: 3 });
  expect(lines.join('\n')).toContain('worker-2 exited unexpectedly (signal SIGKILL); 2 workers on q (desired 3)');
  expect(host.busy).toBeUndefined(); // not restarted by itself
  pool.scale(3);
  expect(host.busy).toBe('start 2');
  await host.finish('start 2');
  expect(pool.workerExited('worker-3', { code: 1, signal: null })).toBe(true);
  expect(pool.workerExited('worker-2', { code: 1, signal: null })).toBe(true);
  // The last one: below min 1, the stack stops as for any process that dies.
  expect(pool.workerExited('worker-1', { code: 1, signal: null })).toBe(false);
  expect(pool.workerExited('gateway', { code: 1, signal: null })).toBe(false);
});

test('a worker dying while it starts is that start failing: retried on a request after the back-off', async () => {
  const clock = new ManualClock();
  const { host, pool, lines } = setup({ clock });
  pool.scale(2);
  expect(pool.workerExited('worker-2', { code: 1, signal: null })).toBe(true);
  await host.finish('start 2', new Error('worker-2 exited before it was ready'));
  await pool.settled();
  expect(lines.join('\n')).toContain('worker-2 did not start: worker-2 exited before it was ready');
  expect(pool.status()).toMatchObject({ current: 1, desired: 2 });
  pool.scale(2); // the same request again, too soon: no hot loop of failing starts
  expect(host.busy).toBeUndefined();
  clock.advance(10_000);
  pool.scale(2);
  expect(host.busy).toBe('start 2');
  await host.finish('start 2');
  await pool.settled();
  expect(pool.status()).toMatchObject({ current: 2, desired: 2 });
});

test('a changed request retries at once; close stops stepping after the change under way', async () => {
  const clock = new ManualClock();
  const { host, pool } = setup({ clock });
  pool.scale(2);
  await host.finish('start 2', new Error('refused'));
  await pool.settled();
  pool.scale(3);
  expect(host.busy).toBe('start 2');
  const closed = pool.close();
  await host.finish('start 2');
  await closed;
  expect(host.busy).toBeUndefined();
  pool.scale(4);
  expect(host.busy).toBeUndefined();
});
