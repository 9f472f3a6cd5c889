import { describe, expect, it } from "vitest";
import { MiB, TiB, view } from "../../src/vhdx/bytes";
import {
  DiskParameters,
  FILE_PARAMETERS_GUID,
  LOGICAL_SECTOR_SIZE_GUID,
  MetadataTableEntry,
  PARENT_LOCATOR_GUID,
  parseDiskParameters,
  parseFileParameters,
  parseMetadataTable,
  parseSectorSize,
  parseVirtualDiskId,
  parseVirtualDiskSize,
  PHYSICAL_SECTOR_SIZE_GUID,
  serializeFileParameters,
  serializeGuidItem,
  serializeMetadataTable,
  serializeU32,
  serializeVirtualDiskSize,
  VIRTUAL_DISK_ID_GUID,
  VIRTUAL_DISK_SIZE_GUID,
} from "../../src/vhdx/metadata";
import { serializeParentLocator, VHDX_PARENT_LOCATOR_TYPE } from "../../src/vhdx/parentLocator";
import { expectVhdxError } from "../helpers/expectError";

const R = 2 * MiB; // region offset
const LEN = MiB; // region length
const K64 = 64 * 1024;

function entry(
  itemId: string,
  offset: number,
  length: number,
  flags: Partial<MetadataTableEntry> = {},
): MetadataTableEntry {
  return { itemId, offset, length, isUser: false, isVirtualDisk: false, isRequired: true, ...flags };
}

const items: [string, Uint8Array][] = [
  [
    FILE_PARAMETERS_GUID,
    serializeFileParameters({ blockSize: 32 * MiB, leaveBlockAllocated: false, hasParent: false }),
  ],
  [VIRTUAL_DISK_SIZE_GUID, serializeVirtualDiskSize(10 * MiB)],
  [VIRTUAL_DISK_ID_GUID, serializeGuidItem("0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3")],
  [LOGICAL_SECTOR_SIZE_GUID, serializeU32(512)],
  [PHYSICAL_SECTOR_SIZE_GUID, serializeU32(4096)],
];

function table(list = items) {
  let at = K64;
  const entries = list.map(([g, b]) => {
    const e = entry(g, at, b.length);
    at += b.length;
    return e;
  });
  const bytes = new Map(list.map(([, b], i) => [entries[i].itemId, b]));
  return { entries, read: (e: MetadataTableEntry) => bytes.get(e.itemId)! };
}

describe("metadata table (§2.6.1)", () => {
  it("round-trips, flags included", () => {
    const entries = [
      entry(FILE_PARAMETERS_GUID, K64, 8),
      entry("01234567-89ab-4def-8123-456789abcdef", K64 + 8, 100, {
        isUser: true,
        isVirtualDisk: true,
        isRequired: false,
      }),
      entry(VIRTUAL_DISK_ID_GUID, 0, 0),
    ];
    const t = parseMetadataTable(serializeMetadataTable(entries), R, LEN);
    expect(t.entries).toEqual(entries);
    expect(t.entryCount).toBe(3);
    expect(Buffer.from(serializeMetadataTable(t.entries)).equals(serializeMetadataTable(entries))).toBe(true);
  });

  it("wrong signature", () => {
    const b = serializeMetadataTable([]);
    b[7] = 0;
    expectVhdxError(() => parseMetadataTable(b, R, LEN), "METADATA_INVALID", "metadata table", R);
  });

  it("entry count over 2047", () => {
    const b = serializeMetadataTable([]);
    view(b).setUint16(10, 2048, true);
    expectVhdxError(() => parseMetadataTable(b, R, LEN), "METADATA_INVALID", "metadata table", R + 10);
  });

  it("the same item twice with the same IsUser", () => {
    const b = serializeMetadataTable([entry(FILE_PARAMETERS_GUID, K64, 8), entry(FILE_PARAMETERS_GUID, K64 + 8, 8)]);
    expectVhdxError(() => parseMetadataTable(b, R, LEN), "METADATA_INVALID", "metadata table entry 1", R + 32 + 32);
    // ... but a user and a system item may share an ID.
    const ok = serializeMetadataTable([
      entry(FILE_PARAMETERS_GUID, K64, 8),
      entry(FILE_PARAMETERS_GUID, K64 + 8, 8, { isUser: true }),
    ]);
    expect(parseMetadataTable(ok, R, LEN).entries.length).toBe(2);
  });

  it("more than 1024 user items", () => {
    const list = Array.from({ length: 1025 }, (_, i) =>
      entry(`00000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`, 0, 0, { isUser: true, isRequired: false }),
    );
    expectVhdxError(
      () => parseMetadataTable(serializeMetadataTable(list), R, LEN),
      "METADATA_INVALID",
      "metadata table entry 1024",
      R + 32 + 1024 * 32,
    );
  });

  it("item longer than 1 MiB", () => {
    const b = serializeMetadataTable([entry(FILE_PARAMETERS_GUID, K64, MiB + 1)]);
    expectVhdxError(() => parseMetadataTable(b, R, 4 * MiB), "METADATA_INVALID", "metadata table entry 0", R + 32 + 20);
  });

  it("length 0 with a non-zero offset", () => {
    const b = serializeMetadataTable([entry(FILE_PARAMETERS_GUID, K64, 0)]);
    expectVhdxError(() => parseMetadataTable(b, R, LEN), "METADATA_INVALID", "metadata table entry 0", R + 32 + 16);
  });

  it("item inside the table or past the region's end", () => {
    expectVhdxError(
      () => parseMetadataTable(serializeMetadataTable([entry(FILE_PARAMETERS_GUID, 100, 8)]), R, LEN),
      "METADATA_INVALID",
      "metadata table entry 0",
      R + 32 + 16,
    );
    expectVhdxError(
      () => parseMetadataTable(serializeMetadataTable([entry(FILE_PARAMETERS_GUID, LEN - 4, 8)]), R, LEN),
      "METADATA_INVALID",
      "metadata table entry 0",
      R + 32 + 16,
    );
  });

  it("overlapping items", () => {
    const b = serializeMetadataTable([entry(FILE_PARAMETERS_GUID, K64, 8), entry(VIRTUAL_DISK_SIZE_GUID, K64 + 4, 8)]);
    expectVhdxError(() => parseMetadataTable(b, R, LEN), "METADATA_INVALID", "metadata table", R + K64 + 4);
  });
});

describe("known metadata items (§2.6.2)", () => {
  it("round-trip", () => {
    const fp = { blockSize: 256 * MiB, leaveBlockAllocated: true, hasParent: true };
    expect(parseFileParameters(serializeFileParameters(fp), 0)).toEqual(fp);
    expect(parseVirtualDiskSize(serializeVirtualDiskSize(64 * TiB), 0)).toBe(64 * TiB);
    expect(parseSectorSize(serializeU32(4096), 0, "Logical Sector Size")).toBe(4096);
    expect(parseVirtualDiskId(serializeGuidItem("0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3"), 0)).toBe(
      "0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3",
    );
  });

  it("block size not a power of two from 1 MiB to 256 MiB", () => {
    for (const bs of [0, MiB / 2, 3 * MiB, 512 * MiB]) {
      expectVhdxError(
        () =>
          parseFileParameters(
            serializeFileParameters({ blockSize: bs, leaveBlockAllocated: false, hasParent: false }),
            777,
          ),
        "METADATA_INVALID",
        "File Parameters",
        777,
      );
    }
  });

  it("virtual size 0 or over 64 TiB, or past 2^53", () => {
    expectVhdxError(
      () => parseVirtualDiskSize(serializeVirtualDiskSize(0), 5),
      "METADATA_INVALID",
      "Virtual Disk Size",
      5,
    );
    expectVhdxError(
      () => parseVirtualDiskSize(serializeVirtualDiskSize(64 * TiB + 512), 5),
      "METADATA_INVALID",
      "Virtual Disk Size",
      5,
    );
    const huge = new Uint8Array(8).fill(0xff);
    expectVhdxError(() => parseVirtualDiskSize(huge, 5), "OUT_OF_RANGE", "Virtual Disk Size", 5);
  });

  it("sector sizes other than 512 and 4096", () => {
    expectVhdxError(
      () => parseSectorSize(serializeU32(1024), 9, "Physical Sector Size"),
      "METADATA_INVALID",
      "Physical Sector Size",
      9,
    );
  });

  it("items too short", () => {
    expectVhdxError(() => parseFileParameters(new Uint8Array(4), 3), "METADATA_INVALID", "File Parameters", 3);
    expectVhdxError(() => parseVirtualDiskId(new Uint8Array(15), 3), "METADATA_INVALID", "Virtual Disk ID", 3);
  });
});

describe("disk parameters (cross-item rules)", () => {
  it("decodes every required item", () => {
    const t = table();
    const p: DiskParameters = parseDiskParameters(
      { signature: "metadata", entryCount: t.entries.length, entries: t.entries },
      t.read,
      R,
    );
    expect(p).toMatchObject({
      virtualDiskSize: 10 * MiB,
      logicalSectorSize: 512,
      physicalSectorSize: 4096,
      parentLocator: null,
      fileParameters: { blockSize: 32 * MiB },
    });
  });

  it("a required item missing", () => {
    const t = table(items.filter(([g]) => g !== VIRTUAL_DISK_ID_GUID));
    expectVhdxError(
      () => parseDiskParameters({ signature: "metadata", entryCount: 4, entries: t.entries }, t.read, R),
      "METADATA_MISSING",
      "metadata table",
      R,
    );
  });

  it("an unknown item marked required", () => {
    const t = table();
    t.entries.push(entry("01234567-89ab-4def-8123-456789abcdef", 0, 0));
    expectVhdxError(
      () => parseDiskParameters({ signature: "metadata", entryCount: 6, entries: t.entries }, t.read, R),
      "METADATA_REQUIRED_UNKNOWN",
      "metadata table",
      R,
    );
  });

  it("virtual size not a multiple of the logical sector size", () => {
    const list = items.map(([g, b]): [string, Uint8Array] => [
      g,
      g === LOGICAL_SECTOR_SIZE_GUID
        ? serializeU32(4096)
        : g === VIRTUAL_DISK_SIZE_GUID
          ? serializeVirtualDiskSize(10 * MiB + 512)
          : b,
    ]);
    const t = table(list);
    const sizeAt = R + t.entries[1].offset;
    expectVhdxError(
      () => parseDiskParameters({ signature: "metadata", entryCount: 5, entries: t.entries }, t.read, R),
      "METADATA_INVALID",
      "Virtual Disk Size",
      sizeAt,
    );
  });

  it("HasParent without a parent locator, and with one", () => {
    const fpParent = serializeFileParameters({ blockSize: 2 * MiB, leaveBlockAllocated: false, hasParent: true });
    const list = items.map(([g, b]): [string, Uint8Array] => [g, g === FILE_PARAMETERS_GUID ? fpParent : b]);
    const t = table(list);
    expectVhdxError(
      () => parseDiskParameters({ signature: "metadata", entryCount: 5, entries: t.entries }, t.read, R),
      "METADATA_MISSING",
      "metadata table",
      R,
    );
    const withPl = table([
      ...list,
      [
        PARENT_LOCATOR_GUID,
        serializeParentLocator(VHDX_PARENT_LOCATOR_TYPE, [
          ["parent_linkage", "{0f1e2d3c-4b5a-4968-8776-655443322110}"],
        ]),
      ],
    ]);
    const p = parseDiskParameters({ signature: "metadata", entryCount: 6, entries: withPl.entries }, withPl.read, R);
    expect(p.parentLocator?.entries[0]).toMatchObject({
      key: "parent_linkage",
      value: "{0f1e2d3c-4b5a-4968-8776-655443322110}",
    });
  });
});
