/**
 * Resizing the virtual disk (§2.6.2.2 VirtualDiskSize through one log entry, §2.3): grown space
 * reads as zeros, bytes below both ends keep, a shrink over data is refused with the first offset,
 * a BAT that needs more entries than its region holds gets a larger region (the region table
 * rewritten through the log), and a power cut after any write (kept, dropped or torn) leaves the
 * image exactly as it was or exactly resized.
 */
import { describe, expect, it } from "vitest";
import { MiB } from "../../src/vhdx/bytes";
import { createImage } from "../../src/vhdx/create";
import { openImage, VhdxImage } from "../../src/vhdx/image";
import { MemoryBackend } from "../../src/vhdx/io";
import { planResize, resizeImage } from "../../src/vhdx/resize";
import { VhdxWriter } from "../../src/vhdx/write";
import { memoryChild } from "../helpers/child";
import { pattern } from "./helpers";
import { forEachCrash, RecordingBackend } from "./recording";

const GiB = 1024 * MiB;

async function image(type: "dynamic" | "fixed", size: number, data: Uint8Array): Promise<Uint8Array> {
  const mem = new MemoryBackend();
  await createImage(mem, { type, virtualSize: size, blockSize: MiB });
  const w = new VhdxWriter(await openImage(mem, { readOnly: false }));
  await w.write(0, data);
  await w.finish();
  return mem.bytes();
}

/** A 4 MiB dynamic parent holding pattern(`seed`), and an empty differencing child of it open for writing. */
async function emptyChild(seed: number): Promise<{ parent: VhdxImage; mem: MemoryBackend; child: VhdxImage }> {
  const parentBytes = await image("dynamic", 4 * MiB, pattern(seed, 4 * MiB));
  const parent = await openImage(new MemoryBackend(parentBytes), { readOnly: true });
  return { parent, ...(await memoryChild(parent)) };
}

async function resized(bytes: Uint8Array, size: number, force = false): Promise<VhdxImage> {
  const mem = new MemoryBackend(bytes);
  const w = new VhdxWriter(await openImage(mem, { readOnly: false }));
  await resizeImage(w, size, { force });
  await w.finish();
  return openImage(new MemoryBackend(mem.bytes()), { readOnly: true });
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
const zeros = (b: Uint8Array) => b.every((x) => x === 0);

describe("resizing the virtual disk", () => {
  it("grows a dynamic image: old bytes kept, new space zeros, writable to the new end", async () => {
    const data = pattern(1, 3 * MiB);
    const img = await resized(await image("dynamic", 4 * MiB, data), 9 * MiB + 512);
    expect(img.virtualSize).toBe(9 * MiB + 512);
    expect(same(await img.read(0, 3 * MiB), data)).toBe(true);
    expect(zeros(await img.read(3 * MiB, 6 * MiB + 512))).toBe(true);
    expect(img.registry.overlaps()).toEqual([]);
  });

  it("refuses a shrink over data with the first offset, drops it with force; a regrow reads zeros there", async () => {
    const data = pattern(2, 3 * MiB);
    const bytes = await image("dynamic", 4 * MiB, data);
    const mem = new MemoryBackend(bytes);
    const w = new VhdxWriter(await openImage(mem, { readOnly: false }));
    await expect(resizeImage(w, 2.5 * MiB)).rejects.toMatchObject({
      code: "RESIZE_DATA_PAST_END",
      offset: 2.5 * MiB,
    });
    await w.finish();
    expect(same(mem.bytes(), bytes)).toBe(true); // refused before any write
    const shrunk = await resized(bytes, 2.5 * MiB, true);
    expect(shrunk.virtualSize).toBe(2.5 * MiB);
    expect(same(await shrunk.read(0, 2.5 * MiB), data.subarray(0, 2.5 * MiB))).toBe(true);
    // The old data in [2.5 MiB, 3 MiB) of the kept block must not come back.
    const regrown = await resized(await bytesOf(shrunk), 4 * MiB);
    expect(same(await regrown.read(0, 2.5 * MiB), data.subarray(0, 2.5 * MiB))).toBe(true);
    expect(zeros(await regrown.read(2.5 * MiB, 1.5 * MiB))).toBe(true);
  });

  it("a shrink over zeros only needs no force; sizes outside the spec are refused", async () => {
    const bytes = await image("dynamic", 4 * MiB, pattern(3, MiB));
    const img = await resized(bytes, MiB);
    expect(img.virtualSize).toBe(MiB);
    const w = new VhdxWriter(await openImage(new MemoryBackend(bytes), { readOnly: false }));
    for (const bad of [0, 100, MiB + 1, 65 * 1024 * GiB])
      await expect(resizeImage(w, bad)).rejects.toMatchObject({ code: "RESIZE_INVALID_SIZE" });
  });

  it("grows the BAT region when the BAT needs more entries than it holds (region table through the log)", async () => {
    const data = pattern(4, 2 * MiB);
    const bytes = await image("dynamic", 4 * MiB, data);
    const before = await openImage(new MemoryBackend(bytes), { readOnly: true });
    // 1 MiB blocks, chunk ratio 4096: 130 GiB needs 133,152 entries, more than 1 MiB of BAT (131,072).
    const size = 130 * GiB;
    const plan = await planResize(before, size);
    expect(plan.bat.to.length).toBe(2 * MiB);
    const img = await resized(bytes, size);
    expect(img.batRegion.length).toBe(2 * MiB);
    for (const slot of img.regionTableSlots)
      expect(slot.table?.entries.find((e) => e.fileOffset === img.batRegion.fileOffset)?.length).toBe(2 * MiB);
    expect(same(await img.read(0, 2 * MiB), data)).toBe(true);
    expect(zeros(await img.read(size - 4 * MiB, 4 * MiB))).toBe(true);
    const w = new VhdxWriter(await openImage(new MemoryBackend(await bytesOf(img)), { readOnly: false }));
    await w.write(size - MiB, pattern(5, MiB));
    expect(same(await w.read(size - MiB, MiB), pattern(5, MiB))).toBe(true);
  });

  it("grows a fixed image by allocating FULLY_PRESENT zero blocks; shrinks it with force", async () => {
    const data = pattern(6, 3.5 * MiB);
    const bytes = await image("fixed", 3.5 * MiB, data);
    const img = await resized(bytes, 7 * MiB);
    expect(img.diskType).toBe("fixed");
    for (let b = 0; b < 7; b++) expect(img.blockLocation(b).state).toBe(6);
    expect(same(await img.read(0, 3.5 * MiB), data)).toBe(true);
    expect(zeros(await img.read(3.5 * MiB, 3.5 * MiB))).toBe(true);
    expect(img.registry.overlaps()).toEqual([]);
    const small = await resized(await bytesOf(img), MiB, true);
    expect(same(await small.read(0, MiB), data.subarray(0, MiB))).toBe(true);
  });

  it("a differencing child may outgrow its parent: the parent's bytes, then zeros; its own sectors block a shrink", async () => {
    const made = await emptyChild(7);
    const { parent, mem } = made;
    let child = made.child;
    const w = new VhdxWriter(child);
    await w.write(MiB + 4096, pattern(8, 8192));
    await expect(resizeImage(w, MiB)).rejects.toMatchObject({ code: "RESIZE_DATA_PAST_END", offset: MiB + 4096 });
    await resizeImage(w, 10 * MiB);
    await w.finish();
    child = await openImage(new MemoryBackend(mem.bytes()), { readOnly: true });
    child.parent = parent;
    const model = new Uint8Array(10 * MiB);
    model.set(pattern(7, 4 * MiB));
    model.set(pattern(8, 8192), MiB + 4096);
    expect(same(await child.read(0, 10 * MiB), model)).toBe(true);
  });
});

async function bytesOf(img: VhdxImage): Promise<Uint8Array> {
  return img.file.read(0, await img.file.size());
}

describe("a power cut at every write of a resize", () => {
  const cases = [
    { name: "dynamic, BAT region grown", type: "dynamic", from: 2 * MiB, to: 130 * GiB, force: false },
    { name: "fixed, blocks allocated", type: "fixed", from: 1.5 * MiB, to: 3 * MiB, force: false },
    { name: "dynamic, shrunk with force", type: "dynamic", from: 2 * MiB, to: 0.5 * MiB, force: true },
  ] as const;
  for (const c of cases) {
    it(`${c.name}: the old image or the resized one, nothing else`, async () => {
      const data = pattern(9, MiB + 4096);
      const bytes = await image(c.type, c.from, data);
      const rec = new RecordingBackend(bytes);
      const w = new VhdxWriter(await openImage(rec, { readOnly: false }));
      await resizeImage(w, c.to, { force: c.force });
      await w.finish();
      const keep = Math.min(data.length, c.to);
      let olds = 0;
      let news = 0;
      const tried = await forEachCrash(bytes, rec.ops, 0, rec.ops.length, async (crash) => {
        const img = await openImage(new MemoryBackend(crash.bytes), { readOnly: false });
        const where = `crash after op ${crash.op} (${crash.variant})`;
        if (img.virtualSize === c.from) olds++;
        else if (img.virtualSize === c.to) news++;
        else throw new Error(`${where}: virtual size ${img.virtualSize}`);
        expect(img.registry.overlaps()).toEqual([]);
        if (!same(await img.read(0, keep), data.subarray(0, keep))) throw new Error(`${where}: the data changed`);
        const end = Math.min(img.virtualSize, 2 * MiB);
        if (img.virtualSize === c.to && end > keep && !zeros(await img.read(keep, end - keep)))
          throw new Error(`${where}: grown space is not zeros`);
      });
      expect(tried).toBeGreaterThan(3);
      expect(olds).toBeGreaterThan(0);
      expect(news).toBeGreaterThan(0);
    });
  }
});

describe("a power cut at every write of a differencing child's resize", () => {
  it("a forced shrink inside a partly present block (sector bitmap bits cleared): old or resized", async () => {
    const { parent, mem, child } = await emptyChild(10);
    const w0 = new VhdxWriter(child);
    await w0.write(MiB + 8192, pattern(11, 300 * 1024));
    await w0.finish();
    const bytes = mem.bytes();
    const rec = new RecordingBackend(bytes);
    const img = await openImage(rec, { readOnly: false });
    img.parent = parent;
    const w = new VhdxWriter(img);
    const to = 1.5 * MiB;
    const old = await w.read(0, 4 * MiB);
    await resizeImage(w, to, { force: true });
    await w.finish();
    let olds = 0;
    let news = 0;
    await forEachCrash(bytes, rec.ops, 0, rec.ops.length, async (crash) => {
      const c = await openImage(new MemoryBackend(crash.bytes), { readOnly: false });
      c.parent = parent;
      const where = `crash after op ${crash.op} (${crash.variant})`;
      if (c.virtualSize === 4 * MiB) olds++;
      else if (c.virtualSize === to) news++;
      else throw new Error(`${where}: virtual size ${c.virtualSize}`);
      const n = Math.min(c.virtualSize, 2 * MiB); // the child's own sectors and the boundary
      if (!same(await c.read(0, n), old.subarray(0, n))) throw new Error(`${where}: the disk reads otherwise`);
    });
    expect(olds).toBeGreaterThan(0);
    expect(news).toBeGreaterThan(0);
    // Grown again, the cleared bits send the range past the shrunk end back to the parent.
    const after = await openImage(new MemoryBackend(rec.live.bytes()), { readOnly: false });
    after.parent = parent;
    const w2 = new VhdxWriter(after);
    await resizeImage(w2, 4 * MiB);
    expect(same(await w2.read(0, to), old.subarray(0, to))).toBe(true);
    expect(same(await w2.read(to, 4 * MiB - to), pattern(10, 4 * MiB).subarray(to))).toBe(true);
  });
});
