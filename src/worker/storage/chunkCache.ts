import { ByteLru } from "./lru";

/** Fetches `length` bytes at `offset` from the slow storage; bytes past its end read as zeros. */
export type ChunkFetch = (offset: number, length: number) => Promise<Uint8Array>;

export interface ChunkCacheStats {
  hits: number;
  misses: number;
  /** Reads served straight from storage because they were too large to be worth caching. */
  bypassed: number;
  bytes: number;
  budget: number;
}

/**
 * Caches fixed-size aligned chunks of a storage in a byte-bounded LRU. Small reads (headers,
 * metadata, hex-view pages, sector bitmaps) repeat a lot and each Blob slice or file read costs
 * a round trip; large sequential reads (a whole payload block, an export) pass through
 * without evicting the small hot chunks.
 */
export class ChunkCache {
  readonly chunkSize: number;
  /** Reads longer than this go straight to storage. */
  readonly bypassThreshold: number;
  private readonly lru: ByteLru<number, Uint8Array>;
  private hits = 0;
  private misses = 0;
  private bypassed = 0;

  constructor(opts: { chunkSize?: number; budgetBytes: number; bypassThreshold?: number }) {
    this.chunkSize = opts.chunkSize ?? 64 * 1024;
    if (!Number.isInteger(this.chunkSize) || this.chunkSize <= 0)
      throw new RangeError("chunkSize must be a positive integer");
    this.bypassThreshold = opts.bypassThreshold ?? 4 * this.chunkSize;
    this.lru = new ByteLru(opts.budgetBytes);
  }

  stats(): ChunkCacheStats {
    return {
      hits: this.hits,
      misses: this.misses,
      bypassed: this.bypassed,
      bytes: this.lru.bytes,
      budget: this.lru.budget,
    };
  }

  async read(offset: number, length: number, fetch: ChunkFetch): Promise<Uint8Array> {
    if (length === 0) return new Uint8Array(0);
    if (length > this.bypassThreshold || this.lru.budget === 0) {
      this.bypassed++;
      return fetch(offset, length);
    }
    const cs = this.chunkSize;
    const first = Math.floor(offset / cs);
    const last = Math.floor((offset + length - 1) / cs);
    const chunks: Uint8Array[] = [];
    // Missing chunks that are adjacent are fetched in one call.
    let runStart = -1;
    const fillRun = async (end: number): Promise<void> => {
      if (runStart < 0) return;
      const bytes = await fetch(runStart * cs, (end - runStart) * cs);
      for (let c = runStart; c < end; c++) {
        // Copy so the LRU does not pin the whole run's buffer after part of it is evicted.
        const chunk = bytes.slice((c - runStart) * cs, (c - runStart + 1) * cs);
        chunks[c - first] = chunk;
        this.lru.set(c, chunk);
      }
      runStart = -1;
    };
    for (let c = first; c <= last; c++) {
      const hit = this.lru.get(c);
      if (hit) {
        this.hits++;
        await fillRun(c);
        chunks[c - first] = hit;
      } else {
        this.misses++;
        if (runStart < 0) runStart = c;
      }
    }
    await fillRun(last + 1);
    const out = new Uint8Array(length);
    for (let c = first; c <= last; c++) {
      const chunk = chunks[c - first];
      const chunkStart = c * cs;
      const from = Math.max(offset, chunkStart);
      const to = Math.min(offset + length, chunkStart + cs);
      out.set(chunk.subarray(from - chunkStart, to - chunkStart), from - offset);
    }
    return out;
  }

  /** Keeps cached chunks equal to storage after `data` was written at `offset`. */
  applyWrite(offset: number, data: Uint8Array): void {
    const cs = this.chunkSize;
    if (data.length === 0) return;
    const first = Math.floor(offset / cs);
    const last = Math.floor((offset + data.length - 1) / cs);
    for (let c = first; c <= last; c++) {
      const chunk = this.lru.peek(c);
      if (!chunk) continue;
      const chunkStart = c * cs;
      const from = Math.max(offset, chunkStart);
      const to = Math.min(offset + data.length, chunkStart + cs);
      chunk.set(data.subarray(from - offset, to - offset), from - chunkStart);
    }
  }

  /** After a truncate to `size`, bytes at and past `size` read as zeros. */
  applyTruncate(size: number): void {
    for (const c of this.lru.keys()) {
      const chunkStart = c * this.chunkSize;
      if (chunkStart + this.chunkSize <= size) continue;
      const chunk = this.lru.peek(c);
      if (chunk) chunk.fill(0, Math.max(0, size - chunkStart));
    }
  }

  clear(): void {
    this.lru.clear();
  }
}
