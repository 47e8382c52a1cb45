/**
 * A Temporal payload codec that keeps large values out of workflow history (the claim check): a payload
 * bigger than the threshold is stored in a {@link BlobStore} under its content hash, and history carries
 * only a small handle. Decoding restores the original payload, metadata included, in workflows, activities
 * and clients alike, since they all use the same data converter.
 *
 * History grows by the handle (~60 bytes: the encoding and a raw 32-byte SHA-256; every byte counts, as an
 * agent step's own Temporal events already take ~750 bytes) per offloaded value instead of the value, so long agent
 * conversations stay far from Temporal's 2 MB payload and 50 MB history limits.
 */
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { configDefaults } from '../../common/config';
import { ErrorCode, NalarError } from '../../common/errors';
import type { BlobStore } from './blob-store';
import { blobBytesOffloaded, blobsOffloaded } from '../metrics';

/** Metadata `encoding` of a handle. */
export const CLAIM_CHECK_ENCODING = 'binary/nalar-blob';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface ClaimCheckCodecOptions {
  store: BlobStore;
  /**
   * Payloads larger than this many bytes (data plus metadata) are offloaded. Small on purpose: an agent
   * step's own events take ~0.9 KB of history, so any inline payload above ~1 KB would dominate a long
   * loop's growth. @default NALAR_PAYLOAD_OFFLOAD_BYTES's default (1024)
   */
  thresholdBytes?: number;
}

function payloadSize(p: Payload): number {
  let size = p.data?.length ?? 0;
  for (const [k, v] of Object.entries(p.metadata ?? {})) size += k.length + (v?.length ?? 0);
  return size;
}

export class ClaimCheckCodec implements PayloadCodec {
  private readonly store: BlobStore;
  private readonly threshold: number;

  constructor(options: ClaimCheckCodecOptions) {
    this.store = options.store;
    this.threshold = options.thresholdBytes ?? configDefaults.payloadOffloadBytes;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (p) => {
        const size = payloadSize(p);
        if (size <= this.threshold) return p;
        // The whole payload (metadata included) is stored, so decoding gives back exactly what came in.
        const bytes = temporal.api.common.v1.Payload.encode(p).finish();
        const hash = await this.store.put(bytes);
        blobsOffloaded.inc();
        blobBytesOffloaded.inc(bytes.length);
        return {
          metadata: { encoding: encoder.encode(CLAIM_CHECK_ENCODING), 'nalar-blob': Buffer.from(hash, 'hex') },
          data: new Uint8Array(0),
        };
      }),
    );
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (p) => {
        const encoding = p.metadata?.encoding;
        if (!encoding || decoder.decode(encoding) !== CLAIM_CHECK_ENCODING) return p;
        const hashBytes = p.metadata?.['nalar-blob'];
        const hash = hashBytes ? Buffer.from(hashBytes).toString('hex') : '';
        if (!/^[0-9a-f]{64}$/.test(hash)) {
          throw new NalarError(
            ErrorCode.INVALID_INPUT,
            `claim check: a ${CLAIM_CHECK_ENCODING} payload needs a 32-byte 'nalar-blob' hash in its metadata`,
          );
        }
        const bytes = await this.store.get(hash);
        if (!bytes) {
          throw new NalarError(
            ErrorCode.BLOB_MISSING,
            `claim check: blob ${hash} is missing from the blob store; the payload cannot be restored`,
            { details: { hash } },
          );
        }
        return temporal.api.common.v1.Payload.decode(bytes) as Payload;
      }),
    );
  }
}

/** Reads the blob hashes that `payloads` point to (for garbage collection of unreferenced blobs). */
export function claimedBlobs(payloads: readonly Payload[]): string[] {
  return payloads.flatMap((p) => {
    const enc = p.metadata?.encoding;
    const hash = p.metadata?.['nalar-blob'];
    return enc && hash && decoder.decode(enc) === CLAIM_CHECK_ENCODING ? [Buffer.from(hash).toString('hex')] : [];
  });
}
