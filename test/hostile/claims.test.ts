/**
 * Hostile claims: structures that claim far more than the file holds. Each must be rejected or
 * clamped before anything is allocated or looped over: the largest single read stays within
 * the file's own size, and every failure is a VhdxError naming the structure and offset.
 */
import { describe, expect, it, vi } from "vitest";
import { encodeBatEntry, PAYLOAD_BLOCK_FULLY_PRESENT } from "../../src/vhdx/bat";
import { MiB, TiB, view } from "../../src/vhdx/bytes";
import { checkImage } from "../../src/vhdx/check";
import { crc32cWithZeroField } from "../../src/vhdx/crc32c";
import { VhdxError } from "../../src/vhdx/errors";
import { openImage } from "../../src/vhdx/image";
import { PARENT_LOCATOR_GUID, serializeVirtualDiskSize, VIRTUAL_DISK_SIZE_GUID } from "../../src/vhdx/metadata";
import { BAT_REGION_GUID, METADATA_REGION_GUID, REGION_TABLE_OFFSETS } from "../../src/vhdx/regionTable";
import { BuiltImage, buildImage, withHeader, withPendingLog, withRegionTable } from "../helpers/buildImage";
import { GuardedBackend } from "../helpers/guardedBackend";
import { exercise } from "./properties";
import { OverlayBackend } from "../../src/vhdx/log";

const realOverlayRead = OverlayBackend.prototype.read;

const itemAt = (img: BuiltImage, guid: string) =>
  img.metadataOffset + img.metadataEntries.find((e) => e.itemId === guid)!.offset;

/** Opens, reads, checks; returns the open error (or null) after asserting the bounds. */
async function attempt(bytes: Uint8Array): Promise<VhdxError | null> {
  await exercise(bytes);
  const io = new GuardedBackend(bytes);
  // An in-memory replay must not turn a claimed file size into an allocation either.
  let overlayMax = 0;
  const spy = vi.spyOn(OverlayBackend.prototype, "read").mockImplementation(async function (
    this: OverlayBackend,
    offset: number,
    length: number,
  ) {
    overlayMax = Math.max(overlayMax, length);
    return realOverlayRead.call(this, offset, length);
  });
  let err: VhdxError | null = null;
  try {
    const img = await openImage(io);
    img.info();
    img.map();
    await img.read(0, 4096);
  } catch (e) {
    expect(e).toBeInstanceOf(VhdxError);
    err = e as VhdxError;
    expect(err.structure.length).toBeGreaterThan(0);
  }
  await checkImage(io);
  spy.mockRestore();
  expect(io.maxRead).toBeLessThanOrEqual(Math.max(bytes.length, MiB));
  expect(overlayMax).toBeLessThanOrEqual(Math.max(bytes.length, MiB));
  return err;
}

function regions(
  img: BuiltImage,
  bat: Partial<{ length: number; fileOffset: number }> = {},
  md: Partial<{ length: number }> = {},
) {
  return [
    { guid: BAT_REGION_GUID, fileOffset: img.batOffset, length: img.batLength, required: 1, ...bat },
    { guid: METADATA_REGION_GUID, fileOffset: img.metadataOffset, length: img.metadataLength, required: 1, ...md },
  ];
}

describe("hostile claims are bounded by the file", () => {
  it("a 64 TiB disk (2^26 BAT entries) whose BAT region claims 4 GiB in a 5 MiB file", async () => {
    const img = buildImage();
    img.bytes.set(serializeVirtualDiskSize(64 * TiB), itemAt(img, VIRTUAL_DISK_SIZE_GUID));
    const rs = regions(img, { length: 0xfff0_0000 });
    withRegionTable(img.bytes, 0, rs);
    withRegionTable(img.bytes, 1, rs);
    await attempt(img.bytes);
    // The entries the file does not hold are counted as NOT_PRESENT without being visited.
    const info = (await openImage(new GuardedBackend(img.bytes))).info();
    const total = 64 * 1024 * 1024 + Math.floor((64 * 1024 * 1024 - 1) / 4096);
    expect(info.bat.entries).toBe(total);
    expect(info.bat.sectorBitmap).toEqual({ NOT_PRESENT: Math.floor((64 * 1024 * 1024 - 1) / 4096) });
    expect(info.bat.payload).toEqual({ NOT_PRESENT: 64 * 1024 * 1024 });
  });

  it("the same claim behind a pending log that grows the file to 2^50 bytes", async () => {
    const img = buildImage();
    img.bytes.set(serializeVirtualDiskSize(64 * TiB), itemAt(img, VIRTUAL_DISK_SIZE_GUID));
    const rs = regions(img, { length: 0xfff0_0000 });
    withRegionTable(img.bytes, 0, rs);
    withRegionTable(img.bytes, 1, rs);
    withPendingLog(img, [{ fileOffset: img.batOffset, data: img.bytes.slice(img.batOffset, img.batOffset + 4096) }], {
      lastFileOffset: 2 ** 50,
    });
    await attempt(img.bytes);
  });

  it("a metadata region of 4 GiB", async () => {
    const img = buildImage();
    const rs = regions(img, {}, { length: 0xfff0_0000 });
    withRegionTable(img.bytes, 0, rs);
    withRegionTable(img.bytes, 1, rs);
    const e = await attempt(img.bytes);
    expect(e?.code ?? "opened").toMatch(/REGION_OVERLAP|opened/);
  });

  it("FileOffsetMB of 2^44 - 1 and of 2^33 on present blocks", async () => {
    const img = buildImage({ allocated: [0] });
    img.bytes.set(encodeBatEntry(PAYLOAD_BLOCK_FULLY_PRESENT, 2 ** 44 - 1), img.batOffset);
    img.bytes.set(encodeBatEntry(PAYLOAD_BLOCK_FULLY_PRESENT, 2 ** 33), img.batOffset + 8);
    const io = new GuardedBackend(img.bytes);
    const opened = await openImage(io);
    await expect(opened.read(0, 512)).rejects.toMatchObject({
      code: "BAT_ENTRY_BEYOND_EOF",
      structure: "BAT",
      offset: img.batOffset,
    });
    await attempt(img.bytes);
  });

  it("a log of 2^32 - 1 MiB bytes with LogGuid set", async () => {
    const img = buildImage();
    withHeader(img.bytes, 0, { logLength: 0xfff0_0000, logGuid: "5d1a4f5e-0b7c-4c1e-9a52-7e4b1f0c2d3a" });
    withHeader(img.bytes, 1, { logLength: 0xfff0_0000, logGuid: "5d1a4f5e-0b7c-4c1e-9a52-7e4b1f0c2d3a" });
    await attempt(img.bytes);
  });

  it("entry counts of a billion (region table), 65535 (metadata table and parent locator)", async () => {
    const img = buildImage({ type: "differencing" });
    const b = img.bytes;
    const rt = REGION_TABLE_OFFSETS[0];
    view(b).setUint32(rt + 8, 1_000_000_000, true);
    view(b).setUint32(rt + 4, crc32cWithZeroField(b.subarray(rt, rt + 65536), 4), true);
    view(b).setUint16(img.metadataOffset + 10, 0xffff, true);
    view(b).setUint16(itemAt(img, PARENT_LOCATOR_GUID) + 18, 0xffff, true);
    const e = await attempt(b);
    expect(e?.code).toBe("METADATA_INVALID");
  });

  it("a sector bitmap claimed present far past the end of the file", async () => {
    const img = buildImage({ type: "differencing", partial: [0] });
    img.bytes.set(encodeBatEntry(6, 2 ** 40), img.batOffset + 4096 * 8);
    await attempt(img.bytes);
  });
});
