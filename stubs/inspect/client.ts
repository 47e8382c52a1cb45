/** The Temporal client `nalar futures` reads with: one small factory, so another way to connect can replace it. */
import { Client, Connection } from '@temporalio/client';
import type { NalarConfig } from '../../common/config';
import { errorMessage } from '../../common/errors';
import { nalarDataConverter } from '../../state/payloads/data-converter';

/** A connected client and how to let it go. */
export interface NalarClientHandle {
  client: Client;
  close(): Promise<void>;
}

/** Opens a client that talks to a Temporal frontend. */
export type ConnectClient = (
  config: Pick<
    NalarConfig,
    'temporalAddress' | 'temporalNamespace' | 'payloadOffload' | 'payloadOffloadBytes' | 'dataDir'
  >,
) => Promise<NalarClientHandle>;

/**
 * A client on `config.temporalAddress` and `config.temporalNamespace` with the Nalar data converter, so
 * payloads the claim check offloaded decode (the blob folder of `config.dataDir`). Gives up connecting after
 * 10 seconds with a message naming the address.
 */
export const connectNalarClient: ConnectClient = async (config) => {
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: config.temporalAddress, connectTimeout: '10 seconds' });
  } catch (err) {
    throw new Error(
      `cannot connect to Temporal at ${config.temporalAddress} (TEMPORAL_ADDRESS): ${errorMessage(err)}`,
      {
        cause: err,
      },
    );
  }
  const client = new Client({
    connection,
    namespace: config.temporalNamespace,
    dataConverter: nalarDataConverter(config),
  });
  return { client, close: () => connection.close() };
};
