import { z } from 'zod';
import { definePolicy } from './define';

/** LPT: work that re-enters (a recursive workflow's failed subtasks) is the long pole, so it goes first. */
export const lpt = definePolicy('lpt', 're-entering work first', z.strictObject({}), () => (s, act) => {
  for (const session of s.sessions.values()) {
    const reentries = session.workflows.reduce((max, id) => Math.max(max, s.workflows.get(id)?.reentries ?? 0), 0);
    if (reentries > 0) act.setPriority(session.id, Math.max(1, 3 - reentries)); // the rest keep theirs
  }
});
