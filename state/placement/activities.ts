/**
 * The activities of a session move (`moveSessionWorkflow`). The ownership transfer runs on any worker;
 * warming and dropping a cached copy run on the placement task queue of the worker concerned, which is how
 * one worker reaches another without a messaging system of its own.
 */
import { z } from 'zod';
import { loadConfig, workerIdPattern } from '../../common/config';
import { placementTaskQueue } from './worker-identity';
import { parseInput } from '../../common/activity-input';
import { defaultSessionStore } from '../managed';
import { CachedSessionStore, type WarmResult } from './cached-store';

const workerIdSchema = z.string().regex(workerIdPattern, 'must be 1-64 letters, digits, ".", "_" or "-"');
const sessionSchema = z.string().min(1, 'must not be empty').max(512);

const transferInput = z.object({ sessionId: sessionSchema, to: workerIdSchema });
export type TransferOwnershipInput = z.input<typeof transferInput>;

export interface TransferOwnershipResult {
  sessionId: string;
  /** The previous owner, if there was one (unknown after a retried transfer: the copy there expires by stamp). */
  from?: string;
  to: string;
  /** The owner epoch the target serves under. */
  epoch: number;
  /** Placement task queues of the previous owner and of the target. */
  fromQueue?: string;
  toQueue: string;
}

/**
 * Makes `to` the owner of the session (compare-and-set on the owner epoch). Idempotent: when `to` already
 * owns it (a retried attempt), nothing changes. A concurrent change of the owner record fails the attempt
 * with NALAR_ERR_STATE_CONFLICT, which is retried: the next attempt reads the new epoch.
 */
export async function transferSessionOwnership(input: TransferOwnershipInput): Promise<TransferOwnershipResult> {
  const { sessionId, to } = parseInput('transferSessionOwnership', transferInput, input);
  const { taskQueue } = loadConfig();
  const store = await defaultSessionStore();
  const current = await store.getOwner(sessionId);
  const toQueue = placementTaskQueue(taskQueue, to);
  if (current?.owner === to) return { sessionId, to, epoch: current.epoch, toQueue };
  const epoch = await store.setOwner(sessionId, to, current?.epoch ?? 0);
  return {
    sessionId,
    to,
    epoch,
    toQueue,
    ...(current && { from: current.owner, fromQueue: placementTaskQueue(taskQueue, current.owner) }),
  };
}

const cacheInput = z.object({ sessionId: sessionSchema });

async function workerCache(): Promise<CachedSessionStore | undefined> {
  const store = await defaultSessionStore();
  return store instanceof CachedSessionStore ? store : undefined;
}

/** Loads the session's state into this worker's cache (this worker must be its owner). */
export async function warmSessionCache(input: { sessionId: string }): Promise<WarmResult | undefined> {
  const { sessionId } = parseInput('warmSessionCache', cacheInput, input);
  // With the cache off (NALAR_STATE_CACHE=false) there is nothing to warm.
  return (await workerCache())?.warm(sessionId);
}

/** Forgets this worker's cached copy of the session; true if it had one. */
export async function dropSessionCache(input: { sessionId: string }): Promise<boolean> {
  const { sessionId } = parseInput('dropSessionCache', cacheInput, input);
  return (await workerCache())?.invalidate(sessionId) ?? false;
}

/** Activities served on each worker's own placement task queue. */
export const placementActivities = { warmSessionCache, dropSessionCache };

/** Activities of session moves that run on the main task queue; every worker registers them itself. */
export const frameworkActivities = { transferSessionOwnership };
