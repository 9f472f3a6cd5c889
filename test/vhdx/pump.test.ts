import { describe, expect, it } from "vitest";
import { MemoryBackend } from "../../src/vhdx/io";
import type { VirtualDisk } from "../../src/vhdx/image";
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
    it(`hands every piece over in order, the short last one included (${into ? "reused buffers" : "fresh arrays"})`, async () => {
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
      // Reused: one buffer per read ahead, per write behind, and the piece in hand; never one per piece.
      if (into) expect(buffers.size).toBeLessThanOrEqual(READ_AHEAD + WRITE_BEHIND + 1);
      else expect(buffers.size).toBe(11);
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
    it(`skips reading pieces wholly inside the source's known zero ranges (${into ? "reused buffers" : "fresh arrays"})`, async () => {
      // Zeros at [3 KiB, 9.5 KiB) and [12 KiB, 20 KiB); the source lists both as known.
      const data = patternBytes(5, 24 * 1024);
      data.fill(0, 3 * 1024, 9.5 * 1024);
      data.fill(0, 12 * 1024, 20 * 1024);
      const d = disk(data, { into, rng: new Rng(5) });
      const reads: number[] = [];
      const read = d.read.bind(d);
      d.read = (offset, length) => (reads.push(offset), read(offset, length));
      if (d.readInto) {
        const readInto = d.readInto.bind(d);
        d.readInto = (offset, target) => (reads.push(offset), readInto(offset, target));
      }
      d.knownZeroRanges = async () => [
        { start: 3 * 1024, end: 9.5 * 1024 },
        { start: 12 * 1024, end: 20 * 1024 },
      ];
      const got = new Uint8Array(data.length);
      const zeroPieces: number[] = [];
      await pumpPieces(d, data.length, 1024, async (at, bytes, knownZero) => {
        if (knownZero) zeroPieces.push(at);
        await tick(1);
        got.set(bytes, at);
      });
      expect(Buffer.from(got).equals(Buffer.from(data))).toBe(true);
      const inside = [3, 4, 5, 6, 7, 8, 12, 13, 14, 15, 16, 17, 18, 19].map((k) => k * 1024);
      expect(zeroPieces).toEqual(inside);
      // The piece at 9 KiB is only half inside a range: it is read, like every piece outside.
      expect(reads.sort((a, b) => a - b)).toEqual(
        Array.from({ length: 24 }, (_, k) => k * 1024).filter((at) => !inside.includes(at)),
      );
    });
  }
});
