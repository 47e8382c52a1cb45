/**
 * A cross-process lock made of a file created with O_CREAT|O_EXCL (`wx`): exactly one process creates it on
 * every local filesystem. It holds the holder's pid, host and time, so a lock left by a crashed process can
 * be recognised and broken. (One create and one unlink per lock: a directory with a holder file inside,
 * as earlier versions used, cost three times as much at the tail; such a leftover directory is still
 * recognised and broken.)
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { unavailableError } from './errors';

/** Options of {@link withFileLock}. */
export interface FileLockOptions {
  /** A lock older than this whose holder process is dead may be broken. @default 30_000 */
  staleMs?: number;
  /** Give up (NALAR_ERR_STATE_UNAVAILABLE) after waiting this long; must exceed `staleMs`. @default 60_000 */
  timeoutMs?: number;
}

interface Holder {
  pid: number;
  host: string;
  at: number;
}

// Same-process callers queue here first, so they do not spin on mkdir against each other.
const inProcessTails = new Map<string, Promise<unknown>>();

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? (err as NodeJS.ErrnoException).code : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return errnoCode(err) !== 'ESRCH';
  }
}

async function readHolder(lockPath: string): Promise<Holder | undefined> {
  try {
    return JSON.parse(await readFile(lockPath, 'utf8')) as Holder;
  } catch (err) {
    if (errnoCode(err) !== 'EISDIR') return undefined;
  }
  try {
    // A lock directory of an earlier version.
    return JSON.parse(await readFile(`${lockPath}/holder.json`, 'utf8')) as Holder;
  } catch {
    return undefined;
  }
}

/** True when the lock was broken (or vanished) and acquiring may be retried at once. */
async function breakIfStale(lockPath: string, staleMs: number): Promise<boolean> {
  let ageMs: number;
  try {
    ageMs = Date.now() - (await stat(lockPath)).mtimeMs;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return true;
    throw err;
  }
  if (ageMs <= staleMs) return false;
  const holder = await readHolder(lockPath);
  // No holder after 30 s: the holder died between creating and writing it. Another host's pid means nothing here.
  const dead = holder === undefined || (holder.host === hostname() && !isAlive(holder.pid));
  if (!dead) return false;
  // Rename first so that two processes breaking the same stale lock cannot both delete a fresh one.
  const grave = `${lockPath}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await rename(lockPath, grave);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return true;
    throw err;
  }
  await rm(grave, { recursive: true, force: true });
  return true;
}

async function acquire(lockPath: string, staleMs: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      const holder: Holder = { pid: process.pid, host: hostname(), at: Date.now() };
      await writeFile(lockPath, JSON.stringify(holder), { flag: 'wx' });
      return;
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw unavailableError('filesystem', `cannot create lock ${lockPath}`, err);
    }
    if (await breakIfStale(lockPath, staleMs)) continue;
    if (Date.now() > deadline) {
      throw unavailableError('filesystem', `lock ${lockPath} still held after ${timeoutMs} ms`);
    }
    // Jittered, growing back-off: contenders spread out instead of retrying in lockstep.
    await delay(1 + Math.random() * Math.min(2 ** attempt, 20));
  }
}

/** Runs `fn` while holding the lock file `lockPath` (its parent must exist); always releases it. */
export async function withFileLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const staleMs = options.staleMs ?? 30_000;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const previous = inProcessTails.get(lockPath) ?? Promise.resolve();
  const run = previous
    .catch(() => undefined)
    .then(async () => {
      await acquire(lockPath, staleMs, timeoutMs);
      try {
        return await fn();
      } finally {
        await rm(lockPath, { force: true });
      }
    });
  const tail = run.catch(() => undefined);
  inProcessTails.set(lockPath, tail);
  try {
    return await run;
  } finally {
    if (inProcessTails.get(lockPath) === tail) inProcessTails.delete(lockPath);
  }
}
