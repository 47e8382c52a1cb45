/** How the state benchmark reports an error: its first line, at most 300 characters (reports stay readable). */
import { errorMessage } from '../../../common/errors';

/** The first line of `err`'s message, at most 300 characters. */
export function errorText(err: unknown): string {
  return errorMessage(err).split('\n')[0]!.slice(0, 300);
}
