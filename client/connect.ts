/**
 * The one way to build a Temporal client for Nalar: connection settings from the configuration (or
 * options) and the data converter workers use, so offloaded payloads (`binary/nalar-blob` handles) decode
 * to their values and large inputs are offloaded like workers offload theirs.
 */
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { loadConfig, type NalarConfig } from '../common/config';
import { nalarDataConverter } from '../state/payloads/data-converter';

/** Options of {@link connectNalarClient}; every field is optional. */
export interface NalarClientOptions {
  /** Temporal frontend `host:port`. @default TEMPORAL_ADDRESS (127.0.0.1:7233) */
  address?: string;
  /** @default TEMPORAL_NAMESPACE (default) */
  namespace?: string;
  /**
   * The configuration whose payload settings (NALAR_PAYLOAD_OFFLOAD, NALAR_PAYLOAD_OFFLOAD_BYTES) and blob
   * folder (NALAR_DATA_DIR/blobs) the data converter uses; they must match the workers'. @default loadConfig()
   */
  config?: NalarConfig;
  /** A connection to use instead of opening one; the caller keeps closing it. @default a new connection */
  connection?: Connection;
  /** Further connection options (TLS, API key, gRPC metadata) for a new connection. @default none */
  connectionOptions?: Omit<ConnectionOptions, 'address'>;
}

/**
 * Connects to Temporal and returns a `Client` with Nalar's data converter. Close it with
 * `await client.connection.close()` (unless you passed `connection`). Throws an error naming the address
 * (and TEMPORAL_ADDRESS) when Temporal cannot be reached, and `NALAR_ERR_CONFIG_INVALID` for bad settings.
 *
 * The client reads and writes blobs in NALAR_DATA_DIR/blobs, so it must run where the workers' blob folder
 * is (the same machine and working directory as `npm start`, or a shared volume).
 */
export async function connectNalarClient(options: NalarClientOptions = {}): Promise<Client> {
  const config = options.config ?? loadConfig();
  const namespace = options.namespace ?? config.temporalNamespace;
  let connection = options.connection;
  if (connection === undefined) {
    const address = options.address ?? config.temporalAddress;
    try {
      connection = await Connection.connect({ ...options.connectionOptions, address });
    } catch (err) {
      throw new Error(
        `cannot connect to Temporal at ${address} (TEMPORAL_ADDRESS): ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  }
  return new Client({ connection, namespace, dataConverter: nalarDataConverter(config) });
}
