/**
 * The run event bus on Redis, for more than one host: workers publish straight to Redis, and every gateway
 * replica subscribes there, so an SSE client sees a run's events whichever replica it reached and whichever
 * worker ran the call. Per workflow id: a counter (`seq`), a capped list of recent events (resume with
 * Last-Event-ID) and a pub/sub channel; one Lua script per batch appends, numbers and publishes atomically,
 * so every replica sees the same seq. Keys expire `ttlMs` after the run's last event.
 */
import { createClient } from 'redis';
import { configDefaults } from '../../common/config';
import { EventQueue, type RunEventBus, type RunEventSubscription } from './bus';
import type { PublishedEvent, RunEvent, RunEventBody } from './events';

/** Options of {@link RedisRunEventBus}. */
export interface RedisBusOptions {
  /** @default NALAR_REDIS_URL */
  url?: string;
  /** Key and channel prefix (tests use their own). @default 'nalar:runs:' */
  prefix?: string;
  /** Events kept per workflow id for resume. @default NALAR_STREAM_REPLAY_EVENTS */
  replayEvents?: number;
  /** Keys of a workflow id live this long after its last event. @default 1 hour */
  ttlMs?: number;
  /** Events a subscriber may fall behind before it is ended. @default 10000 */
  subscriberLimit?: number;
}

type Client = ReturnType<typeof createClient>;

// KEYS: seq key, log key, channel. ARGV: replay, ttl ms, then one JSON body per event.
const appendScript = `
local last = 0
for i = 3, #ARGV do
  last = redis.call('INCR', KEYS[1])
  local msg = last .. '\\n' .. ARGV[i]
  redis.call('RPUSH', KEYS[2], msg)
  redis.call('PUBLISH', KEYS[3], msg)
end
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[1]), -1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return last`;

/** `<seq>\n<json body>` → the event, or undefined for anything else. */
function decode(message: string): RunEvent | undefined {
  const nl = message.indexOf('\n');
  const seq = Number(message.slice(0, nl));
  if (nl < 0 || !Number.isSafeInteger(seq)) return undefined;
  try {
    return { ...(JSON.parse(message.slice(nl + 1)) as RunEventBody), seq };
  } catch {
    return undefined;
  }
}

interface LocalRun {
  channel: string;
  listener: (message: string) => void;
  queues: Set<(event: RunEvent) => void>;
  subscribed: Promise<void>;
}

export class RedisRunEventBus implements RunEventBus {
  private readonly client: Client;
  private subscriber: Client | undefined;
  private readonly prefix: string;
  private readonly replayEvents: number;
  private readonly ttlMs: number;
  private readonly subscriberLimit: number;
  private readonly runs = new Map<string, LocalRun>();
  private connecting: Promise<unknown> | undefined;
  private subscriberConnecting: Promise<unknown> | undefined;

  constructor(options: RedisBusOptions = {}) {
    this.prefix = options.prefix ?? 'nalar:runs:';
    this.replayEvents = options.replayEvents ?? configDefaults.streamReplayEvents;
    this.ttlMs = options.ttlMs ?? 3_600_000;
    this.subscriberLimit = options.subscriberLimit ?? 10_000;
    this.client = createClient({
      url: options.url ?? configDefaults.redisUrl,
      // Events are a preview: fail a publish at once rather than queue it while Redis is away.
      disableOfflineQueue: true,
      socket: { connectTimeout: 5_000, reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 2_000) },
    });
    // Without a listener an 'error' event would crash the process; calls report their own errors.
    this.client.on('error', () => undefined);
  }

  private keys(workflowId: string): [seq: string, log: string, channel: string] {
    // The hash tag keeps one run's keys in one slot of a Redis Cluster (the script touches all three).
    const tag = `{${workflowId}}`;
    return [`${this.prefix}seq:${tag}`, `${this.prefix}log:${tag}`, `${this.prefix}ch:${tag}`];
  }

  private ready(): Promise<unknown> {
    this.connecting ??= this.client.connect().catch((err: unknown) => {
      this.connecting = undefined;
      throw err;
    });
    return this.connecting;
  }

  private subscriberReady(): Promise<Client> {
    if (!this.subscriber) {
      const sub = this.client.duplicate();
      sub.on('error', () => undefined);
      this.subscriber = sub;
      this.subscriberConnecting = sub.connect();
    }
    const sub = this.subscriber;
    return (this.subscriberConnecting as Promise<unknown>).then(() => sub);
  }

  async publish(events: readonly PublishedEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.ready();
    const byRun = new Map<string, string[]>();
    for (const { workflowId, event } of events) {
      const list = byRun.get(workflowId) ?? [];
      list.push(JSON.stringify(event));
      byRun.set(workflowId, list);
    }
    await Promise.all(
      [...byRun].map(([workflowId, bodies]) =>
        this.client.eval(appendScript, {
          keys: this.keys(workflowId),
          arguments: [String(this.replayEvents), String(this.ttlMs), ...bodies],
        }),
      ),
    );
  }

  subscribe(workflowId: string, fromSeq?: number): RunEventSubscription {
    // Live messages that arrive while the replay is read wait here; the queue drops duplicates by seq.
    let pending: RunEvent[] | undefined = [];
    let queue: EventQueue | undefined;
    let closed = false;
    const deliver = (event: RunEvent): void => {
      if (pending) pending.push(event);
      else queue?.push(event);
    };
    const release = (): void => {
      closed = true;
      const run = this.runs.get(workflowId);
      if (!run) return;
      run.queues.delete(deliver);
      if (run.queues.size === 0) {
        this.runs.delete(workflowId);
        void run.subscribed
          // With its own listener: another subscription of the same channel may have started meanwhile.
          .then(() => this.subscriber?.unsubscribe(run.channel, run.listener))
          .catch(() => undefined);
      }
    };
    const waiters: ((q: EventQueue) => void)[] = [];
    const setup = (async (): Promise<boolean> => {
      const [seqKey, logKey, channel] = this.keys(workflowId);
      let run = this.runs.get(workflowId);
      if (!run) {
        const queues = new Set<(event: RunEvent) => void>();
        const listener = (message: string): void => {
          const event = decode(message);
          if (event) for (const q of queues) q(event);
        };
        const subscribed = this.subscriberReady().then((sub) => sub.subscribe(channel, listener));
        run = { channel, listener, queues, subscribed };
        this.runs.set(workflowId, run);
      }
      run.queues.add(deliver);
      await Promise.all([run.subscribed, this.ready()]);
      let gap = false;
      let backlog: RunEvent[] = [];
      let start: number;
      if (fromSeq === undefined) {
        start = Number((await this.client.get(seqKey)) ?? 0);
      } else {
        start = fromSeq;
        backlog = (await this.client.lRange(logKey, 0, -1)).map(decode).filter((e): e is RunEvent => !!e);
        const last = Number((await this.client.get(seqKey)) ?? 0);
        const first = backlog.find((e) => e.seq > fromSeq)?.seq ?? last + 1;
        gap = first > fromSeq + 1;
      }
      const q = new EventQueue(start, this.subscriberLimit, release);
      for (const e of backlog) q.push(e);
      for (const e of pending ?? []) q.push(e);
      pending = undefined;
      queue = q;
      if (closed) q.end();
      for (const w of waiters) w(q);
      return gap;
    })();
    const queueReady = new Promise<EventQueue>((resolve, reject) => {
      waiters.push(resolve);
      setup.catch(reject);
    });
    return {
      replayGap: setup.catch(() => true),
      close: () => {
        if (queue) queue.end();
        else release();
      },
      [Symbol.asyncIterator]: () => {
        let inner: AsyncIterator<RunEvent> | undefined;
        return {
          next: async () => {
            try {
              inner ??= (await queueReady)[Symbol.asyncIterator]();
            } catch {
              release();
              return { value: undefined, done: true };
            }
            return inner.next();
          },
          return: async () => {
            if (queue) queue.end();
            else release();
            return { value: undefined, done: true };
          },
        };
      },
    };
  }

  async close(): Promise<void> {
    for (const run of this.runs.values()) run.queues.clear();
    this.runs.clear();
    await Promise.all(
      [this.subscriber, this.client].map((c) => (c?.isOpen ? c.close().catch(() => undefined) : undefined)),
    );
  }
}
