import { describe, expect, it } from "vitest";
import { encodeBatEntry, PAYLOAD_BLOCK_FULLY_PRESENT } from "../../../src/vhdx/bat";
import { MiB, TiB } from "../../../src/vhdx/bytes";
import { checkImage } from "../../../src/vhdx/check";
import { serializeVirtualDiskSize, VIRTUAL_DISK_SIZE_GUID } from "../../../src/vhdx/metadata";
import { GuardedBackend } from "../../helpers/guardedBackend";
import { HEADER_OFFSETS } from "../../../src/vhdx/header";
import { buildImage, withHeader, withPendingLog } from "../../helpers/buildImage";
import { check, codes, expectFinding } from "../../helpers/checkHelpers";

/** A BAT sector where block 5 is FULLY_PRESENT at `mb`, on top of the image's own entries. */
function batSector(img: ReturnType<typeof buildImage>, mb: number): Uint8Array {
  const s = img.bytes.slice(img.batOffset, img.batOffset + 4096);
  s.set(encodeBatEntry(PAYLOAD_BLOCK_FULLY_PRESENT, mb), 5 * 8);
  return s;
}

describe("check: the log (§2.3)", () => {
  it("LOG_NEEDS_REPLAY, and the rest is checked as replayed", async () => {
    const img = buildImage({ allocated: [0] });
    // The pending entry points block 5 into the metadata region: visible only after the replay.
    withPendingLog(img, [{ fileOffset: img.batOffset, data: batSector(img, img.metadataOffset / MiB) }]);
    const r = await check(img.bytes);
    expectFinding(r, "LOG_NEEDS_REPLAY", "error", img.logOffset);
    expectFinding(r, "REGION_OVERLAP", "error", img.metadataOffset);
    expect(r.state.logNeedsReplay).toBe(true);
  });

  it("a pending log whose replay is harmless leaves only LOG_NEEDS_REPLAY", async () => {
    const img = buildImage({ allocated: [0] });
    withPendingLog(img, [{ fileOffset: img.batOffset, data: img.bytes.slice(img.batOffset, img.batOffset + 4096) }]);
    expect(codes(await check(img.bytes))).toEqual(["LOG_NEEDS_REPLAY"]);
  });

  it("LOG_NO_VALID_SEQUENCE when LogGuid is set over an empty log", async () => {
    const img = buildImage({ logGuid: "5d1a4f5e-0b7c-4c1e-9a52-7e4b1f0c2d3a" });
    const r = await check(img.bytes);
    expectFinding(r, "LOG_NO_VALID_SEQUENCE", "warning", img.logOffset);
    expect(r.ok).toBe(true);
    expect(r.state.logGuidWithoutSequence).toBe(true);
  });

  it("LOG_FILE_TRUNCATED when the file is shorter than the head's FlushedFileOffset", async () => {
    const img = buildImage({ allocated: [0] });
    withPendingLog(img, [{ fileOffset: img.batOffset, data: batSector(img, 0) }], {
      flushedFileOffset: img.bytes.length + 8 * MiB,
      lastFileOffset: img.bytes.length + 8 * MiB,
    });
    const r = await check(img.bytes);
    expectFinding(r, "LOG_FILE_TRUNCATED", "error", img.logOffset);
    expect(codes(r)).not.toContain("LOG_NEEDS_REPLAY");
    expect(r.state.logTruncated).toBe(true);
    expectFinding(r, "CHECK_INCOMPLETE", "info", img.logOffset);
  });

  it("LOG_INVALID for a LogGuid over a log of length 0", async () => {
    const img = buildImage();
    withHeader(img.bytes, 1, { logGuid: "5d1a4f5e-0b7c-4c1e-9a52-7e4b1f0c2d3a", logLength: 0, logOffset: 0 });
    expectFinding(await check(img.bytes), "LOG_INVALID", "error", HEADER_OFFSETS[1] + 48);
  });

  it("a replay that grows the file to a huge LastFileOffset costs only what the file holds", async () => {
    const img = buildImage({ allocated: [] });
    // A 64 TiB disk of 1 MiB blocks would need 2^26 + BAT entries (512 MiB): the file has 1 MiB of BAT.
    const vds = img.metadataOffset + img.metadataEntries.find((e) => e.itemId === VIRTUAL_DISK_SIZE_GUID)!.offset;
    img.bytes.set(serializeVirtualDiskSize(64 * TiB), vds);
    withPendingLog(img, [{ fileOffset: img.batOffset, data: img.bytes.slice(img.batOffset, img.batOffset + 4096) }], {
      lastFileOffset: 2 ** 50,
    });
    const io = new GuardedBackend(img.bytes);
    const r = await checkImage(io);
    expectFinding(r, "LOG_NEEDS_REPLAY", "error");
    expectFinding(r, "BAT_TOO_SMALL", "error", img.batOffset);
    expect(io.maxRead).toBeLessThanOrEqual(MiB);
  });
});
