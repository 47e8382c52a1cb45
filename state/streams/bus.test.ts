/**
 * One conformance suite for both backends of the run event bus, each against the real thing: the embedded
 * bus hosted by a real HTTP server (workers post batches to it) and Redis (a worker publishes, another bus
 * instance, standing for another gateway replica, subscribes).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { createClient } from 'redis';
import { configDefaults } from '../../common/config';
import { eventIngestRoutes } from '../../data-plane/gateway/streams/ingest';
import { freePort } from '../../data-plane/supervisor/ports';
import type { RunEventBus, RunEventSubscription } from './bus';
import type { RunEvent, RunEventBody } from './events';
import { MemoryRunEventBus } from './memory-bus';
import { BatchingPublisher, httpEventSender, streamEventsDropped, type RunEventPublisher } from './publisher';
import { RedisRunEventBus } from './redis-bus';
import { waitFor } from '../../test/helpers/wait-for';

interface Backend {
  publisher: RunEventPublisher;
  /** The bus SSE streams read (for redis: another instance than the publisher's). */
  bus: RunEventBus;
  close(): Promise<void>;
}

const token = 'test-internal-token-0123456789';
const runId = `${Date.now().toString(36)}-${process.pid}`;

async function embedded(replayEvents: number): Promise<Backend> {
  const bus = new MemoryRunEventBus({ replayEvents });
  const app: FastifyInstance = Fastify();
  eventIngestRoutes(app, { bus, token });
  const port = await freePort();
  await app.listen({ host: '127.0.0.1', port });
  const publisher = new BatchingPublisher({ send: httpEventSender({ url: `http://127.0.0.1:${port}`, token }) });
  return {
    publisher,
    bus,
    close: async () => {
      await publisher.close();
      await bus.close();
      await app.close();
    },
  };
}

let redisPrefixes = 0;
async function redis(replayEvents: number): Promise<Backend> {
  const prefix = `nalar-test:${runId}:${++redisPrefixes}:`;
  const writer = new RedisRunEventBus({ url: configDefaults.redisUrl, prefix, replayEvents });
  const reader = new RedisRunEventBus({ url: configDefaults.redisUrl, prefix, replayEvents });
  const publisher = new BatchingPublisher({ send: (events) => writer.publish(events) });
  return {
    publisher,
    bus: reader,
    close: async () => {
      await publisher.close();
      await Promise.all([writer.close(), reader.close()]);
    },
  };
}

/** The next `n` events of a subscription (waited for with the tests' one deadline helper, never measured). */
async function take(sub: RunEventSubscription, n: number): Promise<RunEvent[]> {
  const out: RunEvent[] = [];
  const it = sub[Symbol.asyncIterator]();
  let ended = false;
  const pump = (async () => {
    while (out.length < n) {
      const next = await it.next();
      if (next.done) {
        ended = true;
        return;
      }
      out.push(next.value);
    }
  })();
  await waitFor(() => out.length >= n || ended, { what: () => `${n} events (got ${JSON.stringify(out)})` });
  await pump;
  return out;
}

const token_ = (text: string): RunEventBody => ({ kind: 'token', futureId: 'wf/1', attempt: 1, text });
const texts = (events: RunEvent[]) => events.map((e) => (e.kind === 'token' ? e.text : e.kind));

describe.each([
  ['embedded (HTTP to the gateway)', embedded],
  ['redis', redis],
])('run event bus: %s', (_name, create) => {
  let backend: Backend;
  afterEach(async () => {
    await backend?.close();
  });

  test('a subscriber sees what workers publish after it subscribed, in order, numbered 1, 2, …', async () => {
    backend = await create(100);
    const wf = `wf-order-${runId}`;
    const sub = backend.bus.subscribe(wf);
    const other = backend.bus.subscribe(wf);
    await sub.replayGap; // subscribed
    await other.replayGap;
    for (const t of ['a', 'b', 'c']) backend.publisher.publish(wf, token_(t));
    backend.publisher.publish(`${wf}-other`, token_('elsewhere'));
    backend.publisher.publish(wf, { kind: 'run', status: 'completed' });
    const events = await take(sub, 4);
    expect(texts(events)).toEqual(['a', 'b', 'c', 'run']);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(texts(await take(other, 4))).toEqual(['a', 'b', 'c', 'run']);
    sub.close();
    other.close();
  });

  test('resume from a seq replays what the bus still keeps, then goes live (Last-Event-ID)', async () => {
    backend = await create(100);
    const wf = `wf-resume-${runId}`;
    const first = backend.bus.subscribe(wf);
    await first.replayGap;
    for (const t of ['a', 'b', 'c', 'd']) backend.publisher.publish(wf, token_(t));
    await take(first, 4);
    first.close();
    const resumed = backend.bus.subscribe(wf, 2);
    expect(await resumed.replayGap).toBe(false);
    backend.publisher.publish(wf, token_('e'));
    const events = await take(resumed, 3);
    expect(texts(events)).toEqual(['c', 'd', 'e']);
    expect(events.map((e) => e.seq)).toEqual([3, 4, 5]);
    resumed.close();
  });

  test('the bus keeps a bounded number of events per run: an older resume point reports the gap', async () => {
    backend = await create(3);
    const wf = `wf-bounded-${runId}`;
    const live = backend.bus.subscribe(wf);
    await live.replayGap;
    for (let i = 1; i <= 10; i++) backend.publisher.publish(wf, token_(String(i)));
    await take(live, 10);
    live.close();
    const resumed = backend.bus.subscribe(wf, 1);
    expect(await resumed.replayGap).toBe(true);
    expect(texts(await take(resumed, 3))).toEqual(['8', '9', '10']);
    resumed.close();
  });

  test('close ends the iteration and releases the subscription', async () => {
    backend = await create(100);
    const wf = `wf-close-${runId}`;
    const sub = backend.bus.subscribe(wf);
    await sub.replayGap;
    const pending = take(sub, 1);
    sub.close();
    expect(await pending).toEqual([]);
  });
});

test('the embedded ingest refuses a wrong token; the worker counts the dropped batch and carries on', async () => {
  const bus = new MemoryRunEventBus();
  const app = Fastify();
  eventIngestRoutes(app, { bus, token });
  const port = await freePort();
  await app.listen({ host: '127.0.0.1', port });
  const url = `http://127.0.0.1:${port}`;
  try {
    const res = await fetch(`${url}/internal/v1/events`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
    const dropped = async () =>
      (await streamEventsDropped.get()).values.find((v) => v.labels.reason === 'send_failed')?.value ?? 0;
    const before = await dropped();
    const publisher = new BatchingPublisher({ send: httpEventSender({ url, token: 'wrong-token-0123456789' }) });
    publisher.publish('wf', token_('lost'));
    publisher.publish('wf', token_('lost too'));
    await publisher.close();
    expect((await dropped()) - before).toBe(2);
  } finally {
    await bus.close();
    await app.close();
  }
});

afterAll(async () => {
  const client = createClient({ url: configDefaults.redisUrl });
  await client.connect();
  try {
    const leftovers: string[] = [];
    for await (const batch of client.scanIterator({ MATCH: `nalar-test:${runId}:*`, COUNT: 1000 }))
      leftovers.push(...batch);
    if (leftovers.length) await client.del(leftovers);
  } finally {
    await client.close();
  }
});

test('a subscriber that falls too far behind is ended, not buffered without bound', async () => {
  const bus = new MemoryRunEventBus({ subscriberLimit: 3 });
  const sub = bus.subscribe('wf-slow');
  await bus.publish(['a', 'b', 'c', 'd', 'e'].map((t) => ({ workflowId: 'wf-slow', event: token_(t) })));
  // It got what fit, then its stream ended (its client reconnects with Last-Event-ID).
  expect(texts(await take(sub, 10))).toEqual(['a', 'b', 'c']);
  expect(bus.subscriberCount('wf-slow')).toBe(0);
  await bus.close();
});
