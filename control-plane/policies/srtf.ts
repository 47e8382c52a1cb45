import { z } from 'zod';
import { definePolicy } from './define';

/**
 * SRTF (shortest remaining time first, approximated): a workflow that reached a later stage is closer to done, so
 * its session's calls go first. Stage 0 → priority 5, stage 1 → 4, … stage 4 and later → 1.
 */
export const srtf = definePolicy('srtf', 'later stages first', z.strictObject({}), () => (s, act) => {
  for (const session of s.sessions.values()) {
    // A session runs one workflow per turn, sometimes more: the furthest one decides.
    const stage = session.workflows.reduce((max, id) => Math.max(max, s.workflows.get(id)?.stage ?? 0), 0);
    act.setPriority(session.id, Math.max(1, 5 - stage));
  }
});
