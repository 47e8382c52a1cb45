/**
 * The benchmark harness on a dev server of its own: workflows run on in-process workers (plain and Nalar)
 * with the data converter given, a bundle entry that is not workflow-side is refused, and when the benchmark
 * fails, its error comes out and the dev server, connections and data folder are gone.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { nalarDataConverter } from '../../../state/payloads/data-converter';
import { measureHistory } from '../state/history';
import type { stateHistoryBenchWorkflow } from '../workflows/state-history';
import { withBenchDevServer } from './dev-server';

const workflowsPath = path.resolve(__dirname, '..', 'workflows', 'state-history.ts');
const activities = {
  async addTurn(input: { conversation: string; turn: number }): Promise<string> {
    return `${input.conversation}\n${'t'.repeat(2_000)}${input.turn}`;
  },
};

/** Resolves when nothing accepts connections at `address` any more. */
function refused(address: string): Promise<boolean> {
  const [host, port] = address.split(':') as [string, string];
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

let blobDir: string;
beforeAll(() => {
  blobDir = mkdtempSync(path.join(os.tmpdir(), 'nalar-harness-test-'));
});
afterAll(() => rmSync(blobDir, { recursive: true, force: true }));

test('runs workflows on plain and Nalar workers, then closes everything even when the benchmark fails', async () => {
  const seen: { address?: string; dataDir?: string; lengths?: number[]; bytesPerStep?: number } = {};
  const failure = new Error('the benchmark failed');
  const dataConverter = nalarDataConverter({ payloadOffload: true, payloadOffloadBytes: 1024, dataDir: blobDir });

  const run = withBenchDevServer({ log: () => undefined }, async (server) => {
    seen.address = server.address;
    seen.dataDir = server.dataDir;
    await expect(
      server.runWorkers([{ taskQueue: 'refused', workflowsPath: __filename, runtime: 'plain' }], async () => 0),
    ).rejects.toThrow('is not workflow-side');

    const client = server.client(dataConverter);
    const conversation = 'c'.repeat(5_000);
    const steps = 3;
    const execute = (taskQueue: string, id: string) =>
      client.workflow.execute<typeof stateHistoryBenchWorkflow>('stateHistoryBenchWorkflow', {
        taskQueue,
        workflowId: id,
        args: [{ conversation, steps }],
      });
    await server.runWorkers(
      [
        { taskQueue: 'plain', workflowsPath, runtime: 'plain', activities, dataConverter },
        { taskQueue: 'nalar', workflowsPath, runtime: 'nalar', activities, dataConverter },
      ],
      async () => {
        const results = [await execute('plain', 'on-plain'), await execute('nalar', 'on-nalar')];
        seen.lengths = results.map((r) => r.length);
        const h = await measureHistory(client, 'on-plain');
        seen.bytesPerStep = (h.afterStep[steps]! - h.afterStep[0]!) / steps;
      },
    );
    throw failure;
  });

  await expect(run).rejects.toBe(failure);
  const grown = 5_000 + 3 * (1 + 2_000 + 1);
  expect(seen.lengths).toEqual([grown, grown]);
  // The converter reached worker and client: each step's ~7-9 KB of conversation went to the blob store,
  // and history kept handles only.
  expect(seen.bytesPerStep).toBeLessThan(2_000);
  expect(existsSync(seen.dataDir!)).toBe(false);
  expect(await refused(seen.address!)).toBe(true);
});
