import { mkdtempSync } from 'node:fs';
import { utimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Payload } from '@temporalio/common';
import { FileBlobStore } from '../payloads/blob-store';
import { CLAIM_CHECK_ENCODING } from '../payloads/claim-check-codec';
import { blobBytesCollected, blobsCollected } from '../metrics';
import { BlobGcAbortedError, collectBlobGarbage } from './blob-gc';
import { fakeClient, grpcError, type FakeNamespace } from './test/fake-temporal';

const HOUR = 3_600_000;
const NOW = 1_800_000_000_000;

/** A blob store with `count` blobs last used two hours before NOW, and their hashes. */
async function oldBlobs(count: number): Promise<{ blobs: FileBlobStore; hashes: string[] }> {
  const blobs = new FileBlobStore(mkdtempSync(path.join(os.tmpdir(), 'nalar-gc-')));
  const hashes: string[] = [];
  const t = new Date(NOW - 2 * HOUR);
  for (let i = 0; i < count; i++) {
    const hash = await blobs.put(new TextEncoder().encode(`blob ${i} ${'.'.repeat(i)}`));
    await utimes(path.join(blobs.dir, hash.slice(0, 2), hash), t, t);
    hashes.push(hash);
  }
  return { blobs, hashes };
}

function handle(hash: string): Payload {
  return {
    metadata: { encoding: new TextEncoder().encode(CLAIM_CHECK_ENCODING), 'nalar-blob': Buffer.from(hash, 'hex') },
    data: new Uint8Array(0),
  };
}

/** A history of three events whose last one carries `hash` as its result (events are served two a page). */
function historyWith(hash: string) {
  return [
    { workflowExecutionStartedEventAttributes: {} },
    { workflowTaskScheduledEventAttributes: {} },
    { workflowExecutionCompletedEventAttributes: { result: { payloads: [handle(hash)] } } },
  ];
}

async function counter(metric: typeof blobsCollected): Promise<number> {
  return (await metric.get()).values[0]?.value ?? 0;
}

test('keeps every blob a handle points to (histories, pending state, schedules, memo) and deletes old orphans', async () => {
  const { blobs, hashes } = await oldBlobs(9);
  const [closedRef, secondRunRef, runningRef, heartbeatRef, scheduleRef, memoRef, orphanA, orphanB, young] =
    hashes as string[];
  await utimes(path.join(blobs.dir, young!.slice(0, 2), young!), new Date(NOW), new Date(NOW));
  const namespace: FakeNamespace = {
    executions: [
      { workflowId: 'closed', runId: 'r1', history: historyWith(closedRef!) },
      { workflowId: 'closed', runId: 'r2', history: historyWith(secondRunRef!) },
      { workflowId: 'closed-2', runId: 'r1', history: [], memo: { fields: { big: handle(memoRef!) } } },
      {
        workflowId: 'running',
        runId: 'r1',
        running: true,
        history: historyWith(runningRef!),
        describe: { pendingActivities: [{ heartbeatDetails: { payloads: [handle(heartbeatRef!)] } }] },
      },
    ],
    schedules: [
      { scheduleId: 's0', describe: {} },
      { scheduleId: 's1', describe: {} },
      {
        scheduleId: 's2',
        describe: { schedule: { action: { startWorkflow: { input: { payloads: [handle(scheduleRef!)] } } } } },
      },
    ],
  };
  const { client, calls } = fakeClient({ default: namespace });
  const deletedBefore = await counter(blobsCollected);
  const bytesBefore = await counter(blobBytesCollected);
  const progress: string[] = [];
  const orphanBytes = ((await blobs.stat(orphanA!))?.bytes ?? 0) + ((await blobs.stat(orphanB!))?.bytes ?? 0);

  const report = await collectBlobGarbage({
    client,
    blobs,
    graceMs: HOUR,
    now: () => NOW,
    onProgress: (m) => progress.push(m),
  });

  expect(report).toEqual({
    blobs: 9,
    referenced: 6,
    young: 1,
    deleted: 2,
    freedBytes: orphanBytes,
    workflowsScanned: 4,
    workflowsGone: 0,
    schedulesScanned: 3,
    handles: 6,
    dryRun: false,
    durationMs: 0,
  });
  expect(await blobs.list()).toEqual(
    [closedRef, secondRunRef, runningRef, heartbeatRef, scheduleRef, memoRef, young].sort(),
  );
  expect((await counter(blobsCollected)) - deletedBefore).toBe(2);
  expect((await counter(blobBytesCollected)) - bytesBefore).toBe(orphanBytes);
  // Only running executions are described; every history page is read.
  expect(calls.filter((c) => c.startsWith('describeWorkflowExecution'))).toEqual([
    'describeWorkflowExecution default running',
  ]);
  expect(calls.filter((c) => c === 'getWorkflowExecutionHistory default closed')).toHaveLength(4);
  expect(progress.at(-1)).toMatch(/deleted 2 blob\(s\)/);
});

test('a dry run deletes nothing and reports what it would delete', async () => {
  const { blobs, hashes } = await oldBlobs(3);
  const { client } = fakeClient({
    default: { executions: [{ workflowId: 'w', runId: 'r', history: historyWith(hashes[0]!) }] },
  });
  const report = await collectBlobGarbage({ client, blobs, graceMs: HOUR, now: () => NOW, dryRun: true });
  expect(report).toMatchObject({ blobs: 3, referenced: 1, deleted: 2, dryRun: true });
  expect(report.freedBytes).toBeGreaterThan(0);
  expect(await blobs.list()).toEqual([...hashes].sort());
});

test('an execution gone between listing and reading is skipped', async () => {
  const { blobs, hashes } = await oldBlobs(2);
  const gone = grpcError(5, 'workflow execution not found', ['temporal.api.errordetails.v1.NotFoundFailure']);
  const { client } = fakeClient({
    default: {
      executions: [
        { workflowId: 'gone', runId: 'r', history: gone },
        { workflowId: 'kept', runId: 'r', history: historyWith(hashes[0]!) },
      ],
    },
  });
  const report = await collectBlobGarbage({ client, blobs, graceMs: HOUR, now: () => NOW });
  expect(report).toMatchObject({ workflowsScanned: 1, workflowsGone: 1, deleted: 1 });
  expect(await blobs.list()).toEqual([hashes[0]]);
});

test.each([
  ['a history that cannot be read', { history: grpcError(14, 'connection reset') }],
  [
    'a NOT_FOUND for the namespace (not the execution)',
    { history: grpcError(5, 'Namespace x is not found.', ['temporal.api.errordetails.v1.NamespaceNotFoundFailure']) },
  ],
  ['a failure that is not a gRPC error', { history: new Error('boom') }],
])('%s aborts the collection before anything is deleted', async (_label, failing) => {
  const { blobs, hashes } = await oldBlobs(3);
  const { client } = fakeClient({
    default: {
      executions: [
        { workflowId: 'a', runId: 'r', history: historyWith(hashes[0]!) },
        { workflowId: 'b', runId: 'r', ...failing },
      ],
    },
  });
  const run = collectBlobGarbage({ client, blobs, graceMs: HOUR, now: () => NOW });
  await expect(run).rejects.toBeInstanceOf(BlobGcAbortedError);
  await expect(run).rejects.toMatchObject({ code: 'NALAR_ERR_BLOB_GC_ABORTED' });
  await expect(run).rejects.toThrow(/nothing deleted: reading namespace default failed/);
  expect(await blobs.list()).toEqual([...hashes].sort());
});

test('a namespace that cannot be listed aborts; every given namespace is marked', async () => {
  const { blobs, hashes } = await oldBlobs(3);
  const { client, calls } = fakeClient({
    default: { executions: [{ workflowId: 'a', runId: 'r', history: historyWith(hashes[0]!) }] },
    other: { executions: [{ workflowId: 'b', runId: 'r', history: historyWith(hashes[1]!) }] },
  });
  await expect(
    collectBlobGarbage({ client, blobs, graceMs: HOUR, now: () => NOW, namespace: ['default', 'missing'] }),
  ).rejects.toThrow(/reading namespace missing failed/);
  expect(await blobs.list()).toEqual([...hashes].sort());

  const report = await collectBlobGarbage({
    client,
    blobs,
    graceMs: HOUR,
    now: () => NOW,
    namespace: ['default', 'other'],
  });
  expect(report).toMatchObject({ referenced: 2, deleted: 1 });
  expect(await blobs.list()).toEqual([hashes[0], hashes[1]].sort());
  expect(calls).toContain("listWorkflowExecutions other ExecutionStatus != 'Running'");
});

test('refuses a negative grace', async () => {
  const { blobs } = await oldBlobs(0);
  const { client } = fakeClient({ default: {} });
  await expect(collectBlobGarbage({ client, blobs, graceMs: -1 })).rejects.toThrow(RangeError);
});
