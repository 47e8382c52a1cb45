/**
 * Blob GC on the real dev server: a finished workflow's offloaded input and result survive a collection
 * even when their blobs are old, a running workflow's input too, while an old orphan blob is deleted and a
 * young one kept; a dry run deletes nothing; a collection that cannot read the namespace deletes nothing.
 */
import { mkdtempSync } from 'node:fs';
import { utimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { FileBlobStore } from '../state/payloads/blob-store';
import { blobStoreOf, nalarDataConverter } from '../state/payloads/data-converter';
import { BlobGcAbortedError, collectBlobGarbage } from '../state/lifecycle/blob-gc';
import { runStateCommand } from '../state/cli/command';
import { waitFor } from './helpers/wait-for';
import { bundle, connectTestEnv, testTemporalAddress, uniqueTaskQueue, type NalarWorkflowBundle } from './temporal';

const HOUR = 3_600_000;

let env: TestWorkflowEnvironment;
let workflowBundle: NalarWorkflowBundle;

beforeAll(async () => {
  env = await connectTestEnv();
  workflowBundle = await bundle(path.join(__dirname, 'fixtures', 'workflows', 'blob-gc.ts'));
});

afterAll(async () => {
  await env?.teardown();
});

/** Sets a blob's last use to two hours ago. */
async function makeOld(blobs: FileBlobStore, hash: string): Promise<void> {
  const t = new Date(Date.now() - 2 * HOUR);
  await utimes(path.join(blobs.dir, hash.slice(0, 2), hash), t, t);
}

/** Visibility is eventually consistent: waits until `query` lists the execution. */
async function waitUntilListed(client: Client, query: string): Promise<void> {
  await waitFor(
    async () => {
      for await (const _ of client.workflow.list({ query })) return true;
      return false;
    },
    { what: `visibility to list ${query}`, intervalMs: 100 },
  );
}

test('GC keeps every blob a workflow points to, deletes an old orphan, and deletes nothing when it cannot read', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nalar-blob-gc-'));
  const dataConverter = nalarDataConverter({ payloadOffload: true, payloadOffloadBytes: 4096, dataDir });
  const blobs = blobStoreOf({ dataDir });
  const client = new Client({ connection: env.connection, dataConverter });
  const taskQueue = uniqueTaskQueue('blob-gc');
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, dataConverter });

  // A finished workflow: its input and result are blobs.
  const input = 'garbage? '.repeat(5000);
  const finishedId = `${taskQueue}-finished`;
  const result = await worker.runUntil(
    client.workflow.execute('shoutWorkflow', { taskQueue, workflowId: finishedId, args: [input] }),
  );
  expect(result).toBe(input.toUpperCase());
  const finishedBlobs = await blobs.list();
  expect(finishedBlobs).toHaveLength(2);

  // A running workflow (no worker polls its queue): its input is a blob.
  const running = await client.workflow.start('shoutWorkflow', {
    taskQueue: `${taskQueue}-idle`,
    workflowId: `${taskQueue}-running`,
    args: ['still running '.repeat(1000)],
  });
  const runningBlob = (await blobs.list()).find((h) => !finishedBlobs.includes(h)) as string;

  const orphan = await blobs.put(new TextEncoder().encode('nobody points here '.repeat(100)));
  const youngOrphan = await blobs.put(new TextEncoder().encode('just stored, handle not in history yet'));
  for (const hash of [...finishedBlobs, runningBlob, orphan]) await makeOld(blobs, hash);
  const everything = [...finishedBlobs, runningBlob, orphan, youngOrphan].sort();
  await waitUntilListed(client, `WorkflowId = '${finishedId}' AND ExecutionStatus = 'Completed'`);
  await waitUntilListed(client, `WorkflowId = '${running.workflowId}' AND ExecutionStatus = 'Running'`);

  try {
    const dry = await collectBlobGarbage({ client, blobs, graceMs: HOUR, dryRun: true });
    expect(dry).toMatchObject({ blobs: 5, referenced: 3, young: 1, deleted: 1, freedBytes: 1900, dryRun: true });
    expect(await blobs.list()).toEqual(everything);

    // A namespace that does not exist, a closed connection: the mark fails, nothing is deleted.
    await expect(
      collectBlobGarbage({ client, namespace: 'no-such-namespace', blobs, graceMs: HOUR }),
    ).rejects.toBeInstanceOf(BlobGcAbortedError);
    const closed = await Connection.connect({ address: testTemporalAddress() });
    await closed.close();
    await expect(
      collectBlobGarbage({ client: new Client({ connection: closed }), blobs, graceMs: HOUR }),
    ).rejects.toThrow(/blob GC aborted, nothing deleted/);
    expect(await blobs.list()).toEqual(everything);

    const progress: string[] = [];
    const report = await collectBlobGarbage({ client, blobs, graceMs: HOUR, onProgress: (m) => progress.push(m) });
    expect(report).toMatchObject({ blobs: 5, referenced: 3, young: 1, deleted: 1, freedBytes: 1900, dryRun: false });
    expect(report.workflowsScanned).toBeGreaterThanOrEqual(2);
    expect(await blobs.list()).toEqual([...finishedBlobs, runningBlob, youngOrphan].sort());
    expect(progress.join('\n')).toMatch(/listing running executions[\s\S]*sweeping 5 stored blob/);

    // Everything a handle points to still reads back.
    expect(await client.workflow.getHandle(finishedId).result()).toBe(input.toUpperCase());
    const [runningInput] = (await client.workflow.getHandle(running.workflowId).fetchHistory()).events ?? [];
    expect(runningInput?.workflowExecutionStartedEventAttributes?.input?.payloads).toHaveLength(1);

    // The command line runs the same collection against TEMPORAL_ADDRESS.
    const out: string[] = [];
    const code = await runStateCommand(['gc', '--dry-run', '--grace', '30m'], {
      out: (l) => out.push(l),
      err: (l) => out.push(l),
      env: { TEMPORAL_ADDRESS: testTemporalAddress(), NALAR_DATA_DIR: dataDir },
    });
    expect({ code, out: out.join('\n') }).toMatchObject({
      code: 0,
      out: expect.stringMatching(/would delete 0 of 4 blob/),
    });
  } finally {
    await running.terminate('test done');
  }
});
