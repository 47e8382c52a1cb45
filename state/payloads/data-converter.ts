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

const blobsFolder = 'blobs';

/** The blob folder of payload offload for a data folder: `<dataDir>/blobs` (like `defaultStateDir` for state). */
export function blobDirOf(dataDir: string): string {
  return path.resolve(dataDir, blobsFolder);
}

/** How help texts and docs name the blob folder. */
export const blobDirDescription = `NALAR_DATA_DIR/${blobsFolder}`;

/** The blob store of payload offload, in {@link blobDirOf} `config.dataDir`; GC and `nalar state` use it too. */
export function blobStoreOf(config: Pick<NalarConfig, 'dataDir'>): FileBlobStore {
  return new FileBlobStore(blobDirOf(config.dataDir));
}

export function nalarDataConverter(
  config: Pick<NalarConfig, 'payloadOffload' | 'payloadOffloadBytes' | 'dataDir'>,
): DataConverter {
  if (!config.payloadOffload) return {};
  return {
    payloadCodecs: [new ClaimCheckCodec({ store: blobStoreOf(config), thresholdBytes: config.payloadOffloadBytes })],
  };
}
