/** Helpers for integration tests that use the run's shared Temporal dev server (see global-setup.ts). */
import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { createNalarWorker, type NalarWorkerOptions } from '../data-plane/worker/worker';
import { assertWorkflowSide } from '../scripts/lint/workflow-side';
import { bundleNalarWorkflows, type NalarWorkflowBundle } from '../data-plane/worker/bundle';

/** Address of the shared dev server; throws when the global setup did not run. */
export function testTemporalAddress(): string {
  const address = process.env.NALAR_TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('NALAR_TEST_TEMPORAL_ADDRESS is not set: run the tests through jest (npm test)');
  return address;
}

/** A test environment (client + native connection) on the shared dev server. */
export function connectTestEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createFromExistingServer({ address: testTemporalAddress(), namespace: 'default' });
}

/**
 * Bundles workflow code once per test file (bundling is the slow part of creating a worker) exactly as the
 * worker bundles it: with the framework's workflows and the future runtime's workflow interceptors.
 */
export function bundle(workflowsPath: string): Promise<NalarWorkflowBundle> {
  assertWorkflowSide(workflowsPath);
  return bundleNalarWorkflows(workflowsPath);
}

/** A task queue name no other test uses. */
export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** What {@link withNalarWorker} takes: the worker's options but its connection and task queue. */
export type TestWorkerOptions = Omit<NalarWorkerOptions, 'connection' | 'namespace' | 'taskQueue'>;

/**
 * Runs `fn` while a Nalar worker on the shared dev server polls a task queue no other test uses (named
 * after `prefix`), and stops the worker when `fn` settles.
 */
export async function withNalarWorker<T>(
  env: TestWorkflowEnvironment,
  prefix: string,
  options: TestWorkerOptions,
  fn: (taskQueue: string) => Promise<T>,
): Promise<T> {
  const taskQueue = uniqueTaskQueue(prefix);
  const worker = await createNalarWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    ...options,
  });
  return worker.runUntil(fn(taskQueue));
}

/** How a workflow failed in an activity: the error, the activity failure and the application failure under it. */
export interface ActivityFailureChain {
  err: WorkflowFailedError;
  activity: ActivityFailure;
  cause: ApplicationFailure;
}

/** Awaits a workflow that must fail in an activity, and checks the chain WorkflowFailedError → ActivityFailure → ApplicationFailure. */
export async function activityFailureOf(workflow: Promise<unknown>): Promise<ActivityFailureChain> {
  const err = await workflow.then(
    () => {
      throw new Error('expected the workflow to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const activity = (err as WorkflowFailedError).cause;
  expect(activity).toBeInstanceOf(ActivityFailure);
  const cause = (activity as ActivityFailure).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return { err: err as WorkflowFailedError, activity: activity as ActivityFailure, cause: cause as ApplicationFailure };
}

export type { NalarWorkflowBundle };
