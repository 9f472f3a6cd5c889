import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { countMatches, findFirst, type SearchSource, type SpaceRun } from "../../src/find/scan";
import { parseQuery, type Pattern } from "../../src/find/pattern";
import { virtualSource } from "../../src/find/sources";
import { createImage } from "../../src/vhdx/create";
import { openImage } from "../../src/vhdx/image";
import { MemoryBackend } from "../../src/vhdx/io";
import { VhdxWriter } from "../../src/vhdx/write";

const hexPattern = (text: string): Pattern => {
  const r = parseQuery({ encoding: "hex", text });
  if (!r.ok) throw new Error(r.error);
  return r.pattern;
};

/** A buffer with some runs declared zero (and zero in the buffer); reads that lie wholly in one are recorded. */
function memorySource(buf: Uint8Array, zeroRuns: [number, number][], window: number) {
  const zeroReads: [number, number][] = [];
  const isZero = (a: number, b: number) => zeroRuns.some(([s, e]) => a >= s && b <= e);
  const src: SearchSource = {
    size: buf.length,
    window,
    async *runs(offset, length): AsyncGenerator<SpaceRun> {
      for (let at = offset; at < offset + length;) {
        const z = zeroRuns.find(([s, e]) => at >= s && at < e);
        const next = z
          ? Math.min(z[1], offset + length)
          : Math.min(offset + length, ...zeroRuns.map(([s]) => s).filter((s) => s > at));
        yield { start: at, end: next, data: !z };
        at = next;
      }
    },
    async readInto(offset, target) {
      if (isZero(offset, offset + target.length)) zeroReads.push([offset, offset + target.length]);
      target.set(buf.subarray(offset, offset + target.length));
    },
  };
  return { src, zeroReads };
}

/** The reference: every start compared, matches counted non-overlapping from the start. */
function naive(buf: Uint8Array, tokens: (number | null)[]) {
  const ok = (s: number) => tokens.every((t, i) => t === null || buf[s + i] === t);
  const all: number[] = [];
  for (let s = 0; s + tokens.length <= buf.length; s++) if (ok(s)) all.push(s);
  let count = 0;
  let next = 0;
  for (const s of all) {
    if (s < next) continue;
    count++;
    next = s + tokens.length;
  }
  return { all, count };
}

const hexText = (tokens: (number | null)[]) =>
  tokens.map((t) => (t === null ? "??" : t.toString(16).padStart(2, "0"))).join(" ");

describe("findFirst / countMatches over a source in chunks", () => {
  it("agree with a naive search, matches across chunk borders and zero runs included", async () => {
    const input = fc
      .record({
        bytes: fc.uint8Array({ minLength: 1, maxLength: 400 }).map((b) => b.map((x) => x % 3)),
        zeros: fc.array(fc.tuple(fc.nat(400), fc.nat(60)), { maxLength: 4 }),
        tokens: fc.array(fc.option(fc.integer({ min: 0, max: 2 }), { freq: 3 }), { minLength: 1, maxLength: 5 }),
        chunk: fc.integer({ min: 1, max: 40 }),
        window: fc.integer({ min: 1, max: 90 }),
        from: fc.nat(420),
      })
      .map((r) => {
        // Zero runs inside the buffer, sorted and disjoint, and zero in the bytes.
        const runs: [number, number][] = [];
        for (const [s, l] of [...r.zeros].sort((a, b) => a[0] - b[0])) {
          const a = Math.max(s, runs.length ? runs[runs.length - 1][1] + 1 : 0);
          const b = Math.min(r.bytes.length, a + l + 1);
          if (a < b) runs.push([a, b]);
        }
        for (const [a, b] of runs) r.bytes.fill(0, a, b);
        return { ...r, runs };
      });
    await fc.assert(
      fc.asyncProperty(input, async ({ bytes, runs, tokens, chunk, window, from }) => {
        const p = hexPattern(hexText(tokens));
        const { src } = memorySource(bytes, runs, window);
        const { all, count } = naive(bytes, tokens);
        const fwd = all.find((s) => s >= from) ?? -1;
        const back = [...all].reverse().find((s) => s <= from) ?? -1;
        expect(await findFirst(src, p, from, false, { chunk })).toBe(fwd);
        expect(await findFirst(src, p, from, true, { chunk })).toBe(back);
        expect(await countMatches(src, p, { chunk })).toBe(count);
      }),
      { numRuns: 300 },
    );
  });

  it("never reads a run of zeros when the pattern cannot match zeros", async () => {
    const buf = new Uint8Array(10_000);
    buf.set([1, 2, 3], 5000);
    const { src, zeroReads } = memorySource(
      buf,
      [
        [0, 4990],
        [5010, 10_000],
      ],
      1000,
    );
    const p = hexPattern("02 03");
    expect(await findFirst(src, p, 0, false, { chunk: 64 })).toBe(5001);
    expect(await findFirst(src, p, 9999, true, { chunk: 64 })).toBe(5001);
    expect(zeroReads).toEqual([]);
  });

  it("finds a zero-matching pattern at the first zero run without reading it", async () => {
    const buf = new Uint8Array(10_000).fill(7);
    buf.fill(0, 3000, 8000);
    const { src, zeroReads } = memorySource(buf, [[3000, 8000]], 1000);
    expect(await findFirst(src, hexPattern("00 ?? 00"), 100, false, { chunk: 64 })).toBe(3000);
    expect(await findFirst(src, hexPattern("00 00"), 9000, true, { chunk: 64 })).toBe(7998);
    expect(zeroReads).toEqual([]);
  });
});

describe("Find over a VHDX virtual disk", () => {
  it("an empty 64 TiB dynamic image is searched through without reading its data", async () => {
    const io = new MemoryBackend();
    await createImage(io, { type: "dynamic", virtualSize: 64 * 2 ** 40, blockSize: 32 * 2 ** 20 });
    const img = await openImage(io);
    const src = virtualSource(img, img.blockSize);
    // Every byte the searches read from the file, once the image is open.
    let read = 0;
    const plain = io.read.bind(io);
    io.read = async (offset: number, length: number) => {
      read += length;
      return plain(offset, length);
    };
    expect(await findFirst(src, hexPattern("55 aa"), 0)).toBe(-1);
    expect(await findFirst(src, hexPattern("55 aa"), img.virtualSize - 1, true)).toBe(-1);
    expect(await findFirst(src, hexPattern("00 00 00 00"), 12345)).toBe(12345);
    // At most the BAT (2 Mi entries of 8 bytes): no block is read, the BAT says they are all zeros.
    expect(read).toBeLessThanOrEqual(16 * 2 ** 20);
  });

  it("finds bytes written to a block far out, and one across a block border", async () => {
    const io = new MemoryBackend();
    const bs = 1024 * 1024;
    await createImage(io, { type: "dynamic", virtualSize: 1024 * bs, blockSize: bs });
    const img = await openImage(io, { readOnly: false });
    const w = new VhdxWriter(img);
    await w.write(700 * bs - 2, Uint8Array.from([0xde, 0xad, 0xbe, 0xef]));
    await w.write(900 * bs + 17, Uint8Array.from([0xde, 0xad, 0xbe, 0xef]));
    await w.finish();
    const src = virtualSource(img, img.blockSize);
    const p = hexPattern("de ad ?? ef");
    expect(await findFirst(src, p, 0)).toBe(700 * bs - 2);
    expect(await findFirst(src, p, 700 * bs - 1)).toBe(900 * bs + 17);
    expect(await findFirst(src, p, img.virtualSize - 1, true)).toBe(900 * bs + 17);
    expect(await countMatches(src, p)).toBe(2);
  });
});
