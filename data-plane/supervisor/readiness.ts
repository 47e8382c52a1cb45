/** Readiness checks: poll a condition until a deadline; never sleep and hope. */
import { Connection } from '@temporalio/client';
import { ErrorCode, NalarError } from '../../common/errors';
import type { ManagedProcess } from './managed-process';

export interface WaitOptions {
  /** What is awaited, for the timeout message. */
  what: string;
  timeoutMs: number;
  /** @default 100 */
  intervalMs?: number;
  /** Rejects to abort the wait early (for example when the process being awaited exits). */
  abort?: Promise<never>;
}

/** Resolves once `check` returns true; throws `NALAR_ERR_READINESS_TIMEOUT` after `timeoutMs`. */
export async function waitUntil(check: () => Promise<boolean>, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 100;
  let lastError: unknown;
  const loop = async (): Promise<void> => {
    for (;;) {
      try {
        if (await check()) return;
      } catch (err) {
        lastError = err;
      }
      if (Date.now() >= deadline) {
        const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
        throw new NalarError(
          ErrorCode.READINESS_TIMEOUT,
          `${options.what} was not ready after ${options.timeoutMs} ms${why}; raise NALAR_READINESS_TIMEOUT if it is slow`,
        );
      }
      await new Promise((r) => setTimeout(r, interval));
    }
  };
  await (options.abort ? Promise.race([loop(), options.abort]) : loop());
}

/** True when `url` answers with a 2xx or 3xx status. */
export async function httpReady(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000), redirect: 'manual' });
  await res.body?.cancel();
  return res.status < 400;
}

/** True when the Temporal frontend at `address` answers and knows `namespace`. */
export async function temporalReady(address: string, namespace: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 2000 });
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } finally {
    await connection.close();
  }
}

/**
 * Resolves when a forked process sends an IPC message `isReady` accepts; rejects on timeout or when the
 * process exits first.
 */
export function waitForReadyMessage(
  proc: ManagedProcess,
  isReady: (message: unknown) => boolean,
  timeoutMs: number,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new NalarError(
            ErrorCode.READINESS_TIMEOUT,
            `${proc.name} was not ready after ${timeoutMs} ms; raise NALAR_READINESS_TIMEOUT if it is slow`,
          ),
        ),
      timeoutMs,
    );
    proc.onMessage((message) => {
      if (!isReady(message)) return;
      clearTimeout(timer);
      resolve();
    });
    proc.exitedAsError().catch((err: unknown) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
