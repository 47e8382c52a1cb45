/**
 * Nalar errors thrown by activity code reach the workflow as typed failures on a real worker: the type is
 * the stable code, Temporal retries only what the code says may succeed on retry, and structured details
 * (a conflict's versions) survive the activity boundary.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ErrorCode, failureCode } from '../common/errors';
import { ManagedList, ManagedMap } from '../state/managed';
import { createFileSessionStore, type SessionStore } from '../state/session-store';
import type { FailureActivities } from './fixtures/workflows/failures';
import {
  activityFailureOf,
  bundle,
  connectTestEnv,
  withNalarWorker,
  type ActivityFailureChain,
  type NalarWorkflowBundle,
} from './temporal';

let env: TestWorkflowEnvironment;
let workflowBundle: NalarWorkflowBundle;
let dataDir: string;
let store: SessionStore;

beforeAll(async () => {
  env = await connectTestEnv();
  workflowBundle = await bundle(path.join(__dirname, 'fixtures', 'workflows', 'failures.ts'));
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'nalar-failures-'));
  store = createFileSessionStore(path.join(dataDir, 'state'));
  await store.waitUntilReady();
});

afterAll(async () => {
  await store?.close();
  await env?.teardown();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Attempt numbers of every activity run, and the message each one threw. */
const runs: { activity: string; attempt: number; thrown: string }[] = [];

async function recorded<T>(activity: string, fn: () => Promise<T>): Promise<T> {
  const attempt = Context.current().info.attempt;
  try {
    return await fn();
  } catch (err) {
    runs.push({ activity, attempt, thrown: (err as Error).message });
    throw err;
  }
}

const activities = {
  appendUnserialisable: ({ sessionId }) =>
    recorded('appendUnserialisable', () => new ManagedList('turns', { sessionId, store }).append({ tokens: 1n })),
  writeStale: ({ sessionId }) =>
    recorded('writeStale', () =>
      new ManagedMap('profile', { sessionId, store }).set('name', 'Ada', { expectedVersion: 3 }),
    ),
} satisfies FailureActivities;

/** Runs `workflowType` on a Nalar worker and returns what it failed with: the activity failure and its cause. */
function failureOf(workflowType: string): Promise<ActivityFailureChain> {
  return withNalarWorker(env, 'failures', { workflowBundle, activities }, (taskQueue) =>
    activityFailureOf(
      env.client.workflow.execute(workflowType, {
        taskQueue,
        workflowId: `${taskQueue}-wf`,
        args: [`session-${taskQueue}`],
        // A failure retried forever would otherwise keep the test waiting until Jest gives up.
        workflowExecutionTimeout: '30 seconds',
      }),
    ),
  );
}

test('a value that cannot be serialised fails the workflow at once with NALAR_ERR_STATE_INVALID', async () => {
  const { err, activity, cause } = await failureOf('appendUnserialisableWorkflow');
  expect(cause.type).toBe(ErrorCode.STATE_INVALID);
  expect(failureCode(err)).toBe(ErrorCode.STATE_INVALID);
  expect(cause.nonRetryable).toBe(true);
  expect(activity.retryState).toBe('NON_RETRYABLE_FAILURE');
  const attempts = runs.filter((r) => r.activity === 'appendUnserialisable');
  expect(attempts.map((r) => r.attempt)).toEqual([1]);
  expect(cause.message).toBe(attempts[0]?.thrown);
  expect(cause.message).toMatch(/^ManagedList turns: value cannot be serialised \(.*BigInt/);
});

test('a conflict is retried and reaches the workflow with its code and versions', async () => {
  const { activity, cause } = await failureOf('staleWriteWorkflow');
  expect(runs.filter((r) => r.activity === 'writeStale').map((r) => r.attempt)).toEqual([1, 2]);
  expect(activity.retryState).toBe('MAXIMUM_ATTEMPTS_REACHED');
  expect(cause.type).toBe(ErrorCode.STATE_CONFLICT);
  expect(cause.nonRetryable).toBe(false);
  expect(cause.message).toContain('expected version 3, found 0 (absent)');
  expect(cause.details).toEqual([{ expectedVersion: 3, actualVersion: 0 }]);
});
