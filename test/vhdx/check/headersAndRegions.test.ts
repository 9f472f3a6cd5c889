import { describe, expect, it } from "vitest";
import { MiB, view } from "../../../src/vhdx/bytes";
import { crc32cWithZeroField } from "../../../src/vhdx/crc32c";
import { HEADER_OFFSETS } from "../../../src/vhdx/header";
import { BAT_REGION_GUID, METADATA_REGION_GUID, REGION_TABLE_OFFSETS } from "../../../src/vhdx/regionTable";
import { buildImage, withHeader, withRegionTable } from "../../helpers/buildImage";
import { check, codes, expectFinding } from "../../helpers/checkHelpers";

const [H1, H2] = HEADER_OFFSETS;
const [RT1, RT2] = REGION_TABLE_OFFSETS;

function regions(img = buildImage()) {
  return [
    { guid: BAT_REGION_GUID, fileOffset: img.batOffset, length: img.batLength, required: 1 },
    { guid: METADATA_REGION_GUID, fileOffset: img.metadataOffset, length: img.metadataLength, required: 1 },
  ];
}

describe("check: clean images", () => {
  for (const type of ["fixed", "dynamic", "differencing"] as const) {
    it(`a ${type} image built to the spec has no findings`, async () => {
      const r = await check(buildImage({ type, allocated: [0, 3], partial: type === "differencing" ? [5] : [] }).bytes);
      expect(r.findings).toEqual([]);
      expect(r.ok).toBe(true);
      expect(r.state).toMatchObject({
        headerValid: [true, true],
        currentHeader: 1,
        regionTableValid: [true, true],
        logNeedsReplay: false,
      });
    });
  }
});

describe("check: file type identifier and headers (§2.2.1, §2.2.2)", () => {
  it("NOT_VHDX stops the check", async () => {
    const b = buildImage().bytes;
    b[3] = 0;
    const r = await check(b);
    expect(codes(r)).toEqual(["NOT_VHDX"]);
    expect(r.ok).toBe(false);
    expectFinding(r, "NOT_VHDX", "error", 0);
    expect((await check(new Uint8Array(0))).findings[0].code).toBe("NOT_VHDX");
  });

  it("FILE_TRUNCATED for a file shorter than its header section", async () => {
    const r = await check(buildImage().bytes.slice(0, 300 * 1024));
    expectFinding(r, "FILE_TRUNCATED", "error", 0);
    expect(r.ok).toBe(false);
  });

  it("a damaged non-current header is a warning; the file stays ok", async () => {
    const b = buildImage().bytes;
    b[H1 + 200] ^= 1;
    const r = await check(b);
    expect(r.ok).toBe(true);
    expectFinding(r, "HEADER_CHECKSUM", "warning", H1 + 4);
    expect(r.state.headerValid).toEqual([false, true]);
  });

  it("a damaged current header hands over to the other one", async () => {
    const b = buildImage().bytes;
    b[H2] = 0x48;
    const r = await check(b);
    expectFinding(r, "HEADER_SIGNATURE", "warning", H2);
    expect(r.state.currentHeader).toBe(0);
    expect(r.ok).toBe(true);
  });

  it("NO_VALID_HEADER when both are damaged", async () => {
    const b = buildImage().bytes;
    b[H1 + 4] ^= 1;
    b[H2] = 0;
    const r = await check(b);
    expectFinding(r, "NO_VALID_HEADER", "error", H1);
    expectFinding(r, "HEADER_CHECKSUM", "error", H1 + 4);
    expectFinding(r, "HEADER_SIGNATURE", "error", H2);
    expect(r.state.currentHeader).toBe(-1);
  });

  it("UNSUPPORTED_VERSION", async () => {
    const b = buildImage().bytes;
    withHeader(b, 1, { version: 2 });
    expectFinding(await check(b), "UNSUPPORTED_VERSION", "warning", H2 + 66);
    withHeader(b, 0, { version: 0 });
    const r = await check(b);
    expectFinding(r, "UNSUPPORTED_VERSION", "error", H1 + 66);
    expectFinding(r, "NO_VALID_HEADER", "error");
  });

  it("LOG_VERSION non-zero with an empty log is a warning", async () => {
    const b = buildImage().bytes;
    withHeader(b, 1, { logVersion: 1 });
    const r = await check(b);
    expectFinding(r, "LOG_VERSION", "warning", H2 + 64);
    expect(r.ok).toBe(true);
  });

  it("HEADER_INVALID for a log not aligned to 1 MiB or inside the header section", async () => {
    const b = buildImage().bytes;
    withHeader(b, 0, { logOffset: MiB + 4096 });
    expectFinding(await check(b), "HEADER_INVALID", "warning", H1 + 68);
    withHeader(b, 0, { logOffset: 0 });
    expectFinding(await check(b), "HEADER_INVALID", "warning", H1 + 72);
  });

  it("HEADER_SEQUENCE when both headers share a sequence number but differ", async () => {
    const b = buildImage().bytes;
    withHeader(b, 0, { sequenceNumber: 11n, dataWriteGuid: "01234567-89ab-4cde-8f01-23456789abcd" });
    expectFinding(await check(b), "HEADER_SEQUENCE", "warning", H2 + 8);
  });

  it("HEADER_RESERVED", async () => {
    const b = buildImage().bytes;
    b[H2 + 1000] = 1;
    view(b).setUint32(H2 + 4, crc32cWithZeroField(b.subarray(H2, H2 + 4096), 4), true);
    const r = await check(b);
    expectFinding(r, "HEADER_RESERVED", "warning", H2 + 80);
    expect(r.ok).toBe(true);
  });
});

describe("check: region tables (§2.2.3)", () => {
  it("REGION_TABLE_CHECKSUM on one copy is an error; the other copy is used", async () => {
    const b = buildImage().bytes;
    b[RT2 + 100] ^= 4;
    const r = await check(b);
    expectFinding(r, "REGION_TABLE_CHECKSUM", "error", RT2 + 4);
    expect(r.ok).toBe(false);
    expect(r.state.regionTableValid).toEqual([true, false]);
    expect(codes(r)).toEqual(["REGION_TABLE_CHECKSUM"]);
  });

  it("REGION_TABLE_SIGNATURE", async () => {
    const b = buildImage().bytes;
    b[RT1] = 0;
    const r = await check(b);
    expectFinding(r, "REGION_TABLE_SIGNATURE", "error", RT1);
    expect(r.state.regionTableValid).toEqual([false, true]);
  });

  it("REGION_TABLE_INVALID: entry count, duplicate GUIDs, alignment", async () => {
    const img = buildImage();
    const b = img.bytes;
    view(b).setUint32(RT1 + 8, 5000, true);
    view(b).setUint32(RT1 + 4, crc32cWithZeroField(b.subarray(RT1, RT1 + 65536), 4), true);
    expectFinding(await check(b), "REGION_TABLE_INVALID", "error", RT1 + 8);
    const rs = regions(img);
    withRegionTable(b, 0, [rs[0], rs[1], { ...rs[0], fileOffset: 9 * MiB }]);
    expectFinding(await check(b), "REGION_TABLE_INVALID", "error", RT1 + 16 + 64);
    withRegionTable(b, 0, [rs[0], { ...rs[1], length: MiB + 512 }]);
    expectFinding(await check(b), "REGION_TABLE_INVALID", "error", RT1 + 16 + 32 + 24);
    withRegionTable(b, 0, [{ ...rs[0], fileOffset: 4096 }, rs[1]]);
    expectFinding(await check(b), "REGION_TABLE_INVALID", "error", RT1 + 16 + 16);
  });

  it("REGION_TABLE_MISMATCH when both copies are valid but differ", async () => {
    const img = buildImage();
    const rs = regions(img);
    withRegionTable(img.bytes, 1, [rs[1], rs[0]]);
    expectFinding(await check(img.bytes), "REGION_TABLE_MISMATCH", "error", RT2);
  });

  it("NO_VALID_REGION_TABLE", async () => {
    const b = buildImage().bytes;
    b[RT1 + 5] ^= 1;
    b[RT2 + 5] ^= 1;
    const r = await check(b);
    expectFinding(r, "NO_VALID_REGION_TABLE", "error", RT1);
    expectFinding(r, "CHECK_INCOMPLETE", "info", RT1);
    expect(r.state.regionTableValid).toEqual([false, false]);
  });

  it("REQUIRED_REGION_UNKNOWN, REGION_UNKNOWN and QEMU's Required = 0", async () => {
    const img = buildImage({ regionRequired: 0 });
    const r0 = await check(img.bytes);
    expect(r0.ok).toBe(true);
    expectFinding(r0, "REGION_NOT_REQUIRED", "info", RT1 + 16 + 28);
    const rs = regions(img);
    const extra = { guid: "01234567-89ab-4cde-8f01-23456789abcd", fileOffset: 12 * MiB, length: MiB, required: 0 };
    withRegionTable(img.bytes, 0, [...rs, extra]);
    withRegionTable(img.bytes, 1, [...rs, extra]);
    expectFinding(await check(img.bytes), "REGION_UNKNOWN", "info", RT1 + 16 + 64);
    withRegionTable(img.bytes, 0, [...rs, { ...extra, required: 1 }]);
    withRegionTable(img.bytes, 1, [...rs, { ...extra, required: 1 }]);
    const r = await check(img.bytes);
    expectFinding(r, "REQUIRED_REGION_UNKNOWN", "error", RT1 + 16 + 64);
    expectFinding(r, "REGION_BEYOND_EOF", "warning", 12 * MiB);
  });

  it("REGION_MISSING", async () => {
    const img = buildImage();
    withRegionTable(img.bytes, 0, [regions(img)[0]]);
    withRegionTable(img.bytes, 1, [regions(img)[0]]);
    const r = await check(img.bytes);
    expectFinding(r, "REGION_MISSING", "error", RT1);
  });

  it("REGION_OVERLAP between the metadata region and the log", async () => {
    const img = buildImage();
    const rs = regions(img);
    const moved = [rs[0], { ...rs[1], fileOffset: img.logOffset }];
    img.bytes.copyWithin(img.logOffset, img.metadataOffset, img.metadataOffset + MiB);
    withRegionTable(img.bytes, 0, moved);
    withRegionTable(img.bytes, 1, moved);
    const f = expectFinding(await check(img.bytes), "REGION_OVERLAP", "error", img.logOffset);
    expect(f.message).toMatch(/log/);
    expect(f.message).toMatch(/metadata region/);
  });
});
