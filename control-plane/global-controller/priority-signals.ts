/**
 * Takes a policy's priorities into Temporal: when `Decisions.priorities` changes for a session, every running
 * workflow of the session gets the `nalar.setPriority` signal, so the calls it schedules later carry the
 * priority as their task-queue priority key (stubs/workflow/priority.ts). Local controllers apply the same
 * decisions at once to calls already waiting in workers; this covers calls not yet scheduled. A signal is a
 * recorded call, so replay of the workflow stays deterministic.
 *
 * Signalling never fails the caller (the global controller's loop): a workflow that has closed meanwhile
 * is skipped, and any other failure is counted and logged once per update.
 */
import { WorkflowNotFoundError, type WorkflowClient } from '@temporalio/client';
import { Counter } from 'prom-client';
import { createLogger, type Logger } from '../../common/log';
import { getOrCreateMetric } from '../../common/metrics';
import type { PRIORITY_SIGNAL, PrioritySignal } from '../../stubs/workflow/types';
import type { Decisions } from '../protocol';

/** The signal's name (the annotation fails the type check if it drifts from the workflow side's). */
export const prioritySignalName: typeof PRIORITY_SIGNAL = 'nalar.setPriority';

/** Session → agent or '*' → priority, as in {@link Decisions}. */
export type SessionPriorities = Decisions['priorities'];

/** One signal to send to every running workflow of a session. */
export interface PriorityChange {
  session: string;
  signal: PrioritySignal;
}

/**
 * The signals that take each session from `prev` to `next`: one per agent key (or '*') whose value changed,
 * `value: null` for a key that is gone. A session whose priorities are equal in both gets none.
 */
export function priorityChanges(prev: SessionPriorities, next: SessionPriorities): PriorityChange[] {
  const changes: PriorityChange[] = [];
  for (const session of new Set([...Object.keys(prev), ...Object.keys(next)])) {
    const before = prev[session] ?? {};
    const after = next[session] ?? {};
    for (const agent of new Set([...Object.keys(before), ...Object.keys(after)])) {
      const value = after[agent] ?? null;
      if ((before[agent] ?? null) === value) continue;
      changes.push({ session, signal: agent === '*' ? { value } : { value, agent } });
    }
  }
  return changes;
}

/** What one {@link PrioritySignaller.update} did, in signals (a workflow gets one per changed key). */
export interface PrioritySignalOutcome {
  /** Delivered (recorded in the workflow's history). */
  sent: number;
  /** The workflow had closed: nothing left to prioritise. */
  closed: number;
  failed: number;
}

/** Options of {@link PrioritySignaller}. */
export interface PrioritySignallerOptions {
  /** Client of the namespace the sessions' workflows run in. */
  client: Pick<WorkflowClient, 'getHandle'>;
  /** Ids of the running workflows of a session (the global controller's live graph knows them). */
  workflowsOf(session: string): readonly string[] | Promise<readonly string[]>;
  /** Most signals in flight at once. @default 8 */
  concurrency?: number;
  /** @default a logger named 'priority-signals' */
  logger?: Logger;
}

const defaultConcurrency = 8;

const prioritySignals = getOrCreateMetric(
  'nalar_global_controller_priority_signals_total',
  () =>
    new Counter({
      name: 'nalar_global_controller_priority_signals_total',
      help: 'nalar.setPriority signals sent to workflows, by outcome (sent, closed: the workflow had ended, failed).',
      labelNames: ['outcome'] as const,
    }),
);

/**
 * Signals priority changes to running workflows. Updates are applied in the order they are made (one waits
 * for the one before), so a workflow never sees an older priority after a newer one.
 */
export class PrioritySignaller {
  private readonly client: Pick<WorkflowClient, 'getHandle'>;
  private readonly workflowsOf: PrioritySignallerOptions['workflowsOf'];
  private readonly concurrency: number;
  private readonly logger: Logger;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(options: PrioritySignallerOptions) {
    this.client = options.client;
    this.workflowsOf = options.workflowsOf;
    this.concurrency = Math.max(1, options.concurrency ?? defaultConcurrency);
    this.logger = options.logger ?? createLogger('priority-signals');
  }

  /**
   * Signals every running workflow of each session whose priorities differ between `prev` and `next`.
   * Resolves when every signal was sent or failed; never rejects.
   */
  update(prev: SessionPriorities, next: SessionPriorities): Promise<PrioritySignalOutcome> {
    const run = this.tail.then(() => this.signal(priorityChanges(prev, next)));
    this.tail = run.catch(() => undefined); // a bug in one update must not stop the later ones
    return run;
  }

  private async signal(changes: PriorityChange[]): Promise<PrioritySignalOutcome> {
    const outcome: PrioritySignalOutcome = { sent: 0, closed: 0, failed: 0 };
    if (changes.length === 0) return outcome;
    let firstError: unknown;
    const fail = (err: unknown, count: number): void => {
      outcome.failed += count;
      firstError ??= err;
    };
    // One task per workflow, its signals in order (a session's keys apply independently, but stay ordered).
    const perWorkflow = new Map<string, PrioritySignal[]>();
    const bySession = new Map<string, PriorityChange[]>();
    for (const c of changes) bySession.set(c.session, [...(bySession.get(c.session) ?? []), c]);
    await Promise.all(
      [...bySession].map(async ([session, sessionChanges]) => {
        try {
          for (const id of await this.workflowsOf(session)) {
            const list = perWorkflow.get(id) ?? [];
            list.push(...sessionChanges.map((c) => c.signal));
            perWorkflow.set(id, list);
          }
        } catch (err) {
          fail(err, sessionChanges.length);
        }
      }),
    );
    const queue = [...perWorkflow];
    const worker = async (): Promise<void> => {
      for (let task = queue.shift(); task; task = queue.shift()) {
        const [workflowId, signals] = task;
        for (const [i, signal] of signals.entries()) {
          try {
            await this.client.getHandle(workflowId).signal(prioritySignalName, signal);
            outcome.sent++;
          } catch (err) {
            if (err instanceof WorkflowNotFoundError) outcome.closed += signals.length - i;
            else fail(err, signals.length - i);
            break; // the rest would meet the same fate
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, queue.length) }, worker));
    prioritySignals.inc({ outcome: 'sent' }, outcome.sent);
    prioritySignals.inc({ outcome: 'closed' }, outcome.closed);
    prioritySignals.inc({ outcome: 'failed' }, outcome.failed);
    if (outcome.failed > 0) {
      this.logger.warn('priority signals failed', {
        failed: outcome.failed,
        sent: outcome.sent,
        error: firstError instanceof Error ? firstError.message : String(firstError),
      });
    }
    return outcome;
  }
}
