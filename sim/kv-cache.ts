/**
 * The KV cache of one replica, in blocks, with automatic prefix caching as vLLM does it: a prompt is cut
 * into full blocks, each identified by a hash chained over all tokens before it, so two prompts share
 * cached blocks exactly as far as they share a prefix. Blocks of finished requests stay cached until LRU
 * eviction needs their space; blocks of running requests are pinned.
 */

export interface Reservation {
  /** Prompt blocks found in the cache (pinned until release). */
  readonly cachedBlocks: readonly number[];
  /** Blocks allocated privately for the rest of the prompt and the output. */
  readonly privateBlocks: number;
}

export class KvCache {
  private readonly capacity: number;
  /** Cached blocks by hash: pin count (0 = evictable). Map order is LRU order among all cached blocks. */
  private readonly cached = new Map<number, number>();
  private pinnedCount = 0;
  private privateCount = 0;

  constructor(capacityBlocks: number) {
    this.capacity = capacityBlocks;
  }

  /** Blocks held by running requests, as a share of capacity (vLLM's kv_cache_usage_perc). */
  get usage(): number {
    return (this.privateCount + this.pinnedCount) / this.capacity;
  }

  /** Number of leading hashes of `chain` present in the cache. */
  matchPrefix(chain: readonly number[]): number {
    let n = 0;
    while (n < chain.length && this.cached.has(chain[n] as number)) n++;
    return n;
  }

  /**
   * Reserves space for a request whose prompt has block hashes `chain` (full blocks only) and that needs
   * `totalBlocks` blocks in all. Reuses the cached prefix; evicts unpinned blocks LRU-first when needed.
   * Returns undefined, changing nothing, when it does not fit now.
   */
  reserve(chain: readonly number[], totalBlocks: number): Reservation | undefined {
    const hit = this.matchPrefix(chain);
    const need = totalBlocks - hit;
    const hitBlocks = chain.slice(0, hit);
    // Pin first so eviction below cannot take the blocks this request reuses.
    for (const h of hitBlocks) this.pin(h);
    if (!this.makeRoom(need)) {
      for (const h of hitBlocks) this.unpin(h);
      return undefined;
    }
    this.privateCount += need;
    return { cachedBlocks: hitBlocks, privateBlocks: need };
  }

  /**
   * Releases a finished request's blocks. Its full prompt blocks (`chain`) become cached (evictable) so a
   * later request with the same prefix skips their prefill; the rest of its private blocks are freed.
   */
  release(reservation: Reservation, chain: readonly number[]): void {
    for (const h of reservation.cachedBlocks) this.unpin(h);
    this.privateCount -= reservation.privateBlocks;
    for (const h of chain.slice(reservation.cachedBlocks.length)) {
      if (this.cached.has(h)) continue; // cached meanwhile by a request with the same prefix
      if (!this.makeRoom(1)) break;
      this.cached.set(h, 0);
    }
  }

  /** Drops everything (a replica that dies loses its GPU memory). */
  clear(): void {
    this.cached.clear();
    this.pinnedCount = 0;
    this.privateCount = 0;
  }

  private used(): number {
    return this.privateCount + this.cached.size;
  }

  private makeRoom(blocks: number): boolean {
    if (blocks > this.capacity - this.privateCount - this.pinnedCount) return false;
    for (const [h, pins] of this.cached) {
      if (this.used() + blocks <= this.capacity) break;
      if (pins === 0) this.cached.delete(h);
    }
    return this.used() + blocks <= this.capacity;
  }

  private pin(h: number): void {
    const pins = this.cached.get(h) as number;
    if (pins === 0) this.pinnedCount++;
    // Re-insert to mark as most recently used.
    this.cached.delete(h);
    this.cached.set(h, pins + 1);
  }

  private unpin(h: number): void {
    const pins = this.cached.get(h);
    if (pins === undefined) return;
    if (pins === 1) this.pinnedCount--;
    this.cached.set(h, pins - 1);
  }
}
