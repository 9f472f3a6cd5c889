import { describe, expect, it } from "vitest";
import { isAllZero } from "../../src/vhdx/bytes";
import { rawDisk, READ_AHEAD, readPieces } from "../../src/vhdx/convert";
import { MemoryBackend } from "../../src/vhdx/io";
import { patternBytes } from "../helpers/random";

describe("isAllZero", () => {
  it("finds one non-zero byte anywhere, at any length and alignment (the naive scan is the reference)", () => {
    const buf = new Uint8Array(96);
    for (let start = 0; start < 5; start++) {
      for (let len = 0; len <= 80; len++) {
        const view = buf.subarray(start, start + len);
        expect(isAllZero(view)).toBe(true);
        for (let at = 0; at < len; at++) {
          view[at] = 1 << (at % 8);
          expect(isAllZero(view)).toBe(false);
          view[at] = 0;
        }
      }
    }
    // Bytes just outside the view do not count.
    buf[4] = 9;
    buf[40] = 9;
    expect(isAllZero(buf.subarray(5, 40))).toBe(true);
  });
});

describe("readPieces", () => {
  it("gives the same pieces with reused buffers as with fresh ones, a short last piece included", async () => {
    const data = patternBytes(7, 10 * 4096 + 100);
    const io = new MemoryBackend(data);
    // A source that can read into buffers, as the Node file backend can.
    const disk = rawDisk(io, data.length);
    disk.readInto = async (offset, target) => target.set(await io.read(offset, target.length));
    const fresh: Uint8Array[] = [];
    for await (const { bytes } of readPieces(disk, data.length, 4096)) fresh.push(bytes.slice());
    const seen: Uint8Array[] = [];
    const buffers = new Set<ArrayBufferLike>();
    for await (const { at, bytes } of readPieces(disk, data.length, 4096, undefined, true)) {
      // Valid until the next piece is asked for: compare now.
      expect(Buffer.from(bytes).equals(Buffer.from(data.subarray(at, at + bytes.length)))).toBe(true);
      seen.push(bytes.slice());
      buffers.add(bytes.buffer);
    }
    expect(seen.map((b) => b.length)).toEqual(fresh.map((b) => b.length));
    expect(seen.every((b, i) => Buffer.from(b).equals(Buffer.from(fresh[i])))).toBe(true);
    // One buffer per read in flight plus the one in hand, reused in turn: no fresh buffer per piece.
    expect(buffers.size).toBe(READ_AHEAD + 1);
  });
});
