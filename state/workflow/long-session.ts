/**
 * Long agent sessions: a workflow that loops for many turns should continue as new before its history
 * gets long. Its state passes to the new run as workflow input; with payload offload on (the default),
 * large values in that state travel as claim-check handles, so the new run starts with a small history.
 * Workflow-side: decisions use only recorded workflow info.
 */
import { workflowInfo } from '@temporalio/workflow';

export interface LongSessionLimits {
  /** Continue as new once history has this many events. @default 2000 */
  maxEvents?: number;
  /** Continue as new once history has this many bytes. @default 4 MiB */
  maxBytes?: number;
}

/**
 * True when the workflow should call `continueAsNew` now: the server suggests it, or history passed one of
 * the limits. Call it between turns (not in the middle of one), then `await continueAsNew<typeof wf>(state)`.
 */
export function shouldContinueAsNew(limits: LongSessionLimits = {}): boolean {
  const info = workflowInfo();
  return (
    info.continueAsNewSuggested ||
    info.historyLength >= (limits.maxEvents ?? 2000) ||
    info.historySize >= (limits.maxBytes ?? 4 * 1024 * 1024)
  );
}
