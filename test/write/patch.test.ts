import { afterAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { createImage, CreateOptions } from "../../src/vhdx/create";
import { openImage, VhdxImage } from "../../src/vhdx/image";
import { MemoryBackend } from "../../src/vhdx/io";
import { NodeFileBackend } from "../../src/node/fileBackend";
import { MiB } from "../../src/vhdx/bytes";
import { encodeBatEntry, PAYLOAD_BLOCK_ZERO, payloadEntryIndex } from "../../src/vhdx/bat";
import { VhdxWriter } from "../../src/vhdx/write";
import { commitPatch, estimatePatch, PatchEdit } from "../../src/vhdx/patch";
import { checkStructurePatch, commitStructurePatch } from "../../src/vhdx/structurePatch";
import { serializeGuidItem, VIRTUAL_DISK_ID_GUID } from "../../src/vhdx/metadata";
import { VhdxError } from "../../src/vhdx/errors";
import { memoryChild } from "../helpers/child";
import { hasTool, pattern, qemuCheck, qemuToRaw, tempDir } from "./helpers";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

async function writable(
  o: CreateOptions,
  seedWrites: [number, Uint8Array][] = [],
): Promise<{ mem: MemoryBackend; w: VhdxWriter; model: Uint8Array }> {
  const mem = new MemoryBackend();
  await createImage(mem, o);
  const w = new VhdxWriter(await openImage(mem, { readOnly: false }));
  const model = new Uint8Array(o.virtualSize!);
  for (const [off, d] of seedWrites) {
    await w.write(off, d);
    model.set(d, off);
  }
  return { mem, w, model };
}

function applyModel(model: Uint8Array, edits: PatchEdit[]): void {
  for (const e of edits) model.set(e.data, e.offset);
}

async function reopen(mem: MemoryBackend): Promise<VhdxImage> {
  return openImage(new MemoryBackend(mem.bytes()));
}

describe("atomic patches", () => {
  it("copies every touched present block, switches them in one log entry and frees the old space", async () => {
    const { mem, w, model } = await writable({ type: "dynamic", virtualSize: 16 * MiB, blockSize: MiB }, [
      [0, pattern(1, 3 * MiB)],
      [10 * MiB, pattern(2, MiB)],
    ]);
    const before = [0, 1, 2, 10].map((b) => w.image.blockLocation(b).fileOffset);
    const edits: PatchEdit[] = [
      { offset: 100, data: pattern(3, 10) },
      { offset: MiB - 3, data: pattern(4, 9) }, // spans blocks 0 and 1
      { offset: 105, data: pattern(5, 3) }, // overlaps the first edit: later wins
      { offset: 12 * MiB + 7, data: pattern(6, 5000) }, // a block never written
    ];
    const cost = await estimatePatch(w, edits);
    expect(cost).toMatchObject({ blocksCopied: 2, blocksAllocated: 1, logSectors: 1 });
    const entriesBefore = mem.bytes().length;
    await commitPatch(w, edits);
    applyModel(model, edits);
    expect(Buffer.from(await w.read(0, 16 * MiB)).equals(Buffer.from(model))).toBe(true);
    const after = [0, 1, 2, 10].map((b) => w.image.blockLocation(b).fileOffset);
    expect(after[0]).not.toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
    expect(after.slice(2)).toEqual(before.slice(2));
    expect(w.image.registry.overlaps()).toEqual([]);
    // The old blocks are free space now: a later patch reuses them instead of growing the file.
    const size = await mem.size();
    expect(size).toBeGreaterThan(entriesBefore);
    await commitPatch(w, [
      { offset: 10 * MiB, data: pattern(7, 1) },
      { offset: 2 * MiB, data: pattern(8, 1) },
    ]);
    applyModel(model, [
      { offset: 10 * MiB, data: pattern(7, 1) },
      { offset: 2 * MiB, data: pattern(8, 1) },
    ]);
    expect(await mem.size()).toBe(size);
    expect([before[0], before[1]]).toContain(w.image.blockLocation(10).fileOffset);
    await w.finish();
    const again = await reopen(mem);
    expect(Buffer.from(await again.read(0, 16 * MiB)).equals(Buffer.from(model))).toBe(true);
  });

  it("a one-sector patch costs at most 3 flushes once the session's header updates are done, as estimated", async () => {
    const { mem, w } = await writable({ type: "fixed", virtualSize: 8 * MiB, blockSize: MiB });
    await commitPatch(w, [{ offset: 0, data: pattern(1, 512) }]); // session start
    for (const offset of [4096, 5 * MiB + 512, 7 * MiB]) {
      const est = await estimatePatch(w, [{ offset, data: pattern(offset, 512) }]);
      const f0 = mem.flushes;
      await commitPatch(w, [{ offset, data: pattern(offset, 512) }]);
      expect(mem.flushes - f0).toBeLessThanOrEqual(3);
      expect(est.flushes).toBe(mem.flushes - f0);
      expect(est.blocksCopied).toBe(1);
    }
  });

  it("differencing: patches copy partially present blocks and set bits in the same entry", async () => {
    const size = 8 * MiB;
    const parentMem = new MemoryBackend();
    await createImage(parentMem, { type: "dynamic", virtualSize: size, blockSize: MiB });
    const pw = new VhdxWriter(await openImage(parentMem, { readOnly: false }));
    const model = new Uint8Array(size);
    await pw.write(0, pattern(1, size));
    model.set(pattern(1, size));
    await pw.finish();
    const parent = await reopen(parentMem);
    const { mem: cmem, child } = await memoryChild(parent);
    const w = new VhdxWriter(child);
    const first: PatchEdit[] = [
      { offset: 1000, data: pattern(2, 100) },
      { offset: 3 * MiB + 17, data: pattern(3, 2000) },
    ];
    const est = await estimatePatch(w, first);
    expect(est.bitmapBlocksAllocated).toBe(1);
    await commitPatch(w, first);
    applyModel(model, first);
    const second: PatchEdit[] = [
      { offset: 1100, data: pattern(4, 700) },
      { offset: 6 * MiB - 1, data: pattern(5, 2) },
    ];
    await commitPatch(w, second);
    applyModel(model, second);
    expect(Buffer.from(await w.read(0, size)).equals(Buffer.from(model))).toBe(true);
    await w.finish();
    const again = await reopen(cmem);
    again.parent = parent;
    expect(Buffer.from(await again.read(0, size)).equals(Buffer.from(model))).toBe(true);
  });

  it.skipIf(!hasTool("qemu-img"))("QEMU reads patched images as the model and finds no errors", async () => {
    for (const type of ["fixed", "dynamic"] as const) {
      const path = tmp.path(`p-${type}.vhdx`);
      const f = await NodeFileBackend.open(path, { readOnly: false, create: "overwrite" });
      await createImage(f, { type, virtualSize: 12 * MiB, blockSize: 2 * MiB });
      const w = new VhdxWriter(await openImage(f, { readOnly: false }));
      const model = new Uint8Array(12 * MiB);
      for (let i = 0; i < 6; i++) {
        const edits = [
          { offset: i * 1_900_001, data: pattern(i, 70_000) },
          { offset: (i * 7919 * 512) % (11 * MiB), data: pattern(i + 50, 513) },
        ];
        await commitPatch(w, edits);
        applyModel(model, edits);
      }
      await w.close();
      expect(qemuCheck(path).out).toMatch(/No errors were found/);
      qemuToRaw(path, path + ".raw");
      expect(readFileSync(path + ".raw").equals(Buffer.from(model))).toBe(true);
    }
  });
});

describe("structure patches", () => {
  it("commits a metadata item and a BAT entry edit through the log and reloads the image", async () => {
    const { mem, w } = await writable({ type: "dynamic", virtualSize: 8 * MiB, blockSize: MiB }, [[0, pattern(1, 10)]]);
    const img = w.image;
    const id = img.metadataTable.entries.find((e) => e.itemId === VIRTUAL_DISK_ID_GUID)!;
    const newId = "0badc0de-1234-4abc-8def-00112233aabb";
    const entry = payloadEntryIndex(img.geometry, 3);
    await commitStructurePatch(w, [
      { fileOffset: img.metadataRegion.fileOffset + id.offset, data: serializeGuidItem(newId) },
      { fileOffset: img.batRegion.fileOffset + entry * 8, data: encodeBatEntry(PAYLOAD_BLOCK_ZERO, 0) },
    ]);
    expect(img.params.virtualDiskId).toBe(newId);
    expect(img.bat.state(entry)).toBe(PAYLOAD_BLOCK_ZERO);
    await w.finish();
    const again = await reopen(mem);
    expect(again.params.virtualDiskId).toBe(newId);
    expect(again.bat.state(entry)).toBe(PAYLOAD_BLOCK_ZERO);
    expect(Buffer.from(await again.read(0, 10)).equals(Buffer.from(pattern(1, 10)))).toBe(true);
  });

  it.each([
    ["the file type identifier", () => 8, /never written/],
    ["a header", () => 64 * 1024 + 100, /header update protocol/],
    ["payload", (img: VhdxImage) => img.blockLocation(0).fileOffset, /not inside the BAT/],
  ])("refuses edits to %s", async (_n, at, reason) => {
    const { w } = await writable({ type: "dynamic", virtualSize: 8 * MiB, blockSize: MiB }, [[0, pattern(1, 10)]]);
    const err = (await commitStructurePatch(w, [{ fileOffset: at(w.image), data: new Uint8Array([1]) }]).catch(
      (e) => e,
    )) as VhdxError;
    expect(err.code).toBe("PATCH_INVALID");
    expect(err.message).toMatch(reason);
  });

  it("refuses results that would not open cleanly, with the reason, and writes nothing", async () => {
    const { mem, w } = await writable({ type: "dynamic", virtualSize: 8 * MiB, blockSize: MiB }, [[0, pattern(1, 10)]]);
    const img = w.image;
    // A BAT entry pointing into the metadata region.
    const bad = await checkStructurePatch(img, [
      { fileOffset: img.batRegion.fileOffset + 8, data: encodeBatEntry(6, img.metadataRegion.fileOffset / MiB) },
    ]);
    expect(bad.ok).toBe(false);
    expect(bad.ok ? "" : bad.reason).toMatch(/overlap/);
    // A region table byte that breaks its checksum.
    const rt = await checkStructurePatch(img, [{ fileOffset: 192 * 1024 + 40, data: new Uint8Array([0x55]) }]);
    expect(rt.ok ? "" : rt.reason).toMatch(/checksum/);
    // A block size that is not a power of two.
    const fp = img.metadataTable.entries[0];
    const bs = await checkStructurePatch(img, [
      { fileOffset: img.metadataRegion.fileOffset + fp.offset, data: new Uint8Array([0, 0, 0x30, 0]) },
    ]);
    expect(bs.ok ? "" : bs.reason).toMatch(/would not open.*block size/);
    const snapshot = mem.bytes();
    await expect(
      commitStructurePatch(w, [{ fileOffset: 192 * 1024 + 40, data: new Uint8Array([0x55]) }]),
    ).rejects.toThrow(/checksum/);
    expect(Buffer.from(mem.bytes()).equals(Buffer.from(snapshot))).toBe(true);
  });
});
