import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ChunkCache } from "../../src/worker/storage/chunkCache";
import { MemoryBackend } from "../../src/vhdx/io";

function patterned(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >> 8)) & 0xff;
  return b;
}

describe("ChunkCache", () => {
  it("returns the storage's bytes for any range, including past the end", async () => {
    const mem = new MemoryBackend(patterned(10_000));
    const cache = new ChunkCache({ chunkSize: 512, budgetBytes: 4096 });
    const fetch = (o: number, l: number) => mem.read(o, l);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 11_000 }), fc.integer({ min: 0, max: 3000 }), async (off, len) => {
        expect(await cache.read(off, len, fetch)).toEqual(await mem.read(off, len));
      }),
    );
    expect(cache.stats().bytes).toBeLessThanOrEqual(4096);
  });

  it("serves repeated small reads from memory and fetches adjacent missing chunks in one call", async () => {
    const mem = new MemoryBackend(patterned(8192));
    const calls: [number, number][] = [];
    const fetch = (o: number, l: number) => {
      calls.push([o, l]);
      return mem.read(o, l);
    };
    const cache = new ChunkCache({ chunkSize: 1024, budgetBytes: 1 << 20 });
    await cache.read(100, 2500, fetch); // chunks 0..2
    expect(calls).toEqual([[0, 3072]]);
    await cache.read(1500, 100, fetch);
    expect(calls.length).toBe(1);
    await cache.read(2000, 2000, fetch); // chunks 1..3: only chunk 3 is missing
    expect(calls).toEqual([
      [0, 3072],
      [3072, 1024],
    ]);
    expect(cache.stats().hits).toBeGreaterThanOrEqual(3);
  });

  it("lets large reads bypass the cache without evicting small hot chunks", async () => {
    const mem = new MemoryBackend(patterned(1 << 16));
    const cache = new ChunkCache({ chunkSize: 1024, budgetBytes: 2048, bypassThreshold: 4096 });
    const fetch = (o: number, l: number) => mem.read(o, l);
    await cache.read(0, 10, fetch);
    await cache.read(8192, 20_000, fetch);
    expect(cache.stats().bypassed).toBe(1);
    const before = cache.stats().misses;
    await cache.read(0, 10, fetch);
    expect(cache.stats().misses).toBe(before);
  });

  it("keeps cached chunks equal to storage across writes and truncates", async () => {
    const mem = new MemoryBackend(patterned(6000));
    const cache = new ChunkCache({ chunkSize: 1000, budgetBytes: 1 << 20 });
    const fetch = (o: number, l: number) => mem.read(o, l);
    await cache.read(0, 6000, fetch); // bypassed: too large
    await cache.read(0, 3500, fetch);
    const data = new Uint8Array(1500).fill(0xee);
    await mem.write(900, data);
    cache.applyWrite(900, data);
    expect(await cache.read(0, 3500, fetch)).toEqual(await mem.read(0, 3500));
    await mem.truncate(1200);
    cache.applyTruncate(1200);
    expect(await cache.read(0, 3500, fetch)).toEqual(await mem.read(0, 3500));
  });
});
