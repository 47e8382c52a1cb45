/** IPC message a global controller process sends its supervisor once it listens. */
import { z } from 'zod';

/** Sent once the controller listens, with the URL local controllers use (NALAR_CONTROLLER_URL). */
export const controllerReadyMessage = z.object({ type: z.literal('controller-ready'), url: z.string() });
export type ControllerReadyMessage = z.infer<typeof controllerReadyMessage>;
