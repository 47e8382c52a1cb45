import { register } from 'prom-client';
import { isNalarError } from '../../common/errors';
import { createLogger } from '../../common/log';
import type { ScaleWorkersMessage } from './scaler-protocol';
import { SupervisorScaler, type ScalerChannel } from './supervisor-scaler';

/** A channel that records what is sent and delivers what the test says the supervisor sent. */
class FakeChannel implements ScalerChannel {
  readonly sent: ScaleWorkersMessage[] = [];
  closed = false;
  private listeners = new Set<(message: unknown) => void>();

  send(message: ScaleWorkersMessage, done: (err: Error | null) => void): void {
    if (this.closed) return done(new Error('channel closed'));
    this.sent.push(message);
    done(null);
  }

  onMessage(listener: (message: unknown) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  fromSupervisor(message: unknown): void {
    for (const l of this.listeners) l(message);
  }

  get listening(): number {
    return this.listeners.size;
  }
}

const pool = { taskQueue: 'nalar', current: 1, desired: 1, min: 1, max: 4 };

async function metric(name: string, queue: string): Promise<number | undefined> {
  const m = await register.getSingleMetric(name)?.get();
  return m?.values.find((v) => v.labels.task_queue === queue)?.value;
}

test('keeps the pools the supervisor reports and sends scale requests over the channel', async () => {
  const channel = new FakeChannel();
  const scaler = new SupervisorScaler(channel);
  expect(scaler.name).toBe('supervisor');
  expect(scaler.status()).toEqual([]);
  channel.fromSupervisor({ type: 'workers', pools: [pool] });
  expect(scaler.status()).toEqual([pool]);
  expect(await metric('nalar_supervisor_workers', 'nalar')).toBe(1);

  await scaler.scale('nalar', 3);
  expect(channel.sent).toEqual([{ type: 'scaleWorkers', taskQueue: 'nalar', n: 3 }]);
  // Until the supervisor answers, desired is the request (clamped to the pool's bounds).
  expect(scaler.status()).toEqual([{ ...pool, desired: 3 }]);
  await scaler.scale('nalar', 10);
  expect(scaler.status()[0]?.desired).toBe(4);
  expect(channel.sent.at(-1)).toEqual({ type: 'scaleWorkers', taskQueue: 'nalar', n: 10 });

  channel.fromSupervisor({ type: 'workers', pools: [{ ...pool, current: 2, desired: 4 }] });
  expect(scaler.status()).toEqual([{ ...pool, current: 2, desired: 4 }]);
  expect(await metric('nalar_supervisor_workers', 'nalar')).toBe(2);
  expect(await metric('nalar_supervisor_workers_desired', 'nalar')).toBe(4);

  scaler.close();
  expect(channel.listening).toBe(0);
});

test('an unknown task queue or a bad count is refused without sending anything', async () => {
  const channel = new FakeChannel();
  const scaler = new SupervisorScaler(channel);
  const before = await scaler.scale('nalar', 2).catch((e: unknown) => e);
  expect(isNalarError(before) && before.code).toBe('NALAR_ERR_INVALID_INPUT');
  expect((before as Error).message).toContain('known: none yet');
  channel.fromSupervisor({ type: 'workers', pools: [pool] });
  const other = await scaler.scale('other', 2).catch((e: unknown) => e);
  expect((other as Error).message).toContain('known: nalar');
  for (const n of [-1, 1.5, Number.NaN]) {
    const err = await scaler.scale('nalar', n).catch((e: unknown) => e);
    expect(isNalarError(err) && err.code).toBe('NALAR_ERR_INVALID_INPUT');
  }
  expect(channel.sent).toEqual([]);
});

test('a closed channel rejects with NALAR_ERR_PROCESS_EXITED; malformed or foreign messages change nothing', async () => {
  const channel = new FakeChannel();
  const warnings: string[] = [];
  const log = createLogger('controller', 'info', (line) => warnings.push(line));
  const scaler = new SupervisorScaler(channel, { log });
  channel.fromSupervisor({ type: 'workers', pools: [pool] });
  channel.fromSupervisor({ type: 'workers', pools: [{ ...pool, current: -1 }] });
  channel.fromSupervisor({ type: 'workers', pools: 'none' });
  channel.fromSupervisor({ type: 'something-else' });
  channel.fromSupervisor('hello');
  expect(scaler.status()).toEqual([pool]);
  expect(warnings).toHaveLength(1); // said once
  channel.closed = true;
  const err = await scaler.scale('nalar', 2).catch((e: unknown) => e);
  expect(isNalarError(err) && err.code).toBe('NALAR_ERR_PROCESS_EXITED');
  expect(scaler.status()).toEqual([pool]);
});

test('a pool the supervisor no longer reports is dropped, with its gauges', async () => {
  const channel = new FakeChannel();
  const scaler = new SupervisorScaler(channel);
  channel.fromSupervisor({ type: 'workers', pools: [{ ...pool, taskQueue: 'gone' }, pool] });
  expect(await metric('nalar_supervisor_workers', 'gone')).toBe(1);
  channel.fromSupervisor({ type: 'workers', pools: [pool] });
  expect(scaler.status().map((p) => p.taskQueue)).toEqual(['nalar']);
  expect(await metric('nalar_supervisor_workers', 'gone')).toBeUndefined();
});
