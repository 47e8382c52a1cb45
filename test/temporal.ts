/** Helpers for integration tests that use the run's shared Temporal dev server (see global-setup.ts). */
import { TestWorkflowEnvironment } from '@temporalio/testing';
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

export type { NalarWorkflowBundle };
