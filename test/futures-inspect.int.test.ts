/**
 * Futures where users look, on the real dev server: every stub call's ActivityTaskScheduled event carries a
 * readable summary (Temporal user metadata, the Web UI timeline), and `nalar futures` lists every future of a
 * run (completed, failed, in progress) with its edges and times, as the module and as the real command.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { definitions } from '../activities/agents';
import { loadConfig } from '../common/config';
import { nalarDataConverter } from '../state/payloads/data-converter';
import { connectNalarClient } from '../client';
import { runFuturesCommand } from '../stubs/inspect/command';
import { readFutures } from '../stubs/inspect/read-futures';
import { futuresReport, type FutureRecord, type FuturesReport } from '../stubs/inspect/report';
import { probe } from './fixtures/probe-tool';
import { waitFor } from './helpers/wait-for';
import { activityFailureOf, bundle, connectTestEnv, testTemporalAddress, withNalarWorker } from './temporal';
import type { NalarWorkflowBundle } from './temporal';

const nalarBin = path.resolve(__dirname, '..', 'scripts', 'nalar.mjs');

let env: TestWorkflowEnvironment;
let workflowBundle: NalarWorkflowBundle;
/** Worker and clients share one data converter with offload at its smallest threshold, in a fresh blob folder. */
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nalar-futures-'));
const converterConfig = { payloadOffload: true, payloadOffloadBytes: 256, dataDir };
const dataConverter = nalarDataConverter(converterConfig);
/** What `nalar futures` reads: this dev server and the same blob folder. */
const commandEnv = (): NodeJS.ProcessEnv => ({
  TEMPORAL_ADDRESS: testTemporalAddress(),
  TEMPORAL_NAMESPACE: 'default',
  NALAR_DATA_DIR: dataDir,
  NALAR_PAYLOAD_OFFLOAD_BYTES: '256',
});
let client: Client;

beforeAll(async () => {
  env = await connectTestEnv();
  client = new Client({ connection: env.connection, dataConverter });
  workflowBundle = await bundle(path.join(__dirname, 'fixtures', 'workflows', 'futures.ts'));
});

afterAll(async () => {
  await env?.teardown();
});

function withWorker<T>(fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const options = { workflowBundle, dataConverter, definitions: [...definitions, probe] };
  return withNalarWorker(env, 'futures-inspect', options, fn);
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Event time in ms (fractional) of a history event. */
const timeOf = (e: HistoryEvent | undefined): number =>
  Number(e?.eventTime?.seconds ?? NaN) * 1000 + (e?.eventTime?.nanos ?? 0) / 1e6;

/** The scheduled, started and closing events of the activity with this id. */
function eventsOf(events: HistoryEvent[], activityId: string) {
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityId === activityId);
  const ref = String(scheduled?.eventId);
  const byRef = (pick: (e: HistoryEvent) => { scheduledEventId?: unknown } | null | undefined) =>
    events.find((e) => String(pick(e)?.scheduledEventId ?? '') === ref);
  return {
    scheduled,
    started: byRef((e) => e.activityTaskStartedEventAttributes),
    closed: byRef((e) => e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes),
  };
}

async function runCommand(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runFuturesCommand(args, { out: (l) => out.push(l), err: (l) => err.push(l), env: commandEnv() });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** Runs the real `nalar` bin (tsx, as users do) from a folder outside the repo. */
async function runBin(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [nalarBin, ...args], {
      cwd: os.tmpdir(),
      env: { ...process.env, ...commandEnv() },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('a fan-out/fan-in run (textPipelineWorkflow)', () => {
  let workflowId: string;
  let events: HistoryEvent[];
  let report: FuturesReport;
  const id = (n: number) => `${workflowId}/${n}`;
  const future = (n: number) => report.futures.find((f) => f.id === id(n)) as FutureRecord;

  beforeAll(async () => {
    // Sentences long enough that the shouted values are offloaded: the summaries must stay inline anyway.
    const sentences = ['one two', 'three', 'four five six'].map((s) => `${s} ${'la '.repeat(120)}`);
    workflowId = await withWorker(async (taskQueue) => {
      const wfId = `${taskQueue}-pipeline`;
      await client.workflow.execute('textPipelineWorkflow', { taskQueue, workflowId: wfId, args: [{ sentences }] });
      return wfId;
    });
    events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    const nalarClient = await connectNalarClient({ config: loadConfig({ env: commandEnv() }) });
    try {
      report = await readFutures(nalarClient, { workflowId });
    } finally {
      await nalarClient.connection.close();
    }
  });

  test('every ActivityTaskScheduled event has a readable summary naming the method and its dependencies', () => {
    const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes);
    const summaries = scheduled.map((e) => {
      const payload = e.userMetadata?.summary as Payload;
      // Inline JSON, not a claim-check handle: the Web UI and the CLI read it without a codec.
      expect(Buffer.from(payload.metadata?.encoding ?? []).toString()).toBe('json/plain');
      return [e.activityTaskScheduledEventAttributes?.activityId, defaultPayloadConverter.fromPayload(payload)];
    });
    expect(Object.fromEntries(summaries)).toEqual({
      [id(1)]: 'textTools.shout #1',
      [id(2)]: 'textTools.shout #2',
      [id(3)]: 'textTools.shout #3',
      [id(4)]: 'textTools.join #4 ← textTools.shout #1, textTools.shout #2, textTools.shout #3',
      [id(5)]: 'textTools.countWords #5 ← textTools.join #4',
    });
    // The shouted values themselves were offloaded: the summary is what stays readable.
    const results = events.flatMap((e) => e.activityTaskCompletedEventAttributes?.result?.payloads ?? []);
    expect(results.some((p) => Buffer.from(p.metadata?.encoding ?? []).toString() === 'binary/nalar-blob')).toBe(true);
  });

  test('readFutures lists every future, completed, with dependencies and consumers', () => {
    expect(report).toMatchObject({ workflowId, workflowType: 'textPipelineWorkflow', status: 'completed' });
    expect(report.futures.map((f) => [f.n, f.activityType, f.state, f.attempts])).toEqual([
      [1, 'textTools.shout', 'completed', 1],
      [2, 'textTools.shout', 'completed', 1],
      [3, 'textTools.shout', 'completed', 1],
      [4, 'textTools.join', 'completed', 1],
      [5, 'textTools.countWords', 'completed', 1],
    ]);
    expect(future(4).dependencies).toEqual([id(1), id(2), id(3)]);
    for (const n of [1, 2, 3]) expect(future(n).consumers).toEqual([id(4)]);
    expect(future(4).consumers).toEqual([id(5)]);
    expect(future(5)).toMatchObject({ dependencies: [id(4)], consumers: [], error: null });
    expect(future(4).summary).toBe('textTools.join #4 ← textTools.shout #1, textTools.shout #2, textTools.shout #3');
  });

  test("queue and service times are the history's own event times", () => {
    for (const f of report.futures) {
      const { scheduled, started, closed } = eventsOf(events, f.id);
      const queue = timeOf(started) - timeOf(scheduled);
      const service = timeOf(closed) - timeOf(started);
      expect([queue, service].every((ms) => Number.isFinite(ms) && ms >= 0)).toBe(true);
      expect(f.firstQueueMs).toBeGreaterThanOrEqual(0);
      expect(f.serviceMs).toBeGreaterThanOrEqual(0);
      expect(f.firstQueueMs).toBeCloseTo(queue, 2);
      expect(f.lastQueueMs).toBe(f.firstQueueMs);
      expect(f.waitMs).toBe(f.firstQueueMs);
      expect(f.serviceMs).toBeCloseTo(service, 2);
      expect(Date.parse(f.scheduledAt)).toBe(Math.floor(timeOf(scheduled)));
      expect(Date.parse(f.closedAt as string)).toBe(Math.floor(timeOf(closed)));
    }
    // The join could only be scheduled once every shout had completed.
    const closedAt = (n: number) => timeOf(eventsOf(events, id(n)).closed);
    expect(timeOf(eventsOf(events, id(4)).scheduled)).toBeGreaterThanOrEqual(Math.max(...[1, 2, 3].map(closedAt)));
  });

  test('the command prints an aligned table, or the same report as JSON', async () => {
    const table = await runCommand([workflowId]);
    expect(table).toMatchObject({ code: 0, err: '' });
    const lines = table.out.split('\n');
    expect(lines[0]).toContain(`workflow ${workflowId}`);
    const head = lines.find((l) => l.startsWith('FUTURE')) as string;
    expect(head).toMatch(/^FUTURE +METHOD +STATE +DEPENDS ON +CONSUMERS +ATTEMPTS +QUEUE +WAIT +SERVICE +ERROR$/);
    const row4 = lines.find((l) => l.startsWith('#4 ')) as string;
    expect(row4).toMatch(/^#4 +textTools\.join +completed +#1,#2,#3 +#5 +1 +[\d.]+m?s +[\d.]+m?s +[\d.]+m?s$/);
    // Aligned: every row's STATE column starts where the heading's does.
    const stateAt = head.indexOf('STATE');
    for (const l of lines.filter((x) => x.startsWith('#'))) expect(l.slice(stateAt)).toMatch(/^completed /);

    const json = await runCommand([workflowId, '--json']);
    expect(json.code).toBe(0);
    expect(futuresReport.parse(JSON.parse(json.out))).toEqual(report);
  });

  test('the real `nalar futures` bin prints the report as JSON; an unknown id is NALAR_ERR_WORKFLOW_NOT_FOUND', async () => {
    const [json, unknown] = await Promise.all([
      runBin(['futures', workflowId, '--json']),
      runBin(['futures', `${workflowId}-no-such-run`]),
    ]);
    expect(json.code).toBe(0);
    expect(futuresReport.parse(JSON.parse(json.stdout))).toEqual(report);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^nalar futures: NALAR_ERR_WORKFLOW_NOT_FOUND: no workflow ".*-no-such-run"/);
    expect(unknown.stderr).not.toMatch(/\n\s+at /); // no stack trace for a user error
  }, 60_000);
});

test('a failed run: the failed future shows failed with its error code; its dependent never ran', async () => {
  const workflowId = await withWorker(async (taskQueue) => {
    const wfId = `${taskQueue}-failing`;
    const run = client.workflow.execute('failingCallWorkflow', { taskQueue, workflowId: wfId, args: [] });
    const { cause } = await activityFailureOf(run);
    expect(cause.type).toBe('NALAR_PROBE_FAILED');
    return wfId;
  });
  const report = await readFutures(client, { workflowId });
  expect(report.status).toBe('failed');
  expect(report.futures.map((f) => [f.n, f.activityType, f.state])).toEqual([
    [1, 'probe.echo', 'completed'],
    [2, 'probe.fail', 'failed'],
  ]);
  const failed = report.futures[1] as FutureRecord;
  expect(failed.error).toEqual({ type: 'NALAR_PROBE_FAILED', message: 'boom' });
  expect(failed).toMatchObject({ attempts: 1, consumers: [] });
  expect(failed.serviceMs).toBeGreaterThanOrEqual(0);

  const table = await runCommand([workflowId]);
  expect(table.out).toMatch(/^#2 +probe\.fail +failed .* NALAR_PROBE_FAILED: boom$/m);
});

test('a run in progress: the running call shows started, with its queue time and no service time yet', async () => {
  await withWorker(async (taskQueue) => {
    const workflowId = `${taskQueue}-slow`;
    const handle = await client.workflow.start('slowCallWorkflow', { taskQueue, workflowId, args: [120_000] });
    try {
      const report = await waitFor(
        async () => {
          const r = await readFutures(client, { workflowId });
          return r.futures[1]?.state === 'started' ? r : undefined;
        },
        { what: 'the slow call to start' },
      );
      expect(report.status).toBe('running');
      expect(report.futures[0]).toMatchObject({ state: 'completed', consumers: [`${workflowId}/2`] });
      const running = report.futures[1] as FutureRecord;
      expect(running).toMatchObject({ activityType: 'probe.slow', attempts: 1, closedAt: null, serviceMs: null });
      expect(running.dependencies).toEqual([`${workflowId}/1`]);
      expect(running.firstQueueMs).toBeGreaterThanOrEqual(0);
      expect(Date.parse(running.startedAt as string)).toBeGreaterThanOrEqual(Date.parse(running.scheduledAt));
    } finally {
      await handle.terminate('test done');
    }
  });
});

test('usage: --help, a missing workflow id, an unknown flag', async () => {
  const help = await runCommand(['--help']);
  expect(help.code).toBe(0);
  expect(help.out).toMatch(/^Usage: nalar futures <workflowId>/);
  for (const args of [[], ['a', 'b'], ['wf', '--frobnicate']]) {
    const result = await runCommand(args);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/^nalar futures: NALAR_ERR_USAGE: /);
  }
});
