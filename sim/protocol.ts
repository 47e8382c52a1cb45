/** IPC message a simulator pool process sends its supervisor once every replica listens. */
import { z } from 'zod';

export const simReadyMessage = z.object({
  type: z.literal('ready'),
  /** The starting replicas' OpenAI base URLs. */
  baseUrls: z.array(z.string()),
  /** Where the admin API listens (sim/admin.ts); optional so that older simulators still parse. */
  adminUrl: z.string().optional(),
});
export type SimReadyMessage = z.infer<typeof simReadyMessage>;
