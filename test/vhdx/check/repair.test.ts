import { describe, expect, it } from "vitest";
import { encodeBatEntry, PAYLOAD_BLOCK_FULLY_PRESENT } from "../../../src/vhdx/bat";
import { MiB } from "../../../src/vhdx/bytes";
import { checkImage } from "../../../src/vhdx/check";
import { repairImage } from "../../../src/vhdx/check/repair";
import { HEADER_OFFSETS } from "../../../src/vhdx/header";
import { MemoryBackend } from "../../../src/vhdx/io";
import { REGION_TABLE_OFFSETS } from "../../../src/vhdx/regionTable";
import { buildImage, withHeader, withPendingLog } from "../../helpers/buildImage";

async function repairAndRecheck(bytes: Uint8Array) {
  const io = new MemoryBackend(bytes);
  const before = await checkImage(io);
  const result = await repairImage(io, before);
  const after = await checkImage(io);
  return { io, before, result, after };
}

const nonInfo = (r: Awaited<ReturnType<typeof checkImage>>) =>
  r.findings.filter((f) => f.severity !== "info").map((f) => f.code);

describe("repairs", () => {
  it("rewrites a damaged header from the current one (both slots, sequence + 1)", async () => {
    const img = buildImage({ allocated: [1] });
    img.bytes[HEADER_OFFSETS[0] + 500] ^= 1;
    const { result, after, io } = await repairAndRecheck(img.bytes);
    expect(result.actions.map((a) => a.code)).toEqual(["HEADER_REWRITTEN"]);
    expect(result.actions[0].writes.map((w) => w.offset)).toEqual([...HEADER_OFFSETS]);
    expect(nonInfo(after)).toEqual([]);
    expect(after.state.headerValid).toEqual([true, true]);
    // Nothing but the two header slots changed.
    const b = io.bytes();
    const diff: number[] = [];
    for (let i = 0; i < b.length; i += 4096)
      if (!b.subarray(i, i + 4096).every((x, k) => x === img.bytes[i + k])) diff.push(i);
    expect(diff).toEqual([...HEADER_OFFSETS]);
  });

  it("rewrites a damaged region table copy through the log, leaving the log empty", async () => {
    const img = buildImage({ allocated: [1] });
    img.bytes[REGION_TABLE_OFFSETS[1] + 1000] ^= 0x20;
    const { result, after, io } = await repairAndRecheck(img.bytes);
    expect(result.actions.map((a) => a.code)).toEqual(["REGION_TABLE_REWRITTEN"]);
    expect(nonInfo(after)).toEqual([]);
    const b = io.bytes();
    expect(
      Buffer.from(b.subarray(REGION_TABLE_OFFSETS[1], REGION_TABLE_OFFSETS[1] + 65536)).equals(
        img.bytes.subarray(REGION_TABLE_OFFSETS[0], REGION_TABLE_OFFSETS[0] + 65536),
      ),
    ).toBe(true);
    expect(after.state.logNeedsReplay).toBe(false);
    expect(io.flushes).toBeGreaterThan(0);
  });

  it("replays a pending log in place", async () => {
    const img = buildImage({ allocated: [1] });
    const sector = img.bytes.slice(img.batOffset, img.batOffset + 4096);
    sector.set(encodeBatEntry(2, 0), 5 * 8); // block 5 becomes ZERO
    withPendingLog(img, [{ fileOffset: img.batOffset, data: sector }]);
    const { before, result, after, io } = await repairAndRecheck(img.bytes);
    expect(nonInfo(before)).toEqual(["LOG_NEEDS_REPLAY"]);
    expect(result.actions.map((a) => a.code)).toEqual(["LOG_REPLAYED"]);
    expect(result.actions[0].writes).toContainEqual(expect.objectContaining({ offset: img.batOffset, length: 4096 }));
    expect(nonInfo(after)).toEqual([]);
    expect(io.bytes().subarray(img.batOffset + 40, img.batOffset + 48)).toEqual(encodeBatEntry(2, 0));
  });

  it("marks a LogGuid without a valid sequence empty", async () => {
    const img = buildImage({ logGuid: "5d1a4f5e-0b7c-4c1e-9a52-7e4b1f0c2d3a" });
    const { before, result, after } = await repairAndRecheck(img.bytes);
    expect(nonInfo(before)).toEqual(["LOG_NO_VALID_SEQUENCE"]);
    expect(result.actions.map((a) => a.code)).toEqual(["LOG_REPLAYED"]);
    expect(nonInfo(after)).toEqual([]);
  });

  it("leaves a truncated file's log, overlaps and bad states alone", async () => {
    const img = buildImage({ allocated: [1, 2] });
    img.bytes.set(encodeBatEntry(PAYLOAD_BLOCK_FULLY_PRESENT, img.blockOffsets.get(1)! / MiB), img.batOffset + 16);
    withPendingLog(img, [{ fileOffset: img.batOffset, data: img.bytes.slice(img.batOffset, img.batOffset + 4096) }], {
      flushedFileOffset: img.bytes.length + 4 * MiB,
    });
    const io = new MemoryBackend(img.bytes);
    const result = await repairImage(io, await checkImage(io));
    expect(result.actions).toEqual([]);
    expect(result.skipped.join("\n")).toMatch(/LOG_FILE_TRUNCATED/);
    expect(Buffer.from(io.bytes()).equals(img.bytes)).toBe(true);
  });

  it("does not rewrite a region table through a log that lies past the end of the file", async () => {
    const img = buildImage();
    withHeader(img.bytes, 0, { logOffset: 64 * MiB });
    withHeader(img.bytes, 1, { logOffset: 64 * MiB });
    img.bytes[REGION_TABLE_OFFSETS[1] + 1000] ^= 0x20;
    const io = new MemoryBackend(img.bytes);
    const result = await repairImage(io, await checkImage(io));
    expect(result.actions).toEqual([]);
    expect(result.skipped.join("\n")).toMatch(/LOG_BEYOND_EOF/);
    expect(Buffer.from(io.bytes()).equals(img.bytes)).toBe(true);
  });

  it("refuses a read-only file", async () => {
    const io = new MemoryBackend(buildImage().bytes, { readOnly: true });
    await expect(repairImage(io, await checkImage(io))).rejects.toMatchObject({ code: "READ_ONLY" });
  });
});
