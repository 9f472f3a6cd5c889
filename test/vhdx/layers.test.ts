import { describe, expect, it } from "vitest";
import { PAYLOAD_BLOCK_PARTIALLY_PRESENT } from "../../src/vhdx/bat";
import { attachParents } from "../../src/vhdx/chain";
import { createImage, parentInfoOf } from "../../src/vhdx/create";
import { MiB } from "../../src/vhdx/bytes";
import { openImage } from "../../src/vhdx/image";
import { MemoryBackend } from "../../src/vhdx/io";
import { NO_LAYER, partialPresence, sectorLayers } from "../../src/vhdx/layers";
import { VhdxWriter } from "../../src/vhdx/write";

const SIZE = 4 * MiB;
const SS = 512;

/** Writes through the engine and records, per sector, that this layer wrote it. */
async function write(io: MemoryBackend, writes: [number, number, number][], mark: Uint8Array): Promise<void> {
  const w = new VhdxWriter(await openImage(io, { readOnly: false }));
  for (const [offset, length, value] of writes) {
    await w.write(offset, new Uint8Array(length).fill(value));
    mark.fill(1, offset / SS, (offset + length) / SS);
  }
  await w.finish();
}

describe("sectorLayers", () => {
  it("names, per sector, the image of the chain that supplies it, as the reads through the chain show", async () => {
    const baseIo = new MemoryBackend();
    await createImage(baseIo, { type: "dynamic", virtualSize: SIZE, blockSize: MiB });
    const baseWrote = new Uint8Array(SIZE / SS);
    await write(
      baseIo,
      [
        [0, 64 * 1024, 0xb0],
        [2 * MiB + 4096, 512, 0xb2],
      ],
      baseWrote,
    );
    const base = await openImage(baseIo);

    const childIo = new MemoryBackend();
    await createImage(childIo, {
      type: "differencing",
      blockSize: MiB,
      parent: parentInfoOf(base, { relativePath: ".\\base.vhdx" }),
    });
    const childWrote = new Uint8Array(SIZE / SS);
    const resolve = async () => ({ io: baseIo, location: "base.vhdx" });
    // The child writes part of block 0 (PARTIALLY_PRESENT over the base's data) and all of block 3.
    {
      const child = await openImage(childIo, { readOnly: false });
      await attachParents(child, "child.vhdx", { resolve });
      const w = new VhdxWriter(child);
      for (const [offset, length, value] of [
        [8192, 1024, 0xc0],
        [3 * MiB, MiB, 0xc3],
      ] as const) {
        await w.write(offset, new Uint8Array(length).fill(value));
        childWrote.fill(1, offset / SS, (offset + length) / SS);
      }
      await w.finish();
    }
    const child = await openImage(childIo);
    await attachParents(child, "child.vhdx", { resolve });

    const layers = await sectorLayers(child, 0, SIZE / SS);
    // The model: the child's own sectors, else the base's allocated blocks (data or zeros), else nothing.
    const baseBlockAllocated = (s: number) =>
      baseWrote.subarray(Math.floor(s / 2048) * 2048, (Math.floor(s / 2048) + 1) * 2048).includes(1);
    const expected = Int8Array.from({ length: SIZE / SS }, (_, s) =>
      childWrote[s] ? 0 : baseBlockAllocated(s) ? 1 : NO_LAYER,
    );
    expect(Array.from(layers)).toEqual(Array.from(expected));
    expect(layers.filter((l) => l === 0).length).toBe(2 + 2048);
    expect(layers[16]).toBe(0);
    expect(layers[15]).toBe(1);
    expect(layers[2048]).toBe(NO_LAYER);

    // Each sector reads as the layer says: the child's bytes, the base's, or zeros.
    const bytes = await child.read(0, SIZE);
    for (let s = 0; s < SIZE / SS; s++) {
      const b = bytes[s * SS];
      if (layers[s] === 0) expect(b === 0xc0 || b === 0xc3).toBe(true);
      else if (layers[s] === NO_LAYER) expect(b).toBe(0);
    }
    // A window inside the disk gives the same answer as the whole.
    expect(Array.from(await sectorLayers(child, 10, 20))).toEqual(Array.from(layers.subarray(10, 30)));
    // The base alone: its own blocks, nothing elsewhere.
    const own = await sectorLayers(base, 0, SIZE / SS);
    expect(own[0]).toBe(0);
    expect(own[2048]).toBe(NO_LAYER);
    await expect(sectorLayers(child, SIZE / SS - 1, 2)).rejects.toThrow(/run past/);
    // Each PARTIALLY_PRESENT block holds exactly the sectors the child wrote in it (block 0: 2 of 2048).
    const partial = await partialPresence(child);
    const partialBlocks = [0, 1, 2, 3].filter((b) => child.blockLocation(b).state === PAYLOAD_BLOCK_PARTIALLY_PRESENT);
    expect(partialBlocks).toContain(0);
    expect(Array.from(partial.blocks)).toEqual(partialBlocks);
    const wrote = (b: number) => childWrote.subarray(b * 2048, (b + 1) * 2048).reduce((a, x) => a + x, 0);
    expect(Array.from(partial.present)).toEqual(partialBlocks.map(wrote));
    expect(partial.present[0]).toBe(2);
    expect(partial.sectorsPerBlock).toBe(2048);
  });

  it("a differencing image without its parent attached refuses to guess", async () => {
    const baseIo = new MemoryBackend();
    await createImage(baseIo, { type: "dynamic", virtualSize: SIZE, blockSize: MiB });
    const base = await openImage(baseIo);
    const childIo = new MemoryBackend();
    await createImage(childIo, {
      type: "differencing",
      blockSize: MiB,
      parent: parentInfoOf(base, { relativePath: ".\\base.vhdx" }),
    });
    await expect(sectorLayers(await openImage(childIo), 0, 4)).rejects.toThrow(/no parent attached/);
  });
});
