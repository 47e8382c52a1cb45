/**
 * A policy's priority into Temporal, on the real dev server: a workflow that gets the `nalar.setPriority`
 * signal mid-run schedules its later calls with that priority key (and reports it in their futures), keeps
 * it across continue-as-new, ignores an invalid signal without failing, and replays (fresh and checked-in).
 * The global controller's signaller signals only the running workflows of sessions whose priorities changed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { register } from 'prom-client';
import { definitions } from '../activities/agents';
import { GlobalController } from '../control-plane/global-controller/controller';
import type { InstalledPolicy } from '../control-plane/global-controller/policy-config';
import { PrioritySignaller, prioritySignalName } from '../control-plane/global-controller/priority-signals';
import { startControllerServer } from '../control-plane/global-controller/server';
import { GlobalLink } from '../control-plane/local-controller/global-link';
import { LocalController } from '../control-plane/local-controller/local-controller';
import { createLogger } from '../common/log';
import { nalarSinks } from '../data-plane/worker/worker';
import { probe } from './fixtures/probe-tool';
import type { PrioritySignalInput } from './fixtures/workflows/priority';
import { waitFor } from './helpers/wait-for';
import { bundle, connectTestEnv, withNalarWorker, type NalarWorkflowBundle } from './temporal';

const fixture = path.join(__dirname, 'fixtures', 'priority-signal-history.json');
const fixtureWorkflowId = 'priority-signal-fixture';

let env: TestWorkflowEnvironment;
let workflowBundle: NalarWorkflowBundle;

beforeAll(async () => {
  env = await connectTestEnv();
  workflowBundle = await bundle(path.join(__dirname, 'fixtures', 'workflows', 'priority.ts'));
});

afterAll(async () => {
  await env?.teardown();
});

type History = temporal.api.history.v1.IHistory;

/** Activity id (`<workflowId>/<n>`) → the priority key its ActivityTaskScheduled event carries (0: none). */
function scheduledPriorities(history: History): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of history.events ?? []) {
    const a = e.activityTaskScheduledEventAttributes;
    if (a?.activityId) out.set(a.activityId, a.priority?.priorityKey ?? 0);
  }
  return out;
}

function countEvents(history: History, has: (e: temporal.api.history.v1.IHistoryEvent) => unknown): number {
  return (history.events ?? []).filter(has).length;
}

/** Waits until the workflow waits for `proceed`: its two earlier calls have completed. */
async function untilWaiting(handle: WorkflowHandle): Promise<void> {
  await waitFor(
    async () => countEvents(await handle.fetchHistory(), (e) => e.activityTaskCompletedEventAttributes) >= 2,
    { what: `${handle.workflowId} to finish its earlier calls`, intervalMs: 100 },
  );
}

const workerOptions = (controller: LocalController) => ({
  workflowBundle,
  localController: controller,
  definitions: [...definitions, probe],
});

/**
 * Runs the workflow: waits for its earlier calls, sends `signals` (priority signal payloads), lets it go on,
 * and returns its result, the last run's history and the futures' last reported metadata.
 */
async function runWithSignals(
  signals: unknown[],
  options: { workflowId?: string; continueAsNew?: boolean; withStart?: unknown } = {},
) {
  const controller = new LocalController();
  return withNalarWorker(env, 'prio', workerOptions(controller), async (taskQueue) => {
    const workflowId = options.workflowId ?? `${taskQueue}-wf`;
    const input: PrioritySignalInput = { sessionId: 'sess-p', continueAsNew: options.continueAsNew ?? false };
    const start = { taskQueue, workflowId, args: [input] as [PrioritySignalInput] };
    const handle =
      options.withStart === undefined
        ? await env.client.workflow.start('prioritySignalWorkflow', start)
        : await env.client.workflow.signalWithStart('prioritySignalWorkflow', {
            ...start,
            signal: prioritySignalName,
            signalArgs: [options.withStart],
          });
    await untilWaiting(handle);
    for (const payload of signals) await handle.signal(prioritySignalName, payload);
    await handle.signal('proceed');
    const result = await env.client.workflow.getHandle(workflowId).result();
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory(); // the last run
    const metas = new Map(controller.recent().map((e) => [e.futureId, e.meta]));
    const firstRunId = 'signaledRunId' in handle ? handle.signaledRunId : handle.firstExecutionRunId;
    const firstRunHistory = await env.client.workflow.getHandle(workflowId, firstRunId).fetchHistory();
    return { result, history, metas, workflowId, firstRunHistory };
  });
}

test('later calls carry the signalled priority (per agent, then for all); earlier calls and own priorities keep theirs', async () => {
  const { result, history, metas, workflowId } = await runWithSignals([{ value: 1, agent: 'probe' }, { value: 4 }], {
    workflowId: fixtureWorkflowId,
  });
  expect(result).toEqual([1, 'LATER', 2]);
  const id = (n: number) => `${workflowId}/${n}`;
  // 1: probe.echo, 2: textTools.shout (earlier); 3: probe.echo, 4: textTools.shout, 5: probe.echo priority 2.
  expect(Object.fromEntries(scheduledPriorities(history))).toEqual({
    [id(1)]: 0,
    [id(2)]: 0,
    [id(3)]: 1,
    [id(4)]: 4,
    [id(5)]: 2,
  });
  // The futures' metadata (what the local and global controllers read) says the same.
  expect([1, 2, 3, 4, 5].map((n) => metas.get(id(n))?.priority)).toEqual([undefined, undefined, 1, 4, 2]);

  if (process.env.NALAR_RECORD_FIXTURES === '1') writeFileSync(fixture, historyToJSON(history) + '\n');
  const replayed = new LocalController();
  await expect(
    Worker.runReplayHistory({ workflowBundle, sinks: nalarSinks(replayed) }, history, workflowId),
  ).resolves.toBeUndefined();
  expect(replayed.recent()).toEqual([]); // replay sends no telemetry
});

test('an invalid signal is ignored without failing the workflow; null clears a priority', async () => {
  const { result, history, workflowId } = await runWithSignals([
    { value: 2 },
    { value: null },
    { value: 9 },
    'not an object',
    { value: 1, agent: '' },
  ]);
  expect(result).toEqual([1, 'LATER', 2]);
  expect(countEvents(history, (e) => e.workflowTaskFailedEventAttributes)).toBe(0);
  const priorities = scheduledPriorities(history);
  expect([1, 2, 3, 4, 5].map((n) => priorities.get(`${workflowId}/${n}`))).toEqual([0, 0, 0, 0, 2]);
});

test('a signal sent with the start applies to the first calls', async () => {
  const { history, workflowId } = await runWithSignals([], { withStart: { value: 3 } });
  const priorities = scheduledPriorities(history);
  expect([1, 2, 3, 4, 5].map((n) => priorities.get(`${workflowId}/${n}`))).toEqual([3, 3, 3, 3, 2]);
});

test('the priorities carry over continue-as-new', async () => {
  const { result, history, firstRunHistory } = await runWithSignals([{ value: 5 }], { continueAsNew: true });
  expect(result).toEqual([1, 'LATER', 2]);
  expect(countEvents(firstRunHistory, (e) => e.workflowExecutionContinuedAsNewEventAttributes)).toBe(1);
  // The new run makes only the later calls (its ids start again at 1): all at 5 but the one with its own 2.
  expect([...scheduledPriorities(history).values()]).toEqual([5, 5, 2]);
});

test('the checked-in history of a workflow that received the signal still replays', async () => {
  const history: unknown = JSON.parse(readFileSync(fixture, 'utf8'));
  const sinks = nalarSinks(new LocalController());
  await expect(Worker.runReplayHistory({ workflowBundle, sinks }, history, fixtureWorkflowId)).resolves.toBeUndefined();
});

describe('the global controller signaller', () => {
  /** The priority signals a workflow received so far, in order. */
  async function receivedSignals(handle: WorkflowHandle): Promise<unknown[]> {
    const { events } = await handle.fetchHistory();
    return (events ?? [])
      .map((e) => e.workflowExecutionSignaledEventAttributes)
      .filter((a) => a?.signalName === prioritySignalName)
      .map((a) => defaultPayloadConverter.fromPayload(a?.input?.payloads?.[0] ?? {}));
  }

  /**
   * Waits until a workflow's history shows these priority signals. A signal that comes while a workflow task
   * is in flight is buffered by the server and written to the history only when that task completes.
   */
  async function untilReceived(handle: WorkflowHandle, expected: unknown[]): Promise<void> {
    const want = JSON.stringify(expected);
    let got: unknown[] = [];
    await waitFor(async () => JSON.stringify((got = await receivedSignals(handle))) === want, {
      what: () => `${handle.workflowId} to have received ${want}, not ${JSON.stringify(got)}`,
      intervalMs: 100,
    });
  }

  const metric = async (outcome: string): Promise<number> => {
    const values = (await register.getSingleMetric('nalar_global_controller_priority_signals_total')?.get())?.values;
    return values?.find((v) => v.labels.outcome === outcome)?.value ?? 0;
  };

  test('signals the running workflows of changed sessions only; a closed workflow is no error', async () => {
    const controller = new LocalController();
    await withNalarWorker(env, 'prio-gc', workerOptions(controller), async (taskQueue) => {
      const start = async (name: string, sessionId: string) => {
        const handle = await env.client.workflow.start('prioritySignalWorkflow', {
          taskQueue,
          workflowId: `${taskQueue}-${name}`,
          args: [{ sessionId } satisfies PrioritySignalInput],
        });
        await untilWaiting(handle);
        return handle;
      };
      const [a, b1, b2, c, closed] = await Promise.all([
        start('a', 'A'),
        start('b1', 'B'),
        start('b2', 'B'),
        start('c', 'C'),
        start('closed', 'C'),
      ]);
      await closed.signal('proceed');
      await closed.result();
      const sessions: Record<string, WorkflowHandle[]> = { A: [a], B: [b1, b2], C: [c, closed] };
      const lines: string[] = [];
      const signaller = new PrioritySignaller({
        client: env.client.workflow,
        workflowsOf: (session) => (sessions[session] ?? []).map((h) => h.workflowId),
        concurrency: 2,
        logger: createLogger('test', 'info', (line) => lines.push(line)),
      });
      const closedBefore = await metric('closed');

      const outcome = await signaller.update(
        { A: { '*': 2 }, B: { '*': 1 } },
        { A: { '*': 2 }, B: { '*': 4, probe: 1 }, C: { textTools: 5 } },
      );
      // B: two changed keys × two workflows; C: one key, one running workflow and one closed.
      expect(outcome).toEqual({ sent: 5, closed: 1, failed: 0 });
      expect(await metric('closed')).toBe(closedBefore + 1);
      for (const h of [b1, b2]) await untilReceived(h, [{ value: 4 }, { value: 1, agent: 'probe' }]);
      await untilReceived(c, [{ value: 5, agent: 'textTools' }]);
      expect(await receivedSignals(a)).toEqual([]);

      // Nothing changed: nothing sent. A session dropped: its keys cleared.
      const same = { A: { '*': 2 }, B: { '*': 4, probe: 1 }, C: { textTools: 5 } };
      expect(await signaller.update(same, same)).toEqual({ sent: 0, closed: 0, failed: 0 });
      expect(await signaller.update(same, { B: same.B, C: same.C })).toEqual({ sent: 1, closed: 0, failed: 0 });
      await untilReceived(a, [{ value: null }]);
      expect(lines).toEqual([]);

      // The signalled workflows run their later calls with the new priorities.
      for (const h of [a, b1, b2, c]) await h.signal('proceed');
      await Promise.all([a, b1, b2, c].map((h) => h.result()));
      const keys = async (h: WorkflowHandle) => [...scheduledPriorities(await h.fetchHistory()).values()];
      expect(await keys(a)).toEqual([0, 0, 0, 0, 2]);
      expect(await keys(b1)).toEqual([0, 0, 1, 4, 2]);
      expect(await keys(c)).toEqual([0, 0, 0, 5, 2]);
    });
  });

  test('a failure to find or signal workflows is counted and logged once, never thrown', async () => {
    const lines: string[] = [];
    const signaller = new PrioritySignaller({
      client: env.client.workflow,
      workflowsOf: (session) => {
        if (session === 'broken') throw new Error('graph unavailable');
        return ['no-such-workflow-ever-started'];
      },
      logger: createLogger('test', 'info', (line) => lines.push(line)),
    });
    const failedBefore = await metric('failed');
    const outcome = await signaller.update({}, { broken: { '*': 1 }, gone: { '*': 2 } });
    // A workflow id that never existed is "not found", as a closed (and deleted) one would be.
    expect(outcome).toEqual({ sent: 0, closed: 1, failed: 1 });
    expect(await metric('failed')).toBe(failedBefore + 1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/priority signals failed.*failed=1.*graph unavailable/);
  });
});

test("a policy's setPriority in the global controller reaches the session's running workflow: its later calls carry the key", async () => {
  // The whole path: the worker's local controller reports the session's futures over its link, a real global
  // controller's policy raises that session, and the server's signaller takes it into the workflow.
  const raise: InstalledPolicy = {
    name: 'raise-gc-session',
    params: undefined,
    policy: {
      name: 'raise-gc-session',
      decide: (s, act) => {
        if (s.sessions.has('sess-gc')) act.setPriority('sess-gc', 1);
      },
    },
  };
  const log = createLogger('priority-e2e', 'warn');
  const globalController = new GlobalController({ policies: [raise], periodMs: 50, log });
  const server = await startControllerServer({
    host: '127.0.0.1',
    port: 0,
    controller: globalController,
    log,
    workflowClient: env.client.workflow,
  });
  const controller = new LocalController();
  try {
    await withNalarWorker(env, 'prio-e2e', workerOptions(controller), async (taskQueue) => {
      const link = new GlobalLink({
        url: server.url,
        periodMs: 50,
        node: 'prio-e2e',
        taskQueues: [taskQueue],
        controller,
        log,
      }).start();
      try {
        const workflowId = `${taskQueue}-wf`;
        const handle = await env.client.workflow.start('prioritySignalWorkflow', {
          taskQueue,
          workflowId,
          args: [{ sessionId: 'sess-gc' } satisfies PrioritySignalInput],
        });
        await untilWaiting(handle);
        await waitFor(
          async () =>
            countEvents(
              await handle.fetchHistory(),
              (e) => e.workflowExecutionSignaledEventAttributes?.signalName === prioritySignalName,
            ) >= 1,
          { what: `${workflowId} to get the controller's priority signal`, intervalMs: 100 },
        );
        await handle.signal('proceed');
        expect(await handle.result()).toEqual([1, 'LATER', 2]);
        const priorities = scheduledPriorities(await handle.fetchHistory());
        // Earlier calls: none; later: the policy's 1, and the call with its own 2 keeps it.
        expect([1, 2, 3, 4, 5].map((n) => priorities.get(`${workflowId}/${n}`))).toEqual([0, 0, 1, 1, 2]);
      } finally {
        await link.stop();
      }
    });
  } finally {
    await server.close();
  }
});
