/**
 * Part 2 of `npm run bench -- state`: workflow history size per agent step with and without payload offload.
 * A conversation loop (bench/workflows/state-history.ts) passes the whole conversation through an activity
 * every step, on the real dev server with one plain in-process worker per mode (no future runtime: the
 * figures are Temporal's and the data converter's); worker and client of a mode share its converter.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { nalarDataConverter } from '../../../state/payloads/data-converter';
import { withBenchDevServer } from '../harness/dev-server';
import type { stateHistoryBenchWorkflow } from '../workflows/state-history';
import { errorText } from './error-text';
import {
  historySizes,
  modeResult,
  plainSteps,
  sizeResult,
  type HistoryMeasure,
  type HistoryModeResult,
  type HistoryRunRecord,
  type HistorySizeResult,
} from './history-stats';
import type { StateBenchOptions } from './options';
import { conversationText, turnJson, TURN_BYTES } from './payloads';

/** The history part of one run. */
export interface HistoryResult {
  temporalVersion: string;
  sizes: HistorySizeResult[];
  records: HistoryRunRecord[];
  seconds: number;
}

const workflowsPath = path.resolve(__dirname, '..', 'workflows', 'state-history.ts');

/** The history of a workflow, fetched in small pages (events of megabytes each stay under gRPC limits). */
export async function measureHistory(client: Client, workflowId: string): Promise<HistoryMeasure> {
  const events: temporal.api.history.v1.IHistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId },
      maximumPageSize: 2,
      nextPageToken,
    });
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  try {
    return historySizes(events);
  } catch (err) {
    throw new Error(`history of ${workflowId}: ${errorText(err)}`, { cause: err });
  }
}

/** Runs the history part on a dev server of its own; throws when the dev server or a worker cannot run. */
export async function runHistory(
  o: StateBenchOptions,
  runId: string,
  log: (line: string) => void,
): Promise<HistoryResult> {
  const started = performance.now();
  const blobDirs: string[] = [];
  try {
    return await withBenchDevServer({ log: (line) => log(`history: ${line}`) }, async (server) => {
      const activities = {
        async addTurn(input: { conversation: string; turn: number }): Promise<string> {
          return `${input.conversation}\n${turnJson(o.seed, input.turn)}`;
        },
      };
      const modes = [true, false].map((offload) => {
        const blobDir = mkdtempSync(path.join(os.tmpdir(), 'nalar-bench-state-blobs-'));
        blobDirs.push(blobDir);
        const dataConverter = nalarDataConverter({
          payloadOffload: offload,
          payloadOffloadBytes: o.offloadBytes,
          dataDir: blobDir,
        });
        return {
          offload,
          taskQueue: `bench-state-${offload ? 'offload' : 'plain'}-${runId}`,
          client: server.client(dataConverter),
          dataConverter,
        };
      });
      type Mode = (typeof modes)[number];
      const records: HistoryRunRecord[] = [];
      const runOne = async (mode: Mode, sizeKiB: number, conversation: string, steps: number) => {
        const workflowId = `bench-state-${runId}-${sizeKiB}k-${mode.offload ? 'offload' : 'plain'}-${steps}`;
        const t0 = performance.now();
        const record: HistoryRunRecord = {
          part: 'history',
          sizeKiB,
          offload: mode.offload,
          steps,
          ok: false,
          seconds: 0,
        };
        try {
          const result = await mode.client.workflow.execute<typeof stateHistoryBenchWorkflow>(
            'stateHistoryBenchWorkflow',
            {
              taskQueue: mode.taskQueue,
              workflowId,
              args: [{ conversation, steps }],
              workflowExecutionTimeout: '5 minutes',
            },
          );
          const expected = conversation.length + steps * (TURN_BYTES + 1);
          if (result.length !== expected) {
            throw new Error(`conversation of ${result.length} chars, expected ${expected}`);
          }
          const h = await measureHistory(mode.client, workflowId);
          Object.assign(record, { ok: true, historyBytes: h.bytes, events: h.events, afterStep: h.afterStep });
        } catch (err) {
          record.error = errorText(err);
        }
        record.seconds = (performance.now() - t0) / 1000;
        records.push(record);
        log(
          `  ${sizeKiB} KiB, offload ${mode.offload ? 'on ' : 'off'}, ${String(steps).padStart(3)} steps: ` +
            (record.ok ? `${record.historyBytes} history bytes, ${record.events} events` : `failed: ${record.error}`) +
            ` (${record.seconds.toFixed(1)} s)`,
        );
        return record;
      };
      const measureMode = async (mode: Mode, sizeKiB: number, conversation: string): Promise<HistoryModeResult> => {
        const plan = mode.offload ? { steps: o.steps } : plainSteps(conversation.length, o.steps);
        if ('reason' in plan) return { steps: 0, ran: false, reason: plan.reason };
        const base = await runOne(mode, sizeKiB, conversation, 0);
        const full = await runOne(mode, sizeKiB, conversation, plan.steps);
        return modeResult(base, full, plan.steps);
      };
      log(`history: one plain in-process worker per mode (offload on, off)`);
      const sizes: HistorySizeResult[] = [];
      await server.runWorkers(
        modes.map((m) => ({
          taskQueue: m.taskQueue,
          workflowsPath,
          runtime: 'plain' as const,
          activities,
          dataConverter: m.dataConverter,
        })),
        async () => {
          for (const sizeKiB of o.sizesKiB) {
            const conversation = conversationText(o.seed, sizeKiB);
            const withOffload = await measureMode(modes[0]!, sizeKiB, conversation);
            const withoutOffload = await measureMode(modes[1]!, sizeKiB, conversation);
            sizes.push(sizeResult(sizeKiB, withOffload, withoutOffload));
          }
        },
      );
      return {
        temporalVersion: server.temporalVersion,
        sizes,
        records,
        seconds: (performance.now() - started) / 1000,
      };
    });
  } finally {
    for (const d of blobDirs) rmSync(d, { recursive: true, force: true });
  }
}
