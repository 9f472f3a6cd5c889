import { describe, expect, it } from "vitest";
import {
  payloadEntryIndex,
  PAYLOAD_BLOCK_FULLY_PRESENT,
  PAYLOAD_BLOCK_NOT_PRESENT,
  PAYLOAD_BLOCK_PARTIALLY_PRESENT,
  PAYLOAD_BLOCK_UNMAPPED,
  PAYLOAD_BLOCK_ZERO,
} from "../../src/vhdx/bat";
import { allocatedRanges, diskExtents, readExtentsInto } from "../../src/vhdx/allocation";
import { attachParents } from "../../src/vhdx/chain";
import { createImage, parentInfoOf } from "../../src/vhdx/create";
import { MiB } from "../../src/vhdx/bytes";
import { ByteRange, openImage, VhdxImage } from "../../src/vhdx/image";
import { MemoryBackend } from "../../src/vhdx/io";
import { VhdxWriter } from "../../src/vhdx/write";
import { Rng } from "../helpers/random";

const SIZE = 12 * MiB + 3 * 512; // a short last block
const SS = 512;

/** Random writes through the engine: whole blocks, runs of sectors, single sectors. */
async function scribble(io: MemoryBackend, rng: Rng, count: number, parent?: VhdxImage): Promise<void> {
  const img = await openImage(io, { readOnly: false });
  if (parent) img.parent = parent;
  const w = new VhdxWriter(img);
  for (let i = 0; i < count; i++) {
    const sectors = rng.int(0, 3) === 0 ? 2048 : rng.int(1, 40);
    const first = rng.int(0, SIZE / SS - sectors);
    await w.write(
      first * SS,
      rng.bytes(sectors * SS).map((b) => b | 1),
    );
  }
  await w.finish();
}

/** Sets a few blocks' BAT states in memory (ZERO, UNMAPPED, NOT_PRESENT): states the writer never makes. */
function forceStates(img: VhdxImage, rng: Rng): void {
  const g = img.geometry;
  for (let i = 0; i < 3; i++) {
    const block = rng.int(0, g.dataBlocksCount - 1);
    const state = [PAYLOAD_BLOCK_ZERO, PAYLOAD_BLOCK_UNMAPPED, PAYLOAD_BLOCK_NOT_PRESENT][i];
    img.bat.set(payloadEntryIndex(g, block), state, 0);
  }
}

/**
 * The model, one sector at a time down the chain, straight from §2.5.1.1 and §2.4: whether the
 * sector holds data in the image that decides it.
 */
async function modelHasData(chain: VhdxImage[], sector: number): Promise<boolean> {
  for (const img of chain) {
    const g = img.geometry;
    const perBlock = img.blockSize / SS;
    const block = Math.floor(sector / perBlock);
    const state = img.bat.state(payloadEntryIndex(g, block));
    const differencing = img.diskType === "differencing";
    if (state === PAYLOAD_BLOCK_FULLY_PRESENT) return true;
    if (differencing && state === PAYLOAD_BLOCK_PARTIALLY_PRESENT) {
      const bitmap = await img.sectorBitmap(Math.floor(block / g.chunkRatio));
      const bit = (block % g.chunkRatio) * perBlock + (sector % perBlock);
      if ((bitmap[bit >>> 3] >>> (bit & 7)) & 1) return true;
      continue;
    }
    if (differencing && state === PAYLOAD_BLOCK_NOT_PRESENT) continue;
    return false;
  }
  return false;
}

async function modelRanges(chain: VhdxImage[], first: number, count: number): Promise<ByteRange[]> {
  const out: ByteRange[] = [];
  for (let s = first; s < first + count; s++) {
    if (!(await modelHasData(chain, s))) continue;
    const last = out[out.length - 1];
    if (last && last.end === s * SS) last.end += SS;
    else out.push({ start: s * SS, end: (s + 1) * SS });
  }
  return out;
}

/** base (dynamic) ← mid (differencing, 2 MiB blocks) ← top (differencing, 1 MiB blocks), written at random. */
async function randomChain(seed: number): Promise<VhdxImage[]> {
  const rng = new Rng(seed);
  const baseIo = new MemoryBackend();
  await createImage(baseIo, { type: "dynamic", virtualSize: SIZE, blockSize: MiB });
  await scribble(baseIo, rng, 6);
  const base = await openImage(baseIo);
  const midIo = new MemoryBackend();
  await createImage(midIo, {
    type: "differencing",
    blockSize: 2 * MiB,
    parent: parentInfoOf(base, { relativePath: ".\\base.vhdx" }),
  });
  await scribble(midIo, rng, 8, base);
  const mid = await openImage(midIo);
  const topIo = new MemoryBackend();
  await createImage(topIo, {
    type: "differencing",
    blockSize: MiB,
    parent: parentInfoOf(mid, { relativePath: ".\\mid.vhdx" }),
  });
  await scribble(topIo, rng, 8, mid);
  const top = await openImage(topIo);
  await attachParents(top, "top", {
    resolve: async (_k, _v, at) => (at === "top" ? { io: midIo, location: "mid" } : { io: baseIo, location: "base" }),
    force: true,
  });
  const chain = [top, top.parent as VhdxImage, (top.parent as VhdxImage).parent as VhdxImage];
  for (const img of chain) forceStates(img, rng);
  return chain;
}

describe("allocatedRanges and the extents behind it", () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`match a per-sector model of the chain, and the extents read as the disk does (seed ${seed})`, async () => {
      const chain = await randomChain(seed);
      const top = chain[0];
      const sectors = Math.ceil(SIZE / SS);
      // Every layer alone (a parent asked directly) and the whole chain.
      for (let i = 0; i < chain.length; i++) {
        expect(await allocatedRanges(chain[i])).toEqual(await modelRanges(chain.slice(i), 0, sectors));
      }
      const whole = new Uint8Array(await top.read(0, SIZE));
      // Windows at random places, unaligned included.
      const rng = new Rng(seed + 100);
      for (let k = 0; k < 12; k++) {
        const first = rng.int(0, sectors - 1);
        const count = rng.int(1, sectors - first);
        const want = await modelRanges(chain, first, count);
        expect(await allocatedRanges(top, first * SS, count * SS)).toEqual(want);
        const at = rng.int(0, SIZE - 1);
        const len = rng.int(1, SIZE - at);
        // The extents cover the window end to end; zero ones read as zeros, data ones as the disk reads.
        let pos = at;
        for await (const e of diskExtents(top, at, len)) {
          expect(e.start).toBe(pos);
          expect(e.end).toBeGreaterThan(e.start);
          const expected = whole.subarray(e.start, e.end);
          const got = e.data ? await e.data.from.read(e.data.at, e.end - e.start) : new Uint8Array(e.end - e.start);
          expect(Buffer.from(got).equals(Buffer.from(expected))).toBe(true);
          pos = e.end;
        }
        expect(pos).toBe(at + len);
        // Read by the extents into a buffer holding rubbish: the same bytes as the disk reads.
        const into = new Uint8Array(len).fill(0xee);
        await readExtentsInto(top, at, into);
        expect(Buffer.from(into).equals(Buffer.from(whole.subarray(at, at + len)))).toBe(true);
      }
      // Outside the allocated ranges the disk reads as zeros; the writes put no zero byte anywhere.
      const ranges = await allocatedRanges(top);
      let prev = 0;
      for (const r of [...ranges, { start: SIZE, end: SIZE }]) {
        expect(whole.subarray(prev, r.start).every((b) => b === 0)).toBe(true);
        prev = r.end;
      }
    });
  }

  it("an empty 64 TiB image is one zero extent, found from the BAT alone", async () => {
    const io = new MemoryBackend();
    await createImage(io, { type: "dynamic", virtualSize: 64 * 2 ** 40, blockSize: 32 * MiB });
    const img = await openImage(io);
    img.read = () => Promise.reject(new Error("never read"));
    const extents = [];
    for await (const e of diskExtents(img, 0, img.virtualSize)) extents.push(e);
    expect(extents).toEqual([{ start: 0, end: img.virtualSize, data: null }]);
    expect(await allocatedRanges(img)).toEqual([]);
  });

  it("a differencing image without its parent refuses to guess; a block past the file's end is named", async () => {
    const baseIo = new MemoryBackend();
    await createImage(baseIo, { type: "dynamic", virtualSize: 4 * MiB, blockSize: MiB });
    const base = await openImage(baseIo);
    const childIo = new MemoryBackend();
    await createImage(childIo, {
      type: "differencing",
      blockSize: MiB,
      parent: parentInfoOf(base, { relativePath: ".\\base.vhdx" }),
    });
    await expect(allocatedRanges(await openImage(childIo))).rejects.toMatchObject({ code: "PARENT_NOT_FOUND" });
    base.bat.set(payloadEntryIndex(base.geometry, 2), PAYLOAD_BLOCK_FULLY_PRESENT, 4096);
    await expect(allocatedRanges(base)).rejects.toMatchObject({ code: "BAT_ENTRY_BEYOND_EOF", structure: "BAT" });
  });
});
