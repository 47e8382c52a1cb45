/**
 * Reports workflows whose code fails their workflow task (a bug such as a `TypeError`): Temporal retries such
 * a task until a worker with fixed code picks it up, which is the point of Temporal, but to a user it looks
 * like a hang. The worker logs each such run once at error level, naming it, instead of a warning per retry.
 */
import type { InjectedSinks } from '@temporalio/worker';
import type { Logger } from '../../common/log';
import type { NalarDiagnosticsSinks } from '../../stubs/workflow/interceptors';

/** How many runs the dedup remembers (oldest forgotten first); a forgotten run that fails again is logged again. */
const rememberedRuns = 10_000;

/** A set of recent keys, bounded: `add` is true only the first time a key is seen. */
export class RecentKeys {
  private readonly keys = new Set<string>();
  constructor(private readonly capacity: number = rememberedRuns) {}

  /** True when `key` was not seen (among the last `capacity` keys); remembers it. */
  add(key: string): boolean {
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    if (this.keys.size > this.capacity) this.keys.delete(this.keys.values().next().value as string);
    return true;
  }
}

/**
 * The `nalarDiagnostics` sink (workflow side: stubs/workflow/interceptors.ts): logs a failing workflow task at
 * error level once per workflow run, with workflow id, run id, type and the error. Not called during replay.
 */
export function taskFailureSinks(log: Logger): InjectedSinks<NalarDiagnosticsSinks> {
  const seen = new RecentKeys();
  return {
    nalarDiagnostics: {
      workflowTaskFailed: {
        fn(info, error) {
          if (!seen.add(info.runId)) return;
          log.error(
            `workflow ${info.workflowType} ${info.workflowId} is stuck: its code threw, so Temporal retries its ` +
              `workflow task until a worker runs fixed code (logged once per run; list them with \`nalar stuck\`)`,
            {
              workflowId: info.workflowId,
              runId: info.runId,
              workflowType: info.workflowType,
              error: `${error.name}: ${error.message}`,
            },
          );
        },
        callDuringReplay: false,
      },
    },
  };
}
