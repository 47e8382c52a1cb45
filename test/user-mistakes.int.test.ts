/**
 * The mistakes of a new user (issue 10) on a real worker and dev server: each fails fast with a named error
 * instead of retrying a workflow task forever. A stale stub, a typo in a stub method and a wrong input shape
 * fail the workflow in the workflow task that made the mistake (no WorkflowTaskFailed event, no retry); a code
 * bug keeps its task retrying (Temporal's way: fixed code resumes it) but is logged once per run and listed by
 * `nalar stuck`.
 */
import path from 'node:path';
import { ApplicationFailure, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createLogger } from '../common/log';
import { runStuckCommand } from '../data-plane/diagnostics/command';
import type { StuckWorkflow } from '../data-plane/diagnostics/stuck';
import { waitFor } from './helpers/wait-for';
import { bundle, connectTestEnv, testTemporalAddress, withNalarWorker, type NalarWorkflowBundle } from './temporal';

let env: TestWorkflowEnvironment;
let workflowBundle: NalarWorkflowBundle;

beforeAll(async () => {
  env = await connectTestEnv();
  workflowBundle = await bundle(path.join(__dirname, 'fixtures', 'workflows', 'mistakes.ts'));
});

afterAll(async () => {
  await env?.teardown();
});

const { EventType } = temporal.api.enums.v1;

/** The event types of a run's history, as names without the `EVENT_TYPE_` prefix. */
async function eventTypes(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).map((e) => String(EventType[e.eventType ?? 0]).replace(/^EVENT_TYPE_/, ''));
}

/** Starts `workflowType` on a Nalar worker, awaits its failure, and returns the failure with the history. */
async function failureOf(workflowType: string, args: unknown[]) {
  return withNalarWorker(env, 'mistakes', { workflowBundle }, async (taskQueue) => {
    const handle = await env.client.workflow.start(workflowType, {
      taskQueue,
      workflowId: `${taskQueue}-${workflowType}`,
      args,
      // Without the change under test the workflow task would retry forever; this ends the test instead.
      workflowExecutionTimeout: '60 seconds',
    });
    const err = await handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    return { failure: cause as ApplicationFailure, events: await eventTypes(handle) };
  });
}

/** The workflow failed in a workflow task that completed, and no workflow task ever failed (no retry). */
function expectFailedInOneTask(events: string[], workflowTasks: number): void {
  expect(events).not.toContain('WORKFLOW_TASK_FAILED');
  expect(events.filter((e) => e === 'WORKFLOW_TASK_COMPLETED')).toHaveLength(workflowTasks);
  expect(events.at(-1)).toBe('WORKFLOW_EXECUTION_FAILED');
}

test('a stub generated before a method was added fails the workflow at once with NALAR_ERR_STUB_METHOD_UNKNOWN', async () => {
  const { failure, events } = await failureOf('staleStubWorkflow', ['hello']);
  expect(failure.type).toBe('NALAR_ERR_STUB_METHOD_UNKNOWN');
  expect(failure.nonRetryable).toBe(true);
  expect(failure.message).toBe(
    'tool textTools has no method countWords (its stub has: join, shout); if you added it to the definition, ' +
      'run `npm run stubs` to regenerate the stubs, then restart the worker',
  );
  expect(failure.details).toEqual([{ agent: 'textTools', method: 'countWords', methods: ['join', 'shout'] }]);
  // The earlier call ran; the workflow task after it failed the workflow: two tasks, no retry.
  expect(events.filter((e) => e === 'ACTIVITY_TASK_COMPLETED')).toHaveLength(1);
  expectFailedInOneTask(events, 2);
});

test('a typo in a stub method fails the workflow in its first workflow task', async () => {
  const { failure, events } = await failureOf('typoWorkflow', ['hello']);
  expect(failure.type).toBe('NALAR_ERR_STUB_METHOD_UNKNOWN');
  expect(failure.nonRetryable).toBe(true);
  expect(failure.message).toMatch(/^tool textTools has no method shuot \(its stub has: countWords, join, shout\)/);
  expect(failure.message).toContain('npm run stubs');
  expectFailedInOneTask(events, 1);
});

test('a workflow started with the wrong input shape fails in its first workflow task, naming the field', async () => {
  const { failure, events } = await failureOf('helloAgentWorkflow', [{ questoin: 'typo in the key' }]);
  expect(failure.type).toBe('NALAR_ERR_INVALID_INPUT');
  expect(failure.nonRetryable).toBe(true);
  expect(failure.message).toBe(
    'invalid input of workflow helloAgentWorkflow: question: expected string, received undefined',
  );
  expect(failure.details).toEqual([
    {
      workflowType: 'helloAgentWorkflow',
      issues: [{ field: 'question', code: 'invalid_type', message: 'expected string, received undefined' }],
    },
  ]);
  expectFailedInOneTask(events, 1);
  expect(events).not.toContain('ACTIVITY_TASK_SCHEDULED');
});

test('a code bug keeps its workflow task retrying, is logged once per run and is listed by nalar stuck', async () => {
  const lines: string[] = [];
  const log = createLogger('worker', 'info', (line) => lines.push(line));
  await withNalarWorker(env, 'mistakes-crash', { workflowBundle, log }, async (taskQueue) => {
    const handle = await env.client.workflow.start('crashingWorkflow', {
      taskQueue,
      workflowId: `${taskQueue}-crash`,
      args: ['hello'],
    });
    try {
      // Several attempts of the failing task: the log must still hold one line for the run.
      await waitFor(async () => ((await handle.describe()).raw.pendingWorkflowTask?.attempt ?? 0) >= 3, {
        what: 'the third attempt of the failing workflow task',
        timeoutMs: 60_000,
      });
      const events = await eventTypes(handle);
      expect(events).toContain('WORKFLOW_TASK_FAILED');
      expect(events).not.toContain('WORKFLOW_EXECUTION_FAILED');

      const errors = lines.filter((l) => / error \[worker\] /.test(l) && l.includes(handle.workflowId));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(`workflow crashingWorkflow ${handle.workflowId} is stuck`);
      expect(errors[0]).toContain(`runId=${(await handle.describe()).runId}`);
      expect(errors[0]).toContain('workflowType=crashingWorkflow');
      expect(errors[0]).toMatch(/error="TypeError: Cannot read properties of undefined \(reading 'case'\)"/);

      const out: string[] = [];
      const err: string[] = [];
      const io = {
        out: (l: string) => out.push(l),
        err: (l: string) => err.push(l),
        env: { ...process.env, TEMPORAL_ADDRESS: testTemporalAddress(), TEMPORAL_NAMESPACE: 'default' },
      };
      const query = `TaskQueue = "${taskQueue}"`;
      // Visibility is eventually consistent: wait until the list shows the run.
      const listed = await waitFor(
        async () => {
          out.length = 0;
          expect(await runStuckCommand(['--json', '--query', query], io)).toBe(0);
          const { stuck } = JSON.parse(out.join('\n')) as { stuck: StuckWorkflow[] };
          return stuck.length > 0 && stuck;
        },
        { what: 'nalar stuck to list the workflow' },
      );
      expect(listed).toEqual([
        expect.objectContaining({
          workflowId: handle.workflowId,
          workflowType: 'crashingWorkflow',
          taskQueue,
          cause: 'WORKFLOW_WORKER_UNHANDLED_FAILURE',
          error: "TypeError: Cannot read properties of undefined (reading 'case')",
        }),
      ]);
      expect(listed[0]!.taskAttempt).toBeGreaterThanOrEqual(3);

      out.length = 0;
      expect(await runStuckCommand(['--query', query], io)).toBe(0);
      expect(out[0]).toMatch(/^WORKFLOW ID +TYPE +ATTEMPT +FAILING SINCE +ERROR$/);
      expect(out[1]).toContain(handle.workflowId);
      expect(out[1]).toContain("TypeError: Cannot read properties of undefined (reading 'case')");
      expect(out.at(-1)).toMatch(/^nalar stuck: 1 of 1 open workflow\(s\) in namespace default at .* are stuck/);
      expect(err).toEqual([]);
    } finally {
      await handle.terminate('test over');
    }
  });
}, 120_000);
