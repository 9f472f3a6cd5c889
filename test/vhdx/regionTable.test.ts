import { describe, expect, it } from "vitest";
import { MiB, view } from "../../src/vhdx/bytes";
import { crc32cWithZeroField } from "../../src/vhdx/crc32c";
import {
  BAT_REGION_GUID,
  METADATA_REGION_GUID,
  parseRegionTable,
  RegionTableEntry,
  serializeRegionTable,
} from "../../src/vhdx/regionTable";
import { expectVhdxError } from "../helpers/expectError";

const AT = 192 * 1024;
const entries: RegionTableEntry[] = [
  { guid: BAT_REGION_GUID, fileOffset: 3 * MiB, length: MiB, required: 1 },
  { guid: METADATA_REGION_GUID, fileOffset: 2 * MiB, length: MiB, required: 0 },
];

/** Edits a serialized table and fixes its checksum, so only the edited rule fails. */
function edited(edit: (dv: DataView, b: Uint8Array) => void, list = entries): Uint8Array {
  const b = serializeRegionTable(list);
  edit(view(b), b);
  view(b).setUint32(4, crc32cWithZeroField(b, 4), true);
  return b;
}

describe("region table (§2.2.3)", () => {
  it("round-trips", () => {
    const t = parseRegionTable(serializeRegionTable(entries), AT);
    expect(t.entries).toEqual(entries);
    expect(t.entryCount).toBe(2);
    expect(Buffer.from(serializeRegionTable(t.entries)).equals(serializeRegionTable(entries))).toBe(true);
  });

  it("round-trips an empty table and a full one (2047 entries)", () => {
    expect(parseRegionTable(serializeRegionTable([]), AT).entries).toEqual([]);
    const many = Array.from({ length: 2047 }, (_, i) => ({
      guid: `00000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`,
      fileOffset: (i + 1) * MiB,
      length: 0,
      required: 0,
    }));
    expect(parseRegionTable(serializeRegionTable(many), AT).entries.length).toBe(2047);
  });

  it("wrong signature", () => {
    const b = serializeRegionTable(entries);
    b[0] = 0;
    expectVhdxError(() => parseRegionTable(b, AT), "REGION_TABLE_INVALID", "region table", AT);
  });

  it("wrong checksum", () => {
    const b = serializeRegionTable(entries);
    b[40] ^= 0x80;
    expectVhdxError(() => parseRegionTable(b, AT), "REGION_TABLE_CHECKSUM", "region table", AT + 4);
  });

  it("entry count over 2047", () => {
    expectVhdxError(
      () =>
        parseRegionTable(
          edited((dv) => dv.setUint32(8, 2048, true)),
          AT,
        ),
      "REGION_TABLE_INVALID",
      "region table",
      AT + 8,
    );
    expectVhdxError(
      () =>
        parseRegionTable(
          edited((dv) => dv.setUint32(8, 0xffffffff, true)),
          AT,
        ),
      "REGION_TABLE_INVALID",
      "region table",
      AT + 8,
    );
  });

  it("duplicate GUIDs", () => {
    const dup = [entries[0], { ...entries[0], fileOffset: 5 * MiB }];
    expectVhdxError(
      () => parseRegionTable(serializeRegionTable(dup), AT),
      "REGION_TABLE_INVALID",
      "region table entry 1",
      AT + 16 + 32,
    );
  });

  it("offset not aligned to 1 MiB, or below 1 MiB", () => {
    const b = edited((dv) => dv.setUint32(16 + 16, 3 * MiB + 4096, true));
    expectVhdxError(() => parseRegionTable(b, AT), "REGION_TABLE_INVALID", "region table entry 0", AT + 16 + 16);
    const low = serializeRegionTable([{ ...entries[0], fileOffset: 0 }]);
    expectVhdxError(() => parseRegionTable(low, AT), "REGION_TABLE_INVALID", "region table entry 0", AT + 16 + 16);
  });

  it("length not a multiple of 1 MiB", () => {
    const b = serializeRegionTable([entries[0], { ...entries[1], length: MiB + 1 }]);
    expectVhdxError(() => parseRegionTable(b, AT), "REGION_TABLE_INVALID", "region table entry 1", AT + 16 + 32 + 24);
  });

  it("offset past 2^53", () => {
    const b = edited((dv) => dv.setUint32(16 + 20, 0xffffffff, true));
    expectVhdxError(() => parseRegionTable(b, AT), "OUT_OF_RANGE", "region table entry 0", AT + 16 + 16);
  });
});
