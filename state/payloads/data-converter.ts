/**
 * The data converter every Nalar process shares: with payload offload on (the default), large payloads go
 * to the blob store in NALAR_DATA_DIR/blobs and history keeps handles. Workers use it by default; clients
 * that start workflows with large inputs or read large results pass it too:
 * `new Client({ connection, dataConverter: nalarDataConverter(loadConfig()) })`.
 */
import path from 'node:path';
import type { DataConverter } from '@temporalio/common';
import type { NalarConfig } from '../../common/config';
import { FileBlobStore } from './blob-store';
import { ClaimCheckCodec } from './claim-check-codec';

/** The blob store of payload offload: `<NALAR_DATA_DIR>/blobs`. */
export function blobStoreOf(config: Pick<NalarConfig, 'dataDir'>): FileBlobStore {
  return new FileBlobStore(path.join(config.dataDir, 'blobs'));
}

export function nalarDataConverter(
  config: Pick<NalarConfig, 'payloadOffload' | 'payloadOffloadBytes' | 'dataDir'>,
): DataConverter {
  if (!config.payloadOffload) return {};
  return {
    payloadCodecs: [new ClaimCheckCodec({ store: blobStoreOf(config), thresholdBytes: config.payloadOffloadBytes })],
  };
}
