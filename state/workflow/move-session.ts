/**
 * Moves a session to another worker: the ownership transfer is the commit point; telling the old owner to
 * drop its copy and warming the new owner's cache are best effort, because correctness never depends on
 * them (every cached read checks the owner record first). The control plane starts one per migration;
 * its workflow id (see `moveSession`) keeps two moves of one session from running at once.
 */
import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { frameworkActivities } from '../placement/activities';
import type { placementActivities } from '../placement/activities';
import type { WarmResult } from '../placement/cached-store';

const { transferSessionOwnership } = proxyActivities<typeof frameworkActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 5 },
});

/** Placement activities of one worker: a worker that is gone must not hold the move up for long. */
function placementOf(taskQueue: string, scheduleToStartTimeout: number) {
  return proxyActivities<typeof placementActivities>({
    taskQueue,
    scheduleToStartTimeout,
    startToCloseTimeout: '30 seconds',
    retry: { maximumAttempts: 1 },
  });
}

export interface MoveSessionInput {
  sessionId: string;
  /** Worker id (NALAR_WORKER_ID) of the new owner. */
  to: string;
  /** How long (ms) to wait for a worker to pick up its warm or drop message. @default 30000 (drop: 10000) */
  workerTimeoutMs?: number;
}

export interface MoveSessionResult {
  sessionId: string;
  from?: string;
  to: string;
  epoch: number;
  /** The old owner dropped its copy (false: it was gone or had none; its copy is invalid anyway). */
  dropped: boolean;
  /** What the new owner loaded; undefined if it could not be reached (it then fills its cache lazily). */
  warmed?: WarmResult;
  /** Why warming or dropping did not happen, if it did not. */
  notes: string[];
}

function reason(err: unknown): string {
  if (err instanceof ActivityFailure) return `${err.cause?.message ?? err.message}`;
  return err instanceof Error ? err.message : String(err);
}

export async function moveSessionWorkflow(input: MoveSessionInput): Promise<MoveSessionResult> {
  const transfer = await transferSessionOwnership({ sessionId: input.sessionId, to: input.to });
  const notes: string[] = [];
  let dropped = false;
  if (transfer.fromQueue && transfer.from !== transfer.to) {
    try {
      dropped = await placementOf(transfer.fromQueue, input.workerTimeoutMs ?? 10_000).dropSessionCache({
        sessionId: input.sessionId,
      });
    } catch (err) {
      notes.push(`old owner ${transfer.from}: ${reason(err)}`);
    }
  }
  let warmed: WarmResult | undefined;
  try {
    warmed = await placementOf(transfer.toQueue, input.workerTimeoutMs ?? 30_000).warmSessionCache({
      sessionId: input.sessionId,
    });
    if (!warmed) notes.push(`new owner ${transfer.to}: state cache off or ownership changed again`);
  } catch (err) {
    notes.push(`new owner ${transfer.to}: ${reason(err)}`);
  }
  return {
    sessionId: transfer.sessionId,
    ...(transfer.from !== undefined && { from: transfer.from }),
    to: transfer.to,
    epoch: transfer.epoch,
    dropped,
    ...(warmed && { warmed }),
    notes,
  };
}
