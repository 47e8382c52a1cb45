import { temporal } from '@temporalio/proto';
import {
  historyMaxima,
  historySizes,
  modeResult,
  PAYLOAD_LIMIT_BYTES,
  plainSteps,
  PLAIN_HISTORY_BUDGET_BYTES,
  sizeResult,
  type HistoryModeResult,
  type HistoryRunRecord,
} from './history-stats';
import { TURN_BYTES } from './payloads';

const { EventType } = temporal.api.enums.v1;
type Event = temporal.api.history.v1.IHistoryEvent;

const payload = (bytes: number) => ({ payloads: [{ data: new Uint8Array(bytes).fill(97) }] });

/** The events of a conversation loop of `steps` steps whose activity input and result are `bytes` long. */
function loopHistory(steps: number, bytes: number): Event[] {
  const e = (eventType: temporal.api.enums.v1.EventType, extra: Partial<Event> = {}): Event => ({
    eventType,
    ...extra,
  });
  const events: Event[] = [
    e(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, {
      workflowExecutionStartedEventAttributes: { input: payload(bytes) },
    }),
  ];
  for (let step = 0; step <= steps; step++) {
    events.push(
      e(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED),
      e(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED),
      e(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
    );
    if (step === steps) break;
    events.push(
      e(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, {
        activityTaskScheduledEventAttributes: { activityId: String(step + 1), input: payload(bytes) },
      }),
      e(EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED),
      e(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, {
        activityTaskCompletedEventAttributes: { result: payload(bytes) },
      }),
    );
  }
  events.push(e(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED));
  return events;
}

describe('historySizes', () => {
  test('gives the encoded History size and the size after the first workflow task and after each step', () => {
    const events = loopHistory(3, 2_000);
    const m = historySizes(events);
    const { History } = temporal.api.history.v1;
    expect(m.bytes).toBe(History.encode(History.create({ events })).finish().length);
    expect(m.events).toBe(events.length);
    expect(m.afterStep).toHaveLength(4);
    // Each step adds the activity's input and result (2 × 2000 bytes) plus the small events around them.
    const growth = m.afterStep.slice(1).map((b, i) => b - m.afterStep[i]!);
    for (const g of growth) {
      expect(g).toBeGreaterThan(4_000);
      expect(g).toBeLessThan(4_400);
    }
    expect(m.afterStep[3]!).toBeLessThan(m.bytes);
  });

  test.each([10, 200, 20_000, 3_000_000])(
    'adds up per event to the whole History for %i-byte payloads (1- to 4-byte length prefixes)',
    (bytes) => {
      expect(() => historySizes(loopHistory(2, bytes))).not.toThrow();
    },
  );

  test('a history without steps has only the size after the first workflow task', () => {
    expect(historySizes(loopHistory(0, 100)).afterStep).toHaveLength(1);
  });
});

describe('plainSteps (runs without offload)', () => {
  test('takes every step when payloads and history stay small', () => {
    expect(plainSteps(10 * 1024, 50)).toEqual({ steps: 50 });
  });

  test('takes fewer steps when the history would pass the 20 MiB budget (1 MiB: 9 of 10 or 50)', () => {
    expect(plainSteps(1024 * 1024, 10)).toEqual({ steps: 9 });
    expect(plainSteps(1024 * 1024, 50)).toEqual({ steps: 9 });
  });

  test('is not run when even one step would pass the 2 MB payload limit', () => {
    expect(plainSteps(5120 * 1024, 50)).toEqual({
      reason: "a 5120 KiB payload does not fit Temporal's 2 MB payload limit",
    });
    expect(plainSteps(PAYLOAD_LIMIT_BYTES - 1024, 1)).toHaveProperty('reason');
  });

  test('takes fewer steps, instead of none, when the conversation fits but would outgrow the limit', () => {
    // 2000 KiB + 50 turns passes 2 MB; 2000 KiB + 46 turns does not.
    const plan = plainSteps(2000 * 1024, 50);
    expect(plan).toEqual({ steps: 5 });
  });

  test.each([1, 100, 1024, 1500, 2000, 2040])(
    'at %i KiB keeps every payload under the limit and the history under the budget',
    (kib) => {
      const plan = plainSteps(kib * 1024, 50);
      if ('reason' in plan) throw new Error(plan.reason);
      const largest = kib * 1024 + plan.steps * (TURN_BYTES + 1);
      expect(plan.steps).toBeGreaterThanOrEqual(1);
      expect(plan.steps).toBeLessThanOrEqual(50);
      expect(largest).toBeLessThan(PAYLOAD_LIMIT_BYTES);
      expect(2 * largest * plan.steps).toBeLessThanOrEqual(PLAIN_HISTORY_BUDGET_BYTES);
    },
  );
});

const run = (steps: number, over: Partial<HistoryRunRecord>): HistoryRunRecord => ({
  part: 'history',
  sizeKiB: 10,
  offload: true,
  steps,
  ok: true,
  seconds: 1,
  ...over,
});

describe('modeResult: bytes per step', () => {
  test('is (S-step history − 0-step history) / S, and events likewise', () => {
    const r = modeResult(run(0, { historyBytes: 831, events: 5 }), run(10, { historyBytes: 10_061, events: 65 }), 10);
    expect(r).toEqual({
      steps: 10,
      ran: true,
      baselineBytes: 831,
      bytes: 10_061,
      baselineEvents: 5,
      events: 65,
      bytesPerStep: 923,
      eventsPerStep: 6,
    });
  });

  test('is not given when either run failed, with the failure as the reason', () => {
    const ok = run(0, { historyBytes: 831, events: 5 });
    const failed = run(10, { ok: false, error: 'payload too large' });
    expect(modeResult(ok, failed, 10)).toEqual({ steps: 10, ran: false, reason: 'payload too large' });
    expect(modeResult(failed, ok, 10)).toMatchObject({ ran: false, reason: 'payload too large' });
  });
});

const ran = (bytesPerStep: number): HistoryModeResult => ({ steps: 10, ran: true, bytesPerStep });
const notRun: HistoryModeResult = { steps: 0, ran: false, reason: 'too large' };

test('sizeResult: the ratio without / with offload only when both ran', () => {
  expect(sizeResult(10, ran(1000), ran(34_000))).toEqual({
    sizeKiB: 10,
    withOffload: ran(1000),
    withoutOffload: ran(34_000),
    ratio: 34,
  });
  expect(sizeResult(5120, ran(921.9), notRun)).not.toHaveProperty('ratio');
});

describe('historyMaxima', () => {
  const sizes = [
    sizeResult(10, ran(922.9), ran(1)),
    sizeResult(1024, ran(922.4), ran(1)),
    sizeResult(5120, ran(921.9), notRun),
  ];

  test('the goal figure is the largest over all sizes; the other only over sizes above the threshold', () => {
    expect(historyMaxima(sizes, 1024)).toEqual({ maxWith: 922.9, maxAbove: 922.9 });
    expect(historyMaxima(sizes, 20 * 1024)).toEqual({ maxWith: 922.9, maxAbove: 922.4 });
  });

  test('is NaN when a size has no figure or there are no sizes (so the goal cannot be met)', () => {
    expect(historyMaxima([...sizes, sizeResult(64, notRun, notRun)], 1024).maxWith).toBeNaN();
    expect(historyMaxima([], 1024)).toEqual({ maxWith: NaN, maxAbove: NaN });
  });
});
