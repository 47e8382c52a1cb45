/** IPC message a codec server process sends its supervisor once it listens. */
import { z } from 'zod';

export const codecReadyMessage = z.object({ type: z.literal('ready'), url: z.string() });
export type CodecReadyMessage = z.infer<typeof codecReadyMessage>;
