import { describe, expect, it } from "vitest";
import { BlobBackend } from "../../src/worker/storage/blobBackend";
import { readBlobRange } from "../../src/worker/storage/blobRange";
import { ChunkCache } from "../../src/worker/storage/chunkCache";
import { RangeFetch, SequentialReadAhead } from "../../src/worker/storage/readAhead";
import { WritableHandleBackend } from "../../src/worker/storage/writableHandleBackend";
import { MemoryBackend } from "../../src/vhdx/io";
import { ModelHandle } from "../helpers/modelHandle";

const WINDOW = 4096;
const MIN_READ = 512;

/** Deterministic bytes, so a byte served from the wrong offset shows. */
function bytes(n: number, seed: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** What a read of [offset, offset+length) must return: the Blob's bytes, zeros past its end. */
function expected(data: Uint8Array, offset: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  if (offset < data.length) out.set(data.subarray(offset, Math.min(data.length, offset + length)));
  return out;
}

function counted(blob: Blob): { fetch: RangeFetch; calls: { offset: number; length: number }[] } {
  const calls: { offset: number; length: number }[] = [];
  const fetch: RangeFetch = (offset, length) => {
    calls.push({ offset, length });
    return readBlobRange(blob, offset, length, "test blob");
  };
  return { fetch, calls };
}

describe("SequentialReadAhead", () => {
  it("serves a sequential stream from bounded windows, byte for byte", async () => {
    const data = bytes(50_001, 1);
    const blob = new Blob([data]);
    const ra = new SequentialReadAhead({ windowSize: WINDOW, minRead: MIN_READ });
    const { fetch, calls } = counted(blob);
    let reads = 0;
    for (let at = 0; at < data.length; at += 1000) {
      const got = await ra.read(blob, at, 1000, fetch);
      reads++;
      expect(Buffer.from(got).equals(expected(data, at, 1000))).toBe(true);
      expect(ra.heldBytes).toBeLessThanOrEqual((1 + ra.ahead) * WINDOW);
    }
    // The first read cannot know it starts a stream; after it, one fetch per window.
    expect(calls.length).toBeLessThanOrEqual(1 + Math.ceil(data.length / WINDOW));
    expect(calls.length).toBeLessThan(reads / 3);
    for (const c of calls.slice(1)) expect(c.length).toBeLessThanOrEqual(WINDOW);
  });

  it("reads across window edges and past the end of the Blob", async () => {
    const data = bytes(20_000, 2);
    const blob = new Blob([data]);
    const ra = new SequentialReadAhead({ windowSize: WINDOW, minRead: MIN_READ });
    const { fetch } = counted(blob);
    // 3000-byte reads straddle every 4096-byte window edge; the last runs past the end.
    for (let at = 0; at < 24_000; at += 3000) {
      const got = await ra.read(blob, at, 3000, fetch);
      expect(Buffer.from(got).equals(expected(data, at, 3000))).toBe(true);
    }
    expect(ra.stats().served).toBeGreaterThan(4);
    // Wholly past the end: zeros, and no window.
    expect(Buffer.from(await ra.read(blob, 30_000, 1000, fetch)).equals(Buffer.alloc(1000))).toBe(true);
  });

  it("keeps up with reads issued several at a time, as the conversion pump does", async () => {
    const data = bytes(64 * 1024 + 77, 3);
    const blob = new Blob([data]);
    const ra = new SequentialReadAhead({ windowSize: WINDOW, minRead: MIN_READ });
    const { fetch, calls } = counted(blob);
    for (let at = 0; at < data.length; at += 4 * 1024) {
      const offsets = [0, 1, 2, 3].map((i) => at + i * 1024);
      const got = await Promise.all(offsets.map((o) => ra.read(blob, o, 1024, fetch)));
      got.forEach((g, i) => expect(Buffer.from(g).equals(expected(data, offsets[i], 1024))).toBe(true));
    }
    // Reads wholly past the end never reach the Blob (readBlobRange answers zeros).
    const reaching = calls.filter((c) => c.offset < data.length);
    expect(reaching.length).toBeLessThanOrEqual(1 + Math.ceil(data.length / WINDOW));
  });

  it("never starts a window for small or scattered reads", async () => {
    const data = bytes(100_000, 4);
    const blob = new Blob([data]);
    const ra = new SequentialReadAhead({ windowSize: WINDOW, minRead: MIN_READ });
    const { fetch, calls } = counted(blob);
    // Small reads one after the other (a hex view paging), then large reads that jump about.
    for (let at = 0; at < 5000; at += 256) await ra.read(blob, at, 256, fetch);
    for (const at of [90_000, 10_000, 50_000, 0, 70_000]) {
      const got = await ra.read(blob, at, 2048, fetch);
      expect(Buffer.from(got).equals(expected(data, at, 2048))).toBe(true);
    }
    expect(ra.stats().windows).toBe(0);
    expect(ra.heldBytes).toBe(0);
    expect(calls.every((c) => c.length <= 2048)).toBe(true);
  });

  it("drops its windows when the Blob is another one: old bytes are never served", async () => {
    const a = bytes(30_000, 5);
    const b = bytes(30_000, 6);
    const blobA = new Blob([a]);
    const blobB = new Blob([b]);
    const ra = new SequentialReadAhead({ windowSize: WINDOW, minRead: MIN_READ });
    for (let at = 0; at < 6000; at += 1000) await ra.read(blobA, at, 1000, counted(blobA).fetch);
    expect(ra.heldBytes).toBeGreaterThan(0);
    // The same stream continues on a new snapshot of the file.
    for (let at = 6000; at < 12_000; at += 1000) {
      const got = await ra.read(blobB, at, 1000, counted(blobB).fetch);
      expect(Buffer.from(got).equals(expected(b, at, 1000))).toBe(true);
    }
  });

  it("forgets a window whose fetch failed: the reads get the failure, later reads retry", async () => {
    const data = bytes(20_000, 7);
    const blob = new Blob([data]);
    const ra = new SequentialReadAhead({ windowSize: WINDOW, minRead: MIN_READ });
    let fail = false;
    const fetch: RangeFetch = (o, l) =>
      fail ? Promise.reject(new Error("file changed")) : readBlobRange(blob, o, l, "test blob");
    await ra.read(blob, 0, 1000, fetch);
    fail = true;
    await expect(ra.read(blob, 1000, 1000, fetch)).rejects.toThrow("file changed");
    await expect(ra.read(blob, 2000, 1000, fetch)).rejects.toThrow("file changed");
    fail = false;
    for (let at = 3000; at < 12_000; at += 1000) {
      const got = await ra.read(blob, at, 1000, fetch);
      expect(Buffer.from(got).equals(expected(data, at, 1000))).toBe(true);
    }
  });
});

describe("SequentialReadAhead.readInto", () => {
  it("fills a reused buffer with the Blob's bytes, zeros past its end, from bounded windows", async () => {
    const data = bytes(30_001, 11);
    const blob = new Blob([data]);
    const ra = new SequentialReadAhead({ windowSize: WINDOW, minRead: MIN_READ, ahead: 2 });
    const { fetch, calls } = counted(blob);
    const buf = new Uint8Array(1500);
    for (let at = 0; at < 33_000; at += 1500) {
      buf.fill(0xee); // what the previous piece left must not show through
      await ra.readInto(blob, at, buf, fetch);
      expect(Buffer.from(buf).equals(expected(data, at, 1500))).toBe(true);
      expect(ra.heldBytes).toBeLessThanOrEqual(3 * WINDOW);
    }
    expect(calls.filter((c) => c.offset < data.length).length).toBeLessThanOrEqual(1 + Math.ceil(data.length / WINDOW));
  });
});

describe("read-ahead inside the backends", () => {
  const small = () => new SequentialReadAhead({ windowSize: WINDOW, minRead: MIN_READ });

  it("BlobBackend: a stream under the chunk cache reads the file's bytes", async () => {
    const data = bytes(40_000, 8);
    const b = new BlobBackend(new Blob([data]), {
      cache: new ChunkCache({ chunkSize: 256, budgetBytes: 8192 }),
      readAhead: small(),
    });
    for (let at = 0; at < data.length; at += 1500) {
      expect(Buffer.from(await b.read(at, 1500)).equals(expected(data, at, 1500))).toBe(true);
    }
    expect(b.readAhead.stats().windows).toBeGreaterThan(0);
    const piece = new Uint8Array(2000);
    for (let at = 0; at < data.length; at += 2000) {
      await b.readInto(at, piece);
      expect(Buffer.from(piece).equals(expected(data, at, 2000))).toBe(true);
    }
    // Small reads go through the chunk cache, as read() does.
    const tiny = new Uint8Array(100);
    await b.readInto(12_345, tiny);
    expect(Buffer.from(tiny).equals(expected(data, 12_345, 100))).toBe(true);
  });

  it("WritableHandleBackend: staged writes and truncates show through, commits drop the windows", async () => {
    const start = bytes(32_768, 9);
    const h = new ModelHandle("d.vhdx", start);
    const b = await WritableHandleBackend.open(h as unknown as FileSystemFileHandle, {
      cache: new ChunkCache({ chunkSize: 256, budgetBytes: 4096 }),
      readAhead: small(),
    });
    const ref = new MemoryBackend(start.slice());
    const stream = async (from: number, to: number) => {
      for (let at = from; at < to; at += 1000) {
        const got = await b.read(at, 1000);
        expect(Buffer.from(got).equals(Buffer.from(await ref.read(at, 1000)))).toBe(true);
      }
    };
    await stream(0, 6000); // windows now hold [1000, 9192) of the first snapshot
    const w = bytes(3000, 10);
    await b.write(6500, w);
    await ref.write(6500, w);
    await stream(6000, 8000); // staged bytes over the window's bytes
    await b.flush(); // a new File: the windows, still holding [8000, 9500) as it was, describe the old one
    await stream(8000, 14_000);
    await stream(5000, 11_000);
    await b.truncate(13_000);
    await ref.truncate(13_000);
    await stream(11_000, 16_000); // a staged truncate zeroes what the window still holds
    await b.flush();
    await stream(0, 14_000);
    expect(h.bytes).toEqual(ref.bytes());
  });
});
