/** Input fields shared by the tool activities (validated with common/activity-input.ts). */
import { z } from 'zod';
import { expected } from '../../common/activity-input';

/** Orders ids by UTF-16 code units: stable on every machine, unlike `localeCompare`. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A search query: non-blank text of at most 1000 characters (shared by the search tools). */
export const queryField = z
  .string({ error: expected('a string') })
  .max(1000, 'must be at most 1000 characters')
  .refine((q) => q.trim() !== '', 'must not be empty');

/** How many results a search returns: 1 to 50. @default 5 */
export const topKField = z
  .number({ error: expected('a number') })
  .int('must be an integer')
  .min(1, 'must be at least 1')
  .max(50, 'must be at most 50')
  .default(5);
