/**
 * Content-addressed blob storage for large payloads (the claim-check pattern): a blob's name is the SHA-256
 * of its bytes, so writes are idempotent (a retried or duplicated write stores nothing new) and a handle
 * can never point at changed content.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface BlobStore {
  waitUntilReady(): Promise<void>;
  close(): Promise<void>;
  /** Stores the bytes; returns their SHA-256 (hex). */
  put(bytes: Uint8Array): Promise<string>;
  /** The bytes stored under `hash`, or undefined. */
  get(hash: string): Promise<Uint8Array | undefined>;
  has(hash: string): Promise<boolean>;
  delete(hash: string): Promise<void>;
  /** Every stored hash. */
  list(): Promise<string[]>;
}

const hashPattern = /^[0-9a-f]{64}$/;

/** SHA-256 of the bytes, hex. */
export function contentHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function checkHash(hash: string): void {
  // Hashes become file names: anything else could escape the folder.
  if (!hashPattern.test(hash)) throw new Error(`not a blob hash: ${JSON.stringify(hash.slice(0, 80))}`);
}

/**
 * Blobs as files `<dir>/<first two hex digits>/<hash>`, written to a temporary name and renamed, so a
 * reader never sees a partial blob and several processes on one machine can share the folder.
 */
export class FileBlobStore implements BlobStore {
  constructor(readonly dir: string) {}

  async waitUntilReady(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  async close(): Promise<void> {
    // Nothing to release: every operation opens and closes its own file.
  }

  private file(hash: string): string {
    checkHash(hash);
    return path.join(this.dir, hash.slice(0, 2), hash);
  }

  async put(bytes: Uint8Array): Promise<string> {
    const hash = contentHash(bytes);
    const file = this.file(hash);
    if (await this.has(hash)) return hash;
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
    await writeFile(tmp, bytes, { flush: true });
    await rename(tmp, file);
    return hash;
  }

  async get(hash: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.file(hash));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async has(hash: string): Promise<boolean> {
    try {
      await stat(this.file(hash));
      return true;
    } catch {
      return false;
    }
  }

  async delete(hash: string): Promise<void> {
    await rm(this.file(hash), { force: true });
  }

  async list(): Promise<string[]> {
    const out: string[] = [];
    for (const shard of await readdir(this.dir).catch(() => [] as string[])) {
      for (const name of await readdir(path.join(this.dir, shard)).catch(() => [] as string[])) {
        if (hashPattern.test(name)) out.push(name);
      }
    }
    return out.sort();
  }
}
