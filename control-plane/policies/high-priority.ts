import { z } from 'zod';
import { definePolicy } from './define';

const params = z.strictObject({
  /** Session ids, or globs where `*` matches anything (`vip-*`: every id that starts with `vip-`). @default [] */
  sessions: z.array(z.string().min(1)).default([]),
  /** The priority they get on every agent (1 first … 5). @default 1 */
  priority: z.number().int().min(1).max(5).default(1),
});

const escape = (text: string) => text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
const glob = (pattern: string) => new RegExp(`^${pattern.split('*').map(escape).join('.*')}$`);

/** The paper's Figure 6: the named sessions go first on every agent; every other session keeps its priority. */
export const highPriority = definePolicy(
  'high-priority',
  'the sessions named in params (ids or globs) get priority 1 on every agent',
  params,
  ({ sessions, priority }) => {
    const patterns = sessions.map(glob);
    return (s, act) => {
      for (const id of s.sessions.keys()) if (patterns.some((p) => p.test(id))) act.setPriority(id, priority);
    };
  },
);
