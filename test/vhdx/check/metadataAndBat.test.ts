import { describe, expect, it } from "vitest";
import {
  encodeBatEntry,
  PAYLOAD_BLOCK_FULLY_PRESENT,
  PAYLOAD_BLOCK_PARTIALLY_PRESENT,
  SB_BLOCK_PRESENT,
} from "../../../src/vhdx/bat";
import { GiB, MiB, view } from "../../../src/vhdx/bytes";
import {
  FILE_PARAMETERS_GUID,
  LOGICAL_SECTOR_SIZE_GUID,
  PARENT_LOCATOR_GUID,
  serializeVirtualDiskSize,
  VIRTUAL_DISK_ID_GUID,
  VIRTUAL_DISK_SIZE_GUID,
} from "../../../src/vhdx/metadata";
import { serializeParentLocator } from "../../../src/vhdx/parentLocator";
import { BuiltImage, buildImage, withHeader, withMetadataTable } from "../../helpers/buildImage";
import { check, codes, expectFinding } from "../../helpers/checkHelpers";

const tableEntryAt = (img: BuiltImage, i: number) => img.metadataOffset + 32 + i * 32;
const itemAt = (img: BuiltImage, guid: string) =>
  img.metadataOffset + img.metadataEntries.find((e) => e.itemId === guid)!.offset;
const setBat = (img: BuiltImage, index: number, state: number, mb: number) =>
  img.bytes.set(encodeBatEntry(state, mb), img.batOffset + index * 8);

describe("check: metadata (§2.6)", () => {
  it("METADATA_MISSING for each required item", async () => {
    for (const guid of [FILE_PARAMETERS_GUID, VIRTUAL_DISK_SIZE_GUID, VIRTUAL_DISK_ID_GUID, LOGICAL_SECTOR_SIZE_GUID]) {
      const img = buildImage();
      withMetadataTable(
        img,
        img.metadataEntries.filter((e) => e.itemId !== guid),
      );
      const r = await check(img.bytes);
      const f = expectFinding(r, "METADATA_MISSING", "error", img.metadataOffset);
      expect(f.message).toContain(guid);
      expectFinding(r, "CHECK_INCOMPLETE", "info");
    }
  });

  it("METADATA_MISSING for the parent locator of a differencing disk", async () => {
    const img = buildImage({ type: "differencing" });
    withMetadataTable(
      img,
      img.metadataEntries.filter((e) => e.itemId !== PARENT_LOCATOR_GUID),
    );
    expectFinding(await check(img.bytes), "METADATA_MISSING", "error", img.metadataOffset);
  });

  it("METADATA_INVALID: block size, sector size, virtual size", async () => {
    let img = buildImage();
    view(img.bytes).setUint32(itemAt(img, FILE_PARAMETERS_GUID), 3 * MiB, true);
    expectFinding(await check(img.bytes), "METADATA_INVALID", "error", itemAt(img, FILE_PARAMETERS_GUID));
    img = buildImage();
    view(img.bytes).setUint32(itemAt(img, LOGICAL_SECTOR_SIZE_GUID), 1000, true);
    expectFinding(await check(img.bytes), "METADATA_INVALID", "error", itemAt(img, LOGICAL_SECTOR_SIZE_GUID));
    img = buildImage();
    img.bytes.set(serializeVirtualDiskSize(0), itemAt(img, VIRTUAL_DISK_SIZE_GUID));
    expectFinding(await check(img.bytes), "METADATA_INVALID", "error", itemAt(img, VIRTUAL_DISK_SIZE_GUID));
    img = buildImage();
    img.bytes.set(serializeVirtualDiskSize(8 * MiB + 100), itemAt(img, VIRTUAL_DISK_SIZE_GUID));
    expectFinding(await check(img.bytes), "METADATA_INVALID", "error", itemAt(img, VIRTUAL_DISK_SIZE_GUID));
  });

  it("METADATA_INVALID: table signature, entry fields, duplicates", async () => {
    let img = buildImage();
    img.bytes[img.metadataOffset] = 0;
    expectFinding(await check(img.bytes), "METADATA_INVALID", "error", img.metadataOffset);
    img = buildImage();
    withMetadataTable(img, [...img.metadataEntries, { ...img.metadataEntries[0], offset: 200 * 1024 }]);
    expectFinding(await check(img.bytes), "METADATA_INVALID", "error", tableEntryAt(img, 5));
    img = buildImage();
    withMetadataTable(
      img,
      img.metadataEntries.map((e, i) => (i === 2 ? { ...e, offset: 2 * MiB } : e)),
    );
    expectFinding(await check(img.bytes), "METADATA_INVALID", "error", tableEntryAt(img, 2) + 16);
    img = buildImage();
    withMetadataTable(
      img,
      img.metadataEntries.map((e, i) => (i === 2 ? { ...e, length: 2 * MiB } : e)),
    );
    expectFinding(await check(img.bytes), "METADATA_INVALID", "error", tableEntryAt(img, 2) + 20);
  });

  it("METADATA_OVERLAP", async () => {
    const img = buildImage();
    withMetadataTable(
      img,
      img.metadataEntries.map((e, i) => (i === 1 ? { ...e, offset: e.offset - 4 } : e)),
    );
    const r = await check(img.bytes);
    expectFinding(r, "METADATA_OVERLAP", "error", img.metadataOffset + img.metadataEntries[1].offset - 4);
  });

  it("METADATA_REQUIRED_UNKNOWN, METADATA_UNKNOWN, METADATA_FLAGS, METADATA_RESERVED", async () => {
    const img = buildImage();
    const unknown = {
      itemId: "01234567-89ab-4cde-8f01-23456789abcd",
      offset: 0,
      length: 0,
      isUser: true,
      isVirtualDisk: false,
      isRequired: false,
    };
    withMetadataTable(img, [...img.metadataEntries, unknown]);
    const r0 = await check(img.bytes);
    expect(r0.ok).toBe(true);
    expectFinding(r0, "METADATA_UNKNOWN", "info", tableEntryAt(img, 5));
    withMetadataTable(img, [
      ...img.metadataEntries.map((e, i) => (i === 0 ? { ...e, isVirtualDisk: true } : e)),
      { ...unknown, isRequired: true },
    ]);
    const r = await check(img.bytes);
    expectFinding(r, "METADATA_REQUIRED_UNKNOWN", "error", tableEntryAt(img, 5));
    expectFinding(r, "METADATA_FLAGS", "warning", tableEntryAt(img, 0) + 24);
    img.bytes[tableEntryAt(img, 1) + 27] = 0x80;
    expectFinding(await check(img.bytes), "METADATA_RESERVED", "warning", tableEntryAt(img, 1) + 24);
  });

  it("PARENT_LOCATOR_INVALID: malformed, no parent_linkage, no path, wrong path forms, wrong type", async () => {
    const cases: [string, [string, string][], string?][] = [
      ["no linkage", [["relative_path", "p.vhdx"]]],
      [
        "linkage without braces",
        [
          ["parent_linkage", "0f1e2d3c-4b5a-4968-8776-655443322110"],
          ["relative_path", "p.vhdx"],
        ],
      ],
      ["no path", [["parent_linkage", "{0f1e2d3c-4b5a-4968-8776-655443322110}"]]],
      [
        "bad absolute path",
        [
          ["parent_linkage", "{0f1e2d3c-4b5a-4968-8776-655443322110}"],
          ["absolute_win32_path", "c:\\p.vhdx"],
        ],
      ],
      [
        "bad volume path",
        [
          ["parent_linkage", "{0f1e2d3c-4b5a-4968-8776-655443322110}"],
          ["volume_path", "\\\\?\\c:\\p.vhdx"],
        ],
      ],
      [
        "NUL inside",
        [
          ["parent_linkage", "{0f1e2d3c-4b5a-4968-8776-655443322110}"],
          ["relative_path", "p\u0000.vhdx"],
        ],
      ],
    ];
    for (const [what, pairs] of cases) {
      const img = buildImage({ type: "differencing", parentLocator: pairs });
      const r = await check(img.bytes);
      expect(codes(r), what).toContain("PARENT_LOCATOR_INVALID");
      expectFinding(r, "PARENT_LOCATOR_INVALID", "error");
    }
    const img = buildImage({ type: "differencing" });
    img.bytes.set(
      serializeParentLocator("01234567-89ab-4cde-8f01-23456789abcd", [
        ["parent_linkage", "{0f1e2d3c-4b5a-4968-8776-655443322110}"],
      ]),
      itemAt(img, PARENT_LOCATOR_GUID),
    );
    expectFinding(await check(img.bytes), "PARENT_LOCATOR_INVALID", "error", itemAt(img, PARENT_LOCATOR_GUID));
    const bad = buildImage({ type: "differencing" });
    view(bad.bytes).setUint16(itemAt(bad, PARENT_LOCATOR_GUID) + 18, 0xffff, true);
    expectFinding(await check(bad.bytes), "PARENT_LOCATOR_INVALID", "error", itemAt(bad, PARENT_LOCATOR_GUID) + 18);
  });
});

describe("check: BAT (§2.5)", () => {
  it("BAT_TOO_SMALL", async () => {
    const img = buildImage();
    // 256 GiB of 1 MiB blocks needs 262144+ entries; the 1 MiB BAT region holds 131072.
    img.bytes.set(serializeVirtualDiskSize(256 * GiB), itemAt(img, VIRTUAL_DISK_SIZE_GUID));
    expectFinding(await check(img.bytes), "BAT_TOO_SMALL", "error", img.batOffset);
  });

  it("BAT_TRUNCATED", async () => {
    const img = buildImage();
    const r = await check(img.bytes.slice(0, img.batOffset + 16));
    expectFinding(r, "BAT_TRUNCATED", "error", img.batOffset + 16);
  });

  it("BAT_ENTRY_BEYOND_EOF, including a FileOffsetMB of 2^44 - 1", async () => {
    const img = buildImage({ allocated: [1] });
    setBat(img, 1, PAYLOAD_BLOCK_FULLY_PRESENT, 100);
    setBat(img, 2, PAYLOAD_BLOCK_FULLY_PRESENT, 2 ** 44 - 1);
    const r = await check(img.bytes);
    expectFinding(r, "BAT_ENTRY_BEYOND_EOF", "error", img.batOffset + 8);
    expectFinding(r, "BAT_ENTRY_BEYOND_EOF", "error", img.batOffset + 16);
    expect(r.ok).toBe(false);
  });

  it("BAT_OFFSET_DUPLICATE", async () => {
    const img = buildImage({ allocated: [1, 2] });
    setBat(img, 2, PAYLOAD_BLOCK_FULLY_PRESENT, img.blockOffsets.get(1)! / MiB);
    const r = await check(img.bytes);
    expectFinding(r, "BAT_OFFSET_DUPLICATE", "error", img.batOffset + 16);
    expect(codes(r)).toEqual(["BAT_OFFSET_DUPLICATE", "SPACE_UNREFERENCED"]);
  });

  it("REGION_OVERLAP for a block inside a structure, BAT_OFFSET_INVALID inside the header section", async () => {
    const img = buildImage({ allocated: [1] });
    setBat(img, 1, PAYLOAD_BLOCK_FULLY_PRESENT, img.metadataOffset / MiB);
    const f = expectFinding(await check(img.bytes), "REGION_OVERLAP", "error", img.metadataOffset);
    expect(f.message).toMatch(/BAT entry 1/);
    setBat(img, 1, PAYLOAD_BLOCK_FULLY_PRESENT, 0);
    expectFinding(await check(img.bytes), "BAT_OFFSET_INVALID", "error", img.batOffset + 8);
  });

  it("BAT_STATE_INVALID: PARTIALLY_PRESENT outside differencing, reserved states, sector bitmap states", async () => {
    const img = buildImage({ allocated: [1] });
    setBat(img, 1, PAYLOAD_BLOCK_PARTIALLY_PRESENT, img.blockOffsets.get(1)! / MiB);
    setBat(img, 2, 4, 0);
    setBat(img, 3, 5, 0);
    const r = await check(img.bytes);
    for (const i of [1, 2, 3]) expectFinding(r, "BAT_STATE_INVALID", "error", img.batOffset + i * 8);
    // A dynamic disk's sector bitmap entry must stay NOT_PRESENT (§2.5.1.2).
    const big = buildImage({ virtualSize: 4097 * MiB, blockSize: MiB, allocated: [] });
    setBat(big, 4096, SB_BLOCK_PRESENT, 4);
    expectFinding(await check(big.bytes), "BAT_STATE_INVALID", "error", big.batOffset + 4096 * 8);
    setBat(big, 4096, 3, 0);
    expectFinding(await check(big.bytes), "BAT_STATE_INVALID", "error", big.batOffset + 4096 * 8);
  });

  it("a BAT of identical chunks (QEMU's fresh ZERO entries) is clean, and one odd entry far in is still found", async () => {
    // 256 MiB blocks, 512-byte sectors: chunks of 16 payload entries and a sector bitmap entry.
    const img = buildImage({ virtualSize: 16 * 1024 * GiB, blockSize: 256 * MiB, allocated: [] });
    const entries = (16 * 1024 * GiB) / (256 * MiB);
    const period = 17;
    const total = entries + Math.floor((entries - 1) / 16);
    for (let i = 0; i < total; i++) if (i % period !== 16) setBat(img, i, 2, 0); // ZERO
    expect(codes(await check(img.bytes)).filter((c) => c.startsWith("BAT_"))).toEqual([]);
    const far = 17 * 3000 + 5;
    setBat(img, far, 4, 0); // a reserved payload state
    const r = await check(img.bytes);
    expectFinding(r, "BAT_STATE_INVALID", "error", img.batOffset + far * 8);
    expect(r.findings.filter((f) => f.code === "BAT_STATE_INVALID")).toHaveLength(1);
    // Every chunk alike, each with a finding of its own: all are counted, not just the first.
    for (let i = 0; i < total; i++) if (i % period !== 16) setBat(img, i, 2, 0);
    for (let c = 0; c * period < total; c++) img.bytes[img.batOffset + c * period * 8 + 1] |= 0x10; // a reserved bit
    const every = await check(img.bytes);
    const chunks = Math.ceil(total / period);
    expect(every.findings.filter((f) => f.code === "BAT_RESERVED")).toHaveLength(50);
    expect(every.findings.find((f) => f.code === "FINDINGS_TRUNCATED")?.message).toBe(
      `${chunks - 50} more BAT_RESERVED findings not listed`,
    );
  });

  it("BAT_STATE_INVALID: PARTIALLY_PRESENT without its sector bitmap block", async () => {
    const img = buildImage({ type: "differencing", partial: [2] });
    setBat(img, 4096, 0, 0);
    expectFinding(await check(img.bytes), "BAT_STATE_INVALID", "error", img.batOffset + 2 * 8);
  });

  it("BAT_RESERVED", async () => {
    const img = buildImage({ allocated: [0] });
    img.bytes[img.batOffset + 1] |= 0x10;
    const r = await check(img.bytes);
    expectFinding(r, "BAT_RESERVED", "warning", img.batOffset);
    expect(r.ok).toBe(true);
  });

  it("lists at most 50 findings of a code and counts the rest", async () => {
    const img = buildImage({ virtualSize: 200 * MiB });
    for (let i = 0; i < 120; i++) setBat(img, i, 4, 0);
    const r = await check(img.bytes);
    expect(r.findings.filter((f) => f.code === "BAT_STATE_INVALID").length).toBe(50);
    const t = expectFinding(r, "FINDINGS_TRUNCATED", "error");
    expect(t.message).toMatch(/^70 more BAT_STATE_INVALID/);
  });
});

describe("check: log and space", () => {
  it("LOG_BEYOND_EOF", async () => {
    const img = buildImage();
    withHeader(img.bytes, 1, { logOffset: 64 * MiB });
    expectFinding(await check(img.bytes), "LOG_BEYOND_EOF", "error", 64 * MiB);
  });

  it("SPACE_UNREFERENCED for whole MiB nothing uses", async () => {
    const img = buildImage({ allocated: [0] });
    const grown = new Uint8Array(img.bytes.length + 3 * MiB);
    grown.set(img.bytes);
    const r = await check(grown);
    expectFinding(r, "SPACE_UNREFERENCED", "info", img.bytes.length);
    expect(r.ok).toBe(true);
  });
});
