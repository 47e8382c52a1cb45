/**
 * A worker's name in session owner records, and the task queue only that worker polls. Session placement
 * (moveSession) addresses a worker by this name: Temporal routes the warm and drop messages through the
 * worker's own queue, so no extra messaging system is needed.
 */
import os from 'node:os';
import type { NalarConfig } from '../../common/config';

/** NALAR_WORKER_ID, or `<host>-<pid>` with characters outside [A-Za-z0-9._-] replaced. */
export function workerIdOf(config: Pick<NalarConfig, 'workerId'>): string {
  if (config.workerId) return config.workerId;
  const host =
    os
      .hostname()
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .slice(0, 40) || 'host';
  return `${host}-${process.pid}`;
}

/** The task queue on which worker `workerId` serves placement activities (cache warm and drop). */
export function placementTaskQueue(taskQueue: string, workerId: string): string {
  return `${taskQueue}.placement.${workerId}`;
}
