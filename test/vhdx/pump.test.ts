import { describe, expect, it } from "vitest";
import { MemoryBackend } from "../../src/vhdx/io";
import type { VirtualDisk } from "../../src/vhdx/image";
import type { DiskExtent } from "../../src/vhdx/allocation";
import { pumpPieces, READ_AHEAD, WRITE_BEHIND } from "../../src/vhdx/pump";
import { VhdxError } from "../../src/vhdx/errors";
import { patternBytes, Rng } from "../helpers/random";

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A disk over `data`, optionally able to read into buffers, each read taking a random short delay. */
function disk(data: Uint8Array, opts: { into: boolean; rng?: Rng; failAt?: number }): VirtualDisk {
  const io = new MemoryBackend(data);
  const delay = () => (opts.rng ? tick(opts.rng.u32() % 3) : Promise.resolve());
  const check = (offset: number) => {
    if (offset === opts.failAt) throw new Error(`read failed at ${offset}`);
  };
  const d: VirtualDisk = {
    virtualSize: data.length,
    read: async (offset, length) => {
      await delay();
      check(offset);
      return io.read(offset, length);
    },
  };
  if (opts.into) {
    d.readInto = async (offset, target) => {
      await delay();
      check(offset);
      target.set(await io.read(offset, target.length));
    };
  }
  return d;
}

describe("pumpPieces", () => {
  for (const into of [true, false]) {
    it(`hands every piece over in order, the short last one included (${into ? "read into" : "read and copied"})`, async () => {
      const data = patternBytes(7, 10 * 4096 + 100);
      const seen: { at: number; bytes: Uint8Array }[] = [];
      const buffers = new Set<ArrayBufferLike>();
      await pumpPieces(disk(data, { into }), data.length, 4096, (at, bytes) => {
        seen.push({ at, bytes: bytes.slice() });
        buffers.add(bytes.buffer);
      });
      expect(seen.map((p) => p.at)).toEqual(Array.from({ length: 11 }, (_, i) => i * 4096));
      expect(seen[10].bytes.length).toBe(100);
      for (const p of seen)
        expect(Buffer.from(p.bytes).equals(Buffer.from(data.subarray(p.at, p.at + p.bytes.length)))).toBe(true);
      // Reused: one buffer per read ahead, per write behind, and the piece in hand; never one per piece,
      // whether the source reads into them or hands back arrays of its own that are copied in.
      expect(buffers.size).toBeLessThanOrEqual(READ_AHEAD + WRITE_BEHIND + 1);
    });
  }

  it("never refills a buffer while a handler still holds it (slow, out-of-order writes)", async () => {
    const data = patternBytes(11, 64 * 1024);
    const rng = new Rng(5);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    await pumpPieces(disk(data, { into: true, rng }), data.length, 1024, async (at, bytes) => {
      order.push(at);
      const copy = bytes.slice();
      running++;
      most = Math.max(most, running);
      await tick(rng.u32() % 5); // the write takes a while; reads go on meanwhile
      // The bytes handed over are still the piece's bytes when the write completes.
      expect(Buffer.from(bytes).equals(Buffer.from(copy))).toBe(true);
      expect(Buffer.from(bytes).equals(Buffer.from(data.subarray(at, at + bytes.length)))).toBe(true);
      running--;
    });
    expect(order).toEqual(Array.from({ length: 64 }, (_, i) => i * 1024));
    // Writes really did overlap, up to the limit and no further.
    expect(most).toBe(WRITE_BEHIND + 1);
  });

  it("stops at a failing handler and throws its error once everything in flight has settled", async () => {
    const data = patternBytes(3, 32 * 1024);
    let calls = 0;
    let inFlight = 0;
    const run = pumpPieces(disk(data, { into: true, rng: new Rng(9) }), data.length, 1024, async (at) => {
      calls++;
      inFlight++;
      await tick(1);
      inFlight--;
      if (at === 5 * 1024) throw new Error("disk full");
    });
    await expect(run).rejects.toThrow("disk full");
    expect(inFlight).toBe(0);
    expect(calls).toBeLessThan(32);
  });

  it("passes a read failure on, and a cancel as CANCELLED", async () => {
    const data = patternBytes(4, 32 * 1024);
    await expect(
      pumpPieces(disk(data, { into: true, failAt: 7 * 1024 }), data.length, 1024, () => undefined),
    ).rejects.toThrow("read failed at 7168");
    const ac = new AbortController();
    const run = pumpPieces(
      disk(data, { into: false }),
      data.length,
      1024,
      (at) => {
        if (at === 3 * 1024) ac.abort();
      },
      { signal: ac.signal, what: "convert" },
    );
    await expect(run).rejects.toBeInstanceOf(VhdxError);
    await expect(run).rejects.toMatchObject({ code: "CANCELLED" });
  });

  for (const into of [true, false]) {
    it(`never reads, nor hands over, runs the source knows are zeros (${into ? "read into" : "read and copied"})`, async () => {
      // Zeros at [3 KiB, 9.5 KiB) and [12 KiB, 20 KiB); the source lists both as known.
      const data = patternBytes(5, 24 * 1024);
      data.fill(0, 3 * 1024, 9.5 * 1024);
      data.fill(0, 12 * 1024, 20 * 1024);
      const d = disk(data, { into, rng: new Rng(5) });
      const reads: [number, number][] = [];
      const read = d.read.bind(d);
      d.read = (offset, length) => (reads.push([offset, offset + length]), read(offset, length));
      if (d.readInto) {
        const readInto = d.readInto.bind(d);
        d.readInto = (offset, target) => (reads.push([offset, offset + target.length]), readInto(offset, target));
      }
      d.knownZeroRanges = async () => [
        { start: 3 * 1024, end: 9.5 * 1024 },
        { start: 12 * 1024, end: 20 * 1024 },
      ];
      const got = new Uint8Array(data.length);
      const pieces: [number, number][] = [];
      const skips: number[] = [];
      let progress = 0;
      await pumpPieces(
        d,
        data.length,
        1024,
        async (at, bytes) => {
          expect(at).toBeGreaterThanOrEqual(progress);
          progress = at + bytes.length;
          pieces.push([at, at + bytes.length]);
          await tick(1);
          got.set(bytes, at);
        },
        { skipped: (end) => (expect(end).toBeGreaterThanOrEqual(progress), (progress = end), skips.push(end)) },
      );
      expect(Buffer.from(got).equals(Buffer.from(data))).toBe(true);
      // Pieces end at multiples of the step; the one at 9.5 KiB starts where the zeros end.
      const want: [number, number][] = [];
      for (let k = 0; k < 24; k++) if (k < 3 || (k >= 10 && k < 12) || k >= 20) want.push([k * 1024, (k + 1) * 1024]);
      want.splice(3, 0, [9.5 * 1024, 10 * 1024]);
      expect(pieces).toEqual(want);
      expect(skips).toEqual([9.5 * 1024, 20 * 1024]);
      // Nothing inside a zero range was read.
      for (const [s, e] of reads) {
        expect(s >= 9.5 * 1024 || e <= 3 * 1024).toBe(true);
        expect(s >= 20 * 1024 || e <= 12 * 1024).toBe(true);
      }
    });
  }

  it("reads a piece from several sources, zeros between them, and skips a disk that is all zeros", async () => {
    const a = new MemoryBackend(patternBytes(1, 8192));
    const b = new MemoryBackend(patternBytes(2, 8192));
    const extents: DiskExtent[] = [
      { start: 0, end: 100, data: { from: a, at: 50 } },
      { start: 100, end: 612, data: null },
      { start: 612, end: 3000, data: { from: b, at: 4000 } },
      { start: 3000, end: 2 ** 40, data: null },
    ];
    const d: VirtualDisk = {
      virtualSize: 2 ** 40,
      read: () => Promise.reject(new Error("the disk itself is never read")),
      extents: async function* (offset, length) {
        for (const e of extents) if (e.end > offset && e.start < offset + length) yield e;
      },
    };
    const pieces: { at: number; bytes: Uint8Array }[] = [];
    const skips: number[] = [];
    await pumpPieces(d, d.virtualSize, 2048, (at, bytes) => void pieces.push({ at, bytes: bytes.slice() }), {
      skipped: (end) => skips.push(end),
    });
    const want = new Uint8Array(3000);
    want.set((await a.read(50, 100)) as Uint8Array, 0);
    want.set(await b.read(4000, 2388), 612);
    expect(pieces.map((p) => [p.at, p.bytes.length])).toEqual([
      [0, 2048],
      [2048, 952],
    ]);
    expect(Buffer.concat(pieces.map((p) => p.bytes)).equals(Buffer.from(want))).toBe(true);
    // A terabyte of zeros after the data: one skip, no piece.
    expect(skips).toEqual([2 ** 40]);
  });
});
