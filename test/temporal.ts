/** Helpers for integration tests that use the run's shared Temporal dev server (see global-setup.ts). */
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { workflowInterceptorModules } from '../control-plane/worker/worker';

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
 * Bundles workflow code once per test file (bundling is the slow part of creating a worker), with the
 * future runtime's workflow interceptors, as the worker bundles it.
 */
export function bundle(workflowsPath: string): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath, workflowInterceptorModules, logger: quietBundlerLogger });
}

const noop = (): void => undefined;
const quietBundlerLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };

/** A task queue name no other test uses. */
export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
