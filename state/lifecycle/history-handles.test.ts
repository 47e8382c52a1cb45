import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { contentHash, FileBlobStore } from '../payloads/blob-store';
import { ClaimCheckCodec } from '../payloads/claim-check-codec';
import { collectBlobHandles } from './history-handles';

const { EventType } = temporal.api.enums.v1;

let codec: ClaimCheckCodec;
let store: FileBlobStore;

beforeAll(async () => {
  store = new FileBlobStore(mkdtempSync(path.join(os.tmpdir(), 'nalar-handles-')));
  await store.waitUntilReady();
  codec = new ClaimCheckCodec({ store, thresholdBytes: 1024 });
});

/** A claim-check handle (made by the real codec) and the hash of the value it stands for. */
async function handle(label: string): Promise<{ payload: Payload; hash: string }> {
  const original = defaultPayloadConverter.toPayload(`${label}:${'x'.repeat(2000)}`);
  const [payload] = await codec.encode([original]);
  return { payload: payload as Payload, hash: contentHash(temporal.api.common.v1.Payload.encode(original).finish()) };
}

const payloads = (...items: Payload[]) => ({ payloads: items });

test('finds handles in every kind of event, at any depth, in a real History message', async () => {
  const [input, memo, header, activityInput, activityResult, signal, failureDetail, causeDetail, result, search] =
    await Promise.all(
      ['input', 'memo', 'header', 'actIn', 'actOut', 'signal', 'fail', 'cause', 'result', 'search'].map(handle),
    );
  const small = defaultPayloadConverter.toPayload({ small: true });
  const h = (x: { payload: Payload } | undefined) => (x as { payload: Payload }).payload;
  const history = temporal.api.history.v1.History.fromObject({
    events: [
      {
        eventId: 1,
        eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        workflowExecutionStartedEventAttributes: {
          input: payloads(h(input), small),
          memo: { fields: { big: h(memo) } },
          header: { fields: { trace: h(header) } },
          searchAttributes: { indexedFields: { Custom: h(search) } },
        },
      },
      {
        eventId: 5,
        eventType: EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        activityTaskScheduledEventAttributes: { activityId: '1', input: payloads(h(activityInput)) },
      },
      {
        eventId: 7,
        eventType: EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
        activityTaskCompletedEventAttributes: { result: payloads(h(activityResult)) },
      },
      {
        eventId: 8,
        eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
        workflowExecutionSignaledEventAttributes: { signalName: 's', input: payloads(small, h(signal)) },
      },
      {
        eventId: 9,
        eventType: EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
        activityTaskFailedEventAttributes: {
          failure: {
            message: 'outer',
            applicationFailureInfo: { details: payloads(h(failureDetail)) },
            cause: { message: 'inner', applicationFailureInfo: { details: payloads(h(causeDetail)) } },
          },
        },
      },
      {
        eventId: 12,
        eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
        workflowExecutionCompletedEventAttributes: { result: payloads(h(result)) },
      },
    ],
  });
  // Exactly what the server sends: encoded and decoded again.
  const decoded = temporal.api.history.v1.History.decode(temporal.api.history.v1.History.encode(history).finish());
  const expected = [input, memo, header, activityInput, activityResult, signal, failureDetail, causeDetail, result];
  const all = [...expected, search].map((x) => (x as { hash: string }).hash).sort();
  expect([...collectBlobHandles(decoded)].sort()).toEqual(all);
  expect([...collectBlobHandles(history)].sort()).toEqual(all);
});

test('ignores ordinary payloads, malformed handles and byte arrays; adds to a given set', () => {
  const malformed = {
    metadata: { encoding: new TextEncoder().encode('binary/nalar-blob'), 'nalar-blob': new Uint8Array([1, 2, 3]) },
    data: new Uint8Array(0),
  };
  const into = new Set(['a'.repeat(64)]);
  const value = {
    events: [{ input: { payloads: [defaultPayloadConverter.toPayload('x'), malformed] } }],
    bytes: new Uint8Array(10_000),
    nothing: null,
  };
  expect(collectBlobHandles(value, into)).toBe(into);
  expect([...into]).toEqual(['a'.repeat(64)]);
  expect(collectBlobHandles(undefined).size).toBe(0);
});
