import { z } from 'zod';
import { definePolicy } from './define';

/** SRTF: a workflow at a later stage is closer to done, so its session goes first (stage 0 → 5, 1 → 4, … ≥ 4 → 1). */
export const srtf = definePolicy('srtf', 'later stages first', z.strictObject({}), () => (s, act) => {
  for (const session of s.sessions.values()) {
    const stage = Math.max(0, ...session.workflows.map((id) => s.workflows.get(id)?.stage ?? 0));
    act.setPriority(session.id, Math.max(1, 5 - stage));
  }
});
