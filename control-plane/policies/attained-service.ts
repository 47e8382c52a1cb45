import { z } from 'zod';
import { definePolicy } from './define';

/** Real ms of model service of the first level; each next level is twice as long (Autellix's MLFQ). @default 500 */
const params = z.strictObject({ quantumMs: z.number().positive().default(500) });

/** Program-level attained service: sessions that received less model time go first (< q → 1, < 3q → 2, … ≥ 15q → 5). */
export const attainedService = definePolicy(
  'attained-service',
  'least attained service first',
  params,
  (p) => (s, act) => {
    for (const session of s.sessions.values()) {
      const level = Math.floor(Math.log2(1 + session.attainedServiceMs / p.quantumMs));
      act.setPriority(session.id, Math.min(5, 1 + level));
    }
  },
);
