/** The history → futures mapping on hand-written events: states and times the integration test cannot force. */
import { defaultDataConverter, defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { FutureMeta } from '../workflow/types';
import { FUTURE_HEADER } from '../workflow/types';
import { futuresFromHistory } from './read-futures';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const T0 = 1_800_000_000_000;
/** A timestamp `ms` after T0. */
const at = (ms: number) => ({ seconds: Math.floor((T0 + ms) / 1000), nanos: ((T0 + ms) % 1000) * 1e6 });

let nextEventId = 1;
function event(ms: number, attrs: Omit<HistoryEvent, 'eventId' | 'eventTime'>): HistoryEvent {
  // Plain numbers where the decoded proto has Long: the mapping reads both.
  return { eventId: nextEventId++, eventTime: at(ms), ...attrs } as unknown as HistoryEvent;
}

function meta(n: number, dependencies: number[] = []): FutureMeta {
  return {
    id: `wf/${n}`,
    sessionId: 's',
    creator: 'wf',
    activityType: `probe.m${n}`,
    dependencies: dependencies.map((d) => `wf/${d}`),
    consumers: [],
    executor: { taskQueue: 'q' },
    fairnessKey: 's',
    state: 'scheduled',
    timestamps: {},
  };
}

function scheduled(ms: number, m: FutureMeta | undefined, activityId = m?.id ?? 'plain'): HistoryEvent {
  return event(ms, {
    activityTaskScheduledEventAttributes: {
      activityId,
      header: m ? { fields: { [FUTURE_HEADER]: defaultPayloadConverter.toPayload(m) } } : {},
    },
  });
}

const failure = (type: string, message: string) => ({ message, applicationFailureInfo: { type } });

test('states, edges and times of completed, retried, timed-out, pending and abandoned calls', async () => {
  nextEventId = 1;
  const s1 = scheduled(0, meta(1));
  const s2 = scheduled(0, meta(2, [1]));
  const s3 = scheduled(0, meta(3, [1, 2]));
  const s4 = scheduled(0, meta(4, [3]));
  const plain = scheduled(0, undefined);
  const events = [
    s1,
    s2,
    s3,
    s4,
    plain,
    event(10, { activityTaskStartedEventAttributes: { scheduledEventId: s1.eventId, attempt: 1 } }),
    event(25, { activityTaskCompletedEventAttributes: { scheduledEventId: s1.eventId } }),
    // #2 succeeded on its third attempt: history has only that attempt's start.
    event(500, { activityTaskStartedEventAttributes: { scheduledEventId: s2.eventId, attempt: 3 } }),
    event(540, { activityTaskCompletedEventAttributes: { scheduledEventId: s2.eventId } }),
    event(600, {
      activityTaskTimedOutEventAttributes: {
        scheduledEventId: s3.eventId,
        failure: {
          message: 'activity StartToClose timeout',
          timeoutFailureInfo: { timeoutType: temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE },
        },
      },
    }),
    event(700, { activityTaskStartedEventAttributes: { scheduledEventId: plain.eventId, attempt: 1 } }),
  ];
  const pending = [
    {
      activityId: 'wf/4',
      state: temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED,
      attempt: 2,
      lastStartedTime: at(800),
      scheduledTime: at(900),
      lastFailure: failure('NALAR_ERR_LLM_RATE_LIMITED', '429'),
    },
  ] as unknown as temporal.api.workflow.v1.IPendingActivityInfo[];
  const open = await futuresFromHistory(events, { converter: defaultDataConverter, pending, runClosed: false });
  expect(open.map((f) => [f.id, f.state, f.attempts])).toEqual([
    ['wf/1', 'completed', 1],
    ['wf/2', 'completed', 3],
    ['wf/3', 'timed out', 0],
    ['wf/4', 'retrying', 2],
  ]);
  const [f1, f2, f3, f4] = open;
  expect(f1).toMatchObject({
    consumers: ['wf/2', 'wf/3'],
    firstQueueMs: 10,
    lastQueueMs: 10,
    waitMs: 10,
    serviceMs: 15,
  });
  expect(f2).toMatchObject({ consumers: ['wf/3'], firstQueueMs: null, lastQueueMs: null, waitMs: 500, serviceMs: 40 });
  expect(f3).toMatchObject({ consumers: ['wf/4'], startedAt: null, serviceMs: null });
  expect(f3?.error).toEqual({ type: 'TIMEOUT_TYPE_START_TO_CLOSE', message: 'activity StartToClose timeout' });
  expect(f4?.error).toEqual({ type: 'NALAR_ERR_LLM_RATE_LIMITED', message: '429' });
  expect(f4?.lastQueueMs).toBeNull(); // no attempt runs now

  // Once the run has closed, a call that never closed was abandoned.
  const closed = await futuresFromHistory(events, { converter: defaultDataConverter, runClosed: true });
  expect(closed.find((f) => f.id === 'wf/4')?.state).toBe('abandoned');
});
