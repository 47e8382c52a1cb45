/** Assertions shared by the tool tests. Not an activity module: nothing here is exported by `index.ts`. */
import { ApplicationFailure } from '@temporalio/common';

/**
 * Awaits `promise` and checks that it rejected with a non-retryable `NALAR_ERR_INVALID_INPUT` failure whose
 * message mentions every one of `fields`.
 */
export async function expectInvalidInput(promise: Promise<unknown>, ...fields: string[]): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  const failure = err as ApplicationFailure;
  expect(failure.type).toBe('NALAR_ERR_INVALID_INPUT');
  expect(failure.nonRetryable).toBe(true);
  for (const field of fields) expect(failure.message).toContain(field);
}
