import { isNalarError, type NalarError } from '../../common/errors';

/** The NalarError `p` rejects with; throws when it resolves or rejects with something else. */
export async function nalarErrorOf(p: Promise<unknown>): Promise<NalarError> {
  const err = await p.then(
    () => new Error('expected a NalarError'),
    (e: unknown) => e,
  );
  if (!isNalarError(err)) throw err;
  return err;
}
