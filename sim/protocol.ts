/** IPC message a simulator pool process sends its supervisor once every replica listens. */
import { z } from 'zod';

export const simReadyMessage = z.object({ type: z.literal('ready'), baseUrls: z.array(z.string()) });
export type SimReadyMessage = z.infer<typeof simReadyMessage>;
