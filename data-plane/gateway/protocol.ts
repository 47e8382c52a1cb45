/** IPC message a gateway process sends its supervisor once it listens. */
import { z } from 'zod';

/** Sent once the gateway listens, with the URL clients use. */
export const gatewayReadyMessage = z.object({ type: z.literal('gateway-ready'), url: z.string() });
export type GatewayReadyMessage = z.infer<typeof gatewayReadyMessage>;
