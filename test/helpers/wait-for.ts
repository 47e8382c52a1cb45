/**
 * The one way tests wait for something to happen: poll a condition until it holds, with a deadline that
 * only bounds a hang. A deadline is never a measurement: it is generous (30 s by default) because it
 * fails only when the awaited thing is really not going to happen, even on a loaded two-core machine.
 */

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** What is awaited, for the error message ("worker to exit"); a function is read only on failure. */
  what: string | (() => string);
  /** Longest wait before failing. @default 30000 */
  timeoutMs?: number;
  /** Pause between two checks of the condition. @default 20 */
  intervalMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_INTERVAL_MS = 20;

/**
 * Resolves with the condition's first truthy value (sync or async), checking it at once and then every
 * `intervalMs`. Rejects with `timed out after N ms waiting for <what>` once `timeoutMs` has passed, and at
 * once with whatever the condition throws (a condition throws to say "this will never happen").
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  options: WaitForOptions,
): Promise<Exclude<T, false | 0 | '' | null | undefined>> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value as Exclude<T, false | 0 | '' | null | undefined>;
    if (performance.now() > deadline) {
      const what = typeof options.what === 'function' ? options.what() : options.what;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Steps `clock` by `stepMs` of model time until `p` settles (a simulator request or a model load needs model
 * time to pass), then returns its outcome; fails like {@link waitFor} when it never settles.
 */
export async function settledWhileAdvancing<T>(
  clock: { advance(ms: number): void },
  p: Promise<T>,
  what: string,
  stepMs = 20,
): Promise<T> {
  let settled = false;
  const out = p.finally(() => {
    settled = true;
  });
  out.catch(() => undefined);
  await waitFor(
    () => {
      clock.advance(stepMs);
      return settled;
    },
    { what, intervalMs: 2 },
  );
  return out;
}
