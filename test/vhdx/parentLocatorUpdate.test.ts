/**
 * Rewriting stale parent locator paths (§2.6.2.6.3) in memory: the item re-laid-out with every
 * other entry kept, its place in the metadata region by the §2.6.1.2 rules, the commit through the
 * log with FileWriteGuid renewed and DataWriteGuid kept, and a power cut at every write.
 */
import { describe, expect, it } from "vitest";
import { createImage } from "../../src/vhdx/create";
import { openImage, VhdxImage } from "../../src/vhdx/image";
import { MemoryBackend } from "../../src/vhdx/io";
import { MiB } from "../../src/vhdx/bytes";
import { VhdxError } from "../../src/vhdx/errors";
import { newGuid, writeGuid } from "../../src/vhdx/guid";
import { METADATA_TABLE_SIZE, MetadataTable, MetadataTableEntry, PARENT_LOCATOR_GUID } from "../../src/vhdx/metadata";
import {
  locatorValue,
  parseParentLocator,
  serializeParentLocator,
  VHDX_PARENT_LOCATOR_TYPE,
} from "../../src/vhdx/parentLocator";
import {
  describeParentPathChange,
  placeMetadataItem,
  rewriteParentPaths,
  updatedParentLocatorItem,
} from "../../src/vhdx/parentLocatorUpdate";
import { VhdxWriter } from "../../src/vhdx/write";
import { checkImage } from "../../src/vhdx/check";
import { forEachCrash, RecordingBackend } from "../write/recording";

const SIZE = 8 * MiB;
const OLD_ABS = "\\\\?\\\\old\\place\\parent.vhdx";
const NEW_ABS = "\\\\?\\\\srv\\virtual machines\\rescued\\2026\\parent.vhdx";

function table(entries: [number, number][]): MetadataTable {
  const list: MetadataTableEntry[] = entries.map(([offset, length]) => ({
    itemId: newGuid(),
    offset,
    length,
    isUser: false,
    isVirtualDisk: false,
    isRequired: true,
  }));
  return { signature: "metadata", entryCount: list.length, entries: list };
}

/** A differencing image in memory whose locator holds the given pairs after parent_linkage. */
async function child(paths: [string, string][]): Promise<{ mem: MemoryBackend; linkage: string }> {
  const mem = new MemoryBackend();
  const linkage = "{0a1b2c3d-1111-4222-8333-444455556666}";
  await createImage(mem, {
    type: "differencing",
    blockSize: MiB,
    parent: {
      dataWriteGuid: linkage.slice(1, -1),
      virtualDiskSize: SIZE,
      virtualDiskId: "0a1b2c3d-0000-4000-8000-000000000001",
      logicalSectorSize: 512,
      physicalSectorSize: 4096,
      relativePath: "parent.vhdx",
    },
  });
  // Rewrite the locator with the wanted pairs (the created one is the last item: room behind it).
  const img = await openImage(mem);
  const index = img.metadataTable.entries.findIndex((e) => e.itemId === PARENT_LOCATOR_GUID);
  const item = serializeParentLocator(VHDX_PARENT_LOCATOR_TYPE, [["parent_linkage", linkage], ...paths]);
  await mem.write(img.metadataRegion.fileOffset + img.metadataTable.entries[index].offset, item);
  await setEntryLength(mem, img, index, item.length);
  return { mem, linkage };
}

async function setEntryLength(mem: MemoryBackend, img: VhdxImage, index: number, length: number): Promise<void> {
  const at = img.metadataRegion.fileOffset + 32 + index * 32 + 20;
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, length, true);
  await mem.write(at, b);
}

/** Adds a user metadata item of `length` bytes at `offset` in the region (a table entry only). */
async function addUserItem(mem: MemoryBackend, offset: number, length: number): Promise<void> {
  const img = await openImage(mem);
  const base = img.metadataRegion.fileOffset;
  const n = img.metadataTable.entries.length;
  const e = new Uint8Array(32);
  writeGuid(e, 0, newGuid());
  const dv = new DataView(e.buffer);
  dv.setUint32(16, offset, true);
  dv.setUint32(20, length, true);
  dv.setUint32(24, 1, true); // IsUser
  await mem.write(base + 32 + n * 32, e);
  const count = new Uint8Array(2);
  new DataView(count.buffer).setUint16(0, n + 1, true);
  await mem.write(base + 10, count);
  await mem.write(base + offset, new Uint8Array(length).fill(0x5a));
}

function locatorOf(img: VhdxImage): Map<string, string> {
  return new Map(img.params.parentLocator!.entries.map((e) => [e.key, e.value]));
}

describe("parent locator item update", () => {
  it("changes only the named path values; parent_linkage, unknown keys and the order stay", () => {
    const before = serializeParentLocator(VHDX_PARENT_LOCATOR_TYPE, [
      ["parent_linkage", "{83ed0ec3-24c8-49a6-a959-5e4bf1288bfb}"],
      ["relative_path", "..\\a\\parent.vhdx"],
      ["vendor_key", "kept as it is"],
      ["absolute_win32_path", OLD_ABS],
    ]);
    const pl = parseParentLocator(before, 0);
    const after = parseParentLocator(
      updatedParentLocatorItem(pl, [{ key: "absolute_win32_path", from: OLD_ABS, to: NEW_ABS }]),
      0,
    );
    expect(after.locatorType).toBe(VHDX_PARENT_LOCATOR_TYPE);
    expect(after.entries.map((e) => [e.key, e.value])).toEqual([
      ["parent_linkage", "{83ed0ec3-24c8-49a6-a959-5e4bf1288bfb}"],
      ["relative_path", "..\\a\\parent.vhdx"],
      ["vendor_key", "kept as it is"],
      ["absolute_win32_path", NEW_ABS],
    ]);
    // §2.6.2.6.2: every key and value lies inside the item, after the header and the entry table.
    for (const e of after.entries) expect(e.keyOffset).toBeGreaterThanOrEqual(20 + 4 * 12);
  });

  it("refuses a value that cannot be stored and a key the locator does not have", () => {
    const pl = parseParentLocator(
      serializeParentLocator(VHDX_PARENT_LOCATOR_TYPE, [
        ["parent_linkage", "{83ed0ec3-24c8-49a6-a959-5e4bf1288bfb}"],
        ["relative_path", "p.vhdx"],
      ]),
      0,
    );
    const bad = (to: string, key: "relative_path" | "absolute_win32_path" = "relative_path") => {
      try {
        updatedParentLocatorItem(pl, [{ key, from: "p.vhdx", to }]);
      } catch (e) {
        return (e as VhdxError).code;
      }
      return "accepted";
    };
    expect(bad("")).toBe("INVALID_ARGUMENT");
    expect(bad("a\0b")).toBe("INVALID_ARGUMENT");
    expect(bad("x".repeat(0x8000))).toBe("INVALID_ARGUMENT");
    expect(bad("x".repeat(0x7fff))).toBe("accepted");
    expect(bad("q.vhdx", "absolute_win32_path")).toBe("INVALID_ARGUMENT");
  });

  it("describes a change as stored, backslashes not doubled", () => {
    expect(describeParentPathChange({ key: "absolute_win32_path", from: OLD_ABS, to: NEW_ABS })).toBe(
      `parent locator absolute_win32_path updated from "\\\\?\\\\old\\place\\parent.vhdx" to "${NEW_ABS}"`,
    );
  });
});

describe("metadata item placement (§2.6.1.2)", () => {
  const K64 = METADATA_TABLE_SIZE;
  it("keeps the item where it is when it still fits before the next item", () => {
    const t = table([
      [K64, 8],
      [K64 + 100, 200],
      [K64 + 400, 16],
    ]);
    expect(placeMetadataItem(t, 1, 300, MiB)).toBe(K64 + 100);
    expect(placeMetadataItem(t, 1, 100, MiB)).toBe(K64 + 100);
  });

  it("moves a grown item to the lowest free place that no other item overlaps, inside the region", () => {
    const t = table([
      [K64, 8],
      [K64 + 100, 200],
      [K64 + 400, 16],
    ]);
    // Its own old bytes are free for it: 301 bytes start right after the first item and end before +400.
    expect(placeMetadataItem(t, 1, 301, MiB)).toBe(K64 + 8);
    // 393 bytes reach past +400 from anywhere before it: behind the last item.
    expect(placeMetadataItem(t, 1, 393, MiB)).toBe(K64 + 416);
    // A gap left of the old place is used when the old place no longer fits.
    const u = table([
      [K64, 8],
      [K64 + 1000, 16],
      [K64 + 2000, 8],
      [K64 + 2008, 8],
    ]);
    expect(placeMetadataItem(u, 2, 900, MiB)).toBe(K64 + 8);
    expect(placeMetadataItem(u, 2, 8, MiB)).toBe(K64 + 2000);
    // Nothing is placed inside the 64 KiB table or past the end of the region.
    expect(placeMetadataItem(table([[K64, 8]]), 0, MiB - K64, MiB)).toBe(K64);
    expect(placeMetadataItem(table([[K64, 8]]), 0, MiB - K64 + 1, MiB)).toBe(null);
    expect(
      placeMetadataItem(
        table([
          [K64, 8],
          [K64 + 8, MiB - K64 - 8],
        ]),
        0,
        9,
        MiB,
      ),
    ).toBe(null);
  });
});

describe("rewriteParentPaths", () => {
  it("commits the new locator through the log: FileWriteGuid renewed, DataWriteGuid and the virtual disk kept", async () => {
    const { mem, linkage } = await child([
      ["relative_path", "parent.vhdx"],
      ["absolute_win32_path", OLD_ABS],
    ]);
    const beforeBytes = mem.bytes();
    const before = await openImage(new MemoryBackend(beforeBytes));
    const img = await openImage(mem, { readOnly: false });
    const w = new VhdxWriter(img);
    const change = { key: "absolute_win32_path" as const, from: OLD_ABS, to: NEW_ABS };
    await rewriteParentPaths(w, [change]);
    expect(locatorOf(img).get("absolute_win32_path")).toBe(NEW_ABS);
    expect(img.warnings.map((x) => [x.code, x.message])).toContainEqual([
      "PARENT_LOCATOR_UPDATED",
      describeParentPathChange(change),
    ]);
    await w.finish();
    const after = await openImage(new MemoryBackend(mem.bytes()));
    const pl = locatorOf(after);
    expect(pl.get("absolute_win32_path")).toBe(NEW_ABS);
    expect(pl.get("relative_path")).toBe("parent.vhdx");
    expect(pl.get("parent_linkage")).toBe(linkage);
    expect(after.header.dataWriteGuid).toBe(before.header.dataWriteGuid);
    expect(after.header.fileWriteGuid).not.toBe(before.header.fileWriteGuid);
    expect(after.header.logGuid).toBe("00000000-0000-0000-0000-000000000000");
    expect(after.params.virtualDiskId).toBe(before.params.virtualDiskId);
    // Nothing outside the headers, the log and the metadata region changed.
    const bytes = mem.bytes();
    const md = after.metadataRegion;
    const { logOffset, logLength } = after.header;
    expect(bytes.length).toBe(beforeBytes.length);
    for (const [s, t] of [
      [0, 64 * 1024],
      [3 * 64 * 1024, logOffset],
      [logOffset + logLength, md.fileOffset],
      [md.fileOffset + md.length, bytes.length],
    ])
      expect(Buffer.from(bytes.subarray(s, t)).equals(Buffer.from(beforeBytes.subarray(s, t)))).toBe(true);
    // The grown item stayed in place (it is the last one); the checker finds nothing wrong.
    const index = after.metadataTable.entries.findIndex((e) => e.itemId === PARENT_LOCATOR_GUID);
    expect(after.metadataTable.entries[index].offset).toBe(before.metadataTable.entries[index].offset);
    expect(after.metadataTable.entries[index].length).toBeGreaterThan(before.metadataTable.entries[index].length);
    const report = await checkImage(new MemoryBackend(mem.bytes(), { readOnly: true }));
    expect(report.findings.filter((f) => f.severity !== "info")).toEqual([]);
  });

  it("moves a grown locator past an item right behind it, and refuses when the region has no room", async () => {
    const { mem } = await child([["absolute_win32_path", OLD_ABS]]);
    const img0 = await openImage(mem);
    const e0 = img0.metadataTable.entries.find((e) => e.itemId === PARENT_LOCATOR_GUID)!;
    await addUserItem(mem, e0.offset + e0.length, 64);
    const img = await openImage(mem, { readOnly: false });
    const w = new VhdxWriter(img);
    await rewriteParentPaths(w, [{ key: "absolute_win32_path", from: OLD_ABS, to: NEW_ABS }]);
    await w.finish();
    const after = await openImage(new MemoryBackend(mem.bytes()));
    const moved = after.metadataTable.entries.find((e) => e.itemId === PARENT_LOCATOR_GUID)!;
    expect(moved.offset).toBe(e0.offset + e0.length + 64);
    expect(locatorValue(after.params.parentLocator!, "absolute_win32_path")).toBe(NEW_ABS);
    const user = after.metadataTable.entries.find((e) => e.isUser)!;
    expect(await mem.read(after.metadataRegion.fileOffset + user.offset, 64)).toEqual(new Uint8Array(64).fill(0x5a));

    // A user item filling the rest of the region: the grown locator fits nowhere.
    const { mem: full } = await child([["absolute_win32_path", OLD_ABS]]);
    const f0 = (await openImage(full)).metadataTable.entries.find((e) => e.itemId === PARENT_LOCATOR_GUID)!;
    const rest = MiB - (f0.offset + f0.length);
    await addUserItem(full, f0.offset + f0.length, rest);
    const untouched = full.bytes();
    const fw = new VhdxWriter(await openImage(full, { readOnly: false }));
    await expect(
      rewriteParentPaths(fw, [{ key: "absolute_win32_path", from: OLD_ABS, to: NEW_ABS }]),
    ).rejects.toMatchObject({ code: "METADATA_REGION_FULL", structure: "metadata region" });
    expect(Buffer.from(full.bytes()).equals(Buffer.from(untouched))).toBe(true);
  });

  it("a power cut at any write leaves the old or the new locator, the same virtual disk, an image that opens", async () => {
    const { mem } = await child([
      ["relative_path", "parent.vhdx"],
      ["absolute_win32_path", OLD_ABS],
    ]);
    const initial = mem.bytes();
    const rec = new RecordingBackend(initial);
    const w = new VhdxWriter(await openImage(rec, { readOnly: false }));
    const dataWriteGuid = w.image.header.dataWriteGuid;
    await rewriteParentPaths(w, [{ key: "absolute_win32_path", from: OLD_ABS, to: NEW_ABS }]);
    await w.finish();
    const seen = { old: 0, new: 0 };
    const tried = await forEachCrash(initial, rec.ops, 0, rec.ops.length, async (c) => {
      const img = await openImage(new MemoryBackend(c.bytes), { readOnly: false });
      const abs = locatorValue(img.params.parentLocator!, "absolute_win32_path");
      expect([OLD_ABS, NEW_ABS]).toContain(abs);
      expect(locatorValue(img.params.parentLocator!, "relative_path")).toBe("parent.vhdx");
      expect(img.header.dataWriteGuid).toBe(dataWriteGuid);
      seen[abs === NEW_ABS ? "new" : "old"]++;
    });
    expect(tried).toBeGreaterThan(20);
    expect(seen.old).toBeGreaterThan(0);
    expect(seen.new).toBeGreaterThan(0);
    console.log(`crash points tried (parent locator rewrite): ${tried} (${seen.old} old, ${seen.new} new)`);
  });
});
