/** The side channel's backends chosen by the configuration (NALAR_STREAM_BACKEND). */
import type { NalarConfig } from '../../common/config';
import type { RunEventBus } from './bus';
import { MemoryRunEventBus } from './memory-bus';
import { BatchingPublisher, httpEventSender, type RunEventPublisher } from './publisher';
import { RedisRunEventBus } from './redis-bus';

/** The settings of the side channel. */
export type StreamConfig = Pick<
  NalarConfig,
  | 'streamBackend'
  | 'streamUrl'
  | 'streamToken'
  | 'streamFlushInterval'
  | 'streamBufferEvents'
  | 'streamReplayEvents'
  | 'redisUrl'
>;

/** The bus a gateway hosts (embedded) or joins (redis). */
export function runEventBusFromConfig(config: StreamConfig): RunEventBus {
  return config.streamBackend === 'redis'
    ? new RedisRunEventBus({ url: config.redisUrl, replayEvents: config.streamReplayEvents })
    : new MemoryRunEventBus({ replayEvents: config.streamReplayEvents });
}

/**
 * A worker's publisher: straight to Redis, or over HTTP to the gateway hosting the embedded bus; undefined
 * (no events) when the embedded backend has no NALAR_STREAM_URL and NALAR_STREAM_TOKEN.
 */
export function runEventPublisherFromConfig(config: StreamConfig): RunEventPublisher | undefined {
  const batching = { flushMs: config.streamFlushInterval, maxBuffer: config.streamBufferEvents };
  if (config.streamBackend === 'redis') {
    const bus = new RedisRunEventBus({ url: config.redisUrl, replayEvents: config.streamReplayEvents });
    const publisher = new BatchingPublisher({ ...batching, send: (events) => bus.publish(events) });
    return {
      publish: (workflowId, event) => publisher.publish(workflowId, event),
      flush: () => publisher.flush(),
      close: async () => {
        await publisher.close();
        await bus.close();
      },
    };
  }
  if (!config.streamUrl || !config.streamToken) return undefined;
  return new BatchingPublisher({
    ...batching,
    send: httpEventSender({ url: config.streamUrl, token: config.streamToken }),
  });
}
