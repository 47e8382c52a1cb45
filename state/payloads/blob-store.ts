/**
 * Content-addressed blob storage for large payloads (the claim-check pattern): a blob's name is the SHA-256
 * of its bytes, so writes are idempotent (a retried or duplicated write stores nothing new) and a handle
 * can never point at changed content.
 *
 * Garbage collection (state/lifecycle/blob-gc.ts) relies on the modification time: every `put`, also of
 * content already stored, makes the blob "recently used", and `deleteIfUnusedSince` removes a blob only if
 * no `put` touched it since a cutoff, even when that `put` runs concurrently.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Stats } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface BlobStore {
  waitUntilReady(): Promise<void>;
  close(): Promise<void>;
  /** Stores the bytes; returns their SHA-256 (hex). */
  put(bytes: Uint8Array): Promise<string>;
  /** The bytes stored under `hash`, or undefined. */
  get(hash: string): Promise<Uint8Array | undefined>;
  /** Every stored hash, sorted. */
  list(): Promise<string[]>;
  /** Size and last use (the last `put` of this content) of a blob, or undefined if it is not stored. */
  stat(hash: string): Promise<BlobStat | undefined>;
  /** Number and total bytes of stored blobs (scans the store: for CLIs and periodic metrics). */
  usage(): Promise<BlobUsage>;
  /**
   * Deletes the blob unless it was used (`put`) at or after `cutoffMs` (epoch milliseconds), also by a
   * `put` running concurrently with this call; returns the bytes freed, or undefined if the blob was kept
   * or is not stored.
   */
  deleteIfUnusedSince(hash: string, cutoffMs: number): Promise<number | undefined>;
}

/** What {@link BlobStore.stat} reports. */
export interface BlobStat {
  bytes: number;
  /** Epoch milliseconds of the blob's last `put` (its first write or a later reuse). */
  modifiedMs: number;
}

/** What {@link BlobStore.usage} reports. */
export interface BlobUsage {
  count: number;
  bytes: number;
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

  /**
   * Stores the bytes. Content already stored is not rewritten, but its modification time is set to now, so
   * garbage collection sees a reused blob as recently used; if GC removed it meanwhile, it is written anew.
   */
  async put(bytes: Uint8Array): Promise<string> {
    const hash = contentHash(bytes);
    const file = this.file(hash);
    try {
      const now = new Date();
      await utimes(file, now, now);
      return hash;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${randomUUID()}${TMP_SUFFIX}`;
    await writeFile(tmp, bytes, { flush: true });
    await rename(tmp, file);
    return hash;
  }

  async get(hash: string): Promise<Uint8Array | undefined> {
    const file = this.file(hash);
    try {
      return await readFile(file);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    // GC holds a blob under a trash name for a moment while it checks the blob's time (and a GC that
    // crashed there leaves it so). The content is the same, as the name is its hash.
    for (const name of await readdir(path.dirname(file)).catch(() => [] as string[])) {
      if (!name.startsWith(`${hash}.`) || !name.endsWith(TRASH_SUFFIX)) continue;
      try {
        return await readFile(path.join(path.dirname(file), name));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return undefined;
  }

  async list(): Promise<string[]> {
    const out: string[] = [];
    for (const shard of await readdir(this.dir).catch(() => [] as string[])) {
      for (const name of await readdir(path.join(this.dir, shard)).catch(() => [] as string[])) {
        // Exactly a hash: temporary (`.tmp`) and trash (`.trash`) files carry suffixes.
        if (hashPattern.test(name)) out.push(name);
      }
    }
    return out.sort();
  }

  async stat(hash: string): Promise<BlobStat | undefined> {
    try {
      const st = await stat(this.file(hash));
      return { bytes: st.size, modifiedMs: st.mtimeMs };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async usage(): Promise<BlobUsage> {
    let count = 0;
    let bytes = 0;
    for (const hash of await this.list()) {
      const st = await this.stat(hash);
      if (!st) continue; // deleted since listed
      count++;
      bytes += st.bytes;
    }
    return { count, bytes };
  }

  /**
   * Moves the blob to a unique trash name in its folder first, so a concurrent `put` either touched it
   * before (the trash file's time shows it: the blob is moved back) or finds it missing and writes it anew
   * (then deleting the trash file loses nothing). Readers fall back to the trash file meanwhile.
   */
  async deleteIfUnusedSince(hash: string, cutoffMs: number): Promise<number | undefined> {
    const file = this.file(hash);
    const trash = `${file}.${process.pid}.${randomUUID()}${TRASH_SUFFIX}`;
    try {
      await rename(file, trash);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    let st: Stats;
    try {
      st = await stat(trash);
    } catch (err) {
      await rename(trash, file).catch(() => undefined);
      throw err;
    }
    if (st.mtimeMs >= cutoffMs) {
      // Used since the cutoff (possibly while we renamed it): keep. If a put wrote the blob anew meanwhile,
      // this replaces it with the same content.
      await rename(trash, file);
      return undefined;
    }
    await rm(trash, { force: true });
    return st.size;
  }
}

const TMP_SUFFIX = '.tmp';
const TRASH_SUFFIX = '.trash';

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
