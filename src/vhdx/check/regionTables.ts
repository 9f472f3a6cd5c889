import { ascii, MiB, view } from "../bytes";
import { crc32cWithZeroField } from "../crc32c";
import { hex } from "../errors";
import { readGuid } from "../guid";
import {
  BAT_REGION_GUID,
  METADATA_REGION_GUID,
  REGION_TABLE_MAX_ENTRIES,
  REGION_TABLE_OFFSETS,
  REGION_TABLE_SIGNATURE,
  REGION_TABLE_SIZE,
  RegionTableEntry,
  regionName,
} from "../regionTable";
import { CheckContext } from "./findings";

const ENTRY_LEN = 32;

export interface RegionTableState {
  /** Per copy: its entries when the copy is valid, else null. */
  copies: [RegionTableEntry[] | null, RegionTableEntry[] | null];
  /** The copy in use (the first valid one), or -1. */
  used: -1 | 0 | 1;
  regions: RegionTableEntry[];
  batRegion: RegionTableEntry | null;
  metadataRegion: RegionTableEntry | null;
}

/**
 * §2.2.3: both region table copies, each judged on its own (signature, checksum, entry count,
 * entries), then compared. The spec gives no rule for falling back to the second copy, and
 * readers differ on which copy they read, so any damaged copy is an error.
 */
export function checkRegionTables(ctx: CheckContext, section: Uint8Array): RegionTableState {
  const copies = [0, 1].map((i) => judgeCopy(ctx, section, i as 0 | 1)) as RegionTableState["copies"];
  const used = copies[0] ? 0 : copies[1] ? 1 : -1;
  if (used === -1) {
    ctx.add(
      "error",
      "NO_VALID_REGION_TABLE",
      "neither region table copy is valid, so no region can be located",
      "region table",
      REGION_TABLE_OFFSETS[0],
      2 * REGION_TABLE_SIZE,
    );
    return { copies, used, regions: [], batRegion: null, metadataRegion: null };
  }
  if (copies[0] && copies[1] && !sameEntries(copies[0], copies[1])) {
    ctx.add(
      "error",
      "REGION_TABLE_MISMATCH",
      "the two region table copies are both valid but list different regions; the first is used",
      "region table 2",
      REGION_TABLE_OFFSETS[1],
      REGION_TABLE_SIZE,
    );
  }
  const regions = copies[used]!;
  const tableAt = REGION_TABLE_OFFSETS[used];
  regions.forEach((r, i) => {
    const entryAt = tableAt + 16 + i * ENTRY_LEN;
    const known = r.guid === BAT_REGION_GUID || r.guid === METADATA_REGION_GUID;
    if (!known && r.required === 1) {
      ctx.add(
        "error",
        "REQUIRED_REGION_UNKNOWN",
        `region ${r.guid} is marked required but is not defined by the spec; no implementation may load the file (§2.2.3.2)`,
        `region table entry ${i}`,
        entryAt,
        ENTRY_LEN,
      );
    } else if (!known) {
      ctx.add(
        "info",
        "REGION_UNKNOWN",
        `optional region ${r.guid} (${hex(r.length)} bytes at ${hex(r.fileOffset)}) is not defined by the spec and is left alone`,
        `region table entry ${i}`,
        entryAt,
        ENTRY_LEN,
      );
    } else if (r.required !== 1) {
      // QEMU writes 0 here; readers that know the region load it anyway.
      ctx.add(
        "info",
        "REGION_NOT_REQUIRED",
        `the ${regionName(r.guid)} region entry has Required = ${r.required}; the spec's table marks it required`,
        `region table entry ${i}`,
        entryAt + 28,
        4,
      );
    }
    if (r.fileOffset + r.length > ctx.fileSize) {
      ctx.add(
        "warning",
        "REGION_BEYOND_EOF",
        `the ${regionName(r.guid)} region [${hex(r.fileOffset)}, ${hex(r.fileOffset + r.length)}) runs past the end of the file (${hex(ctx.fileSize)})`,
        `${regionName(r.guid)} region`,
        r.fileOffset,
        r.length,
      );
    }
  });
  const batRegion = regions.find((r) => r.guid === BAT_REGION_GUID) ?? null;
  const metadataRegion = regions.find((r) => r.guid === METADATA_REGION_GUID) ?? null;
  if (!batRegion)
    ctx.add(
      "error",
      "REGION_MISSING",
      "the region table has no BAT region",
      "region table",
      tableAt,
      REGION_TABLE_SIZE,
    );
  if (!metadataRegion)
    ctx.add(
      "error",
      "REGION_MISSING",
      "the region table has no metadata region",
      "region table",
      tableAt,
      REGION_TABLE_SIZE,
    );
  return { copies, used, regions, batRegion, metadataRegion };
}

/** Every defect of one copy becomes a finding; the copy is usable only when it has none. */
function judgeCopy(ctx: CheckContext, section: Uint8Array, index: 0 | 1): RegionTableEntry[] | null {
  const at = REGION_TABLE_OFFSETS[index];
  const name = `region table ${index + 1}`;
  const bytes = section.subarray(at, at + REGION_TABLE_SIZE);
  const dv = view(bytes);
  const sig = ascii(bytes, 0, 4);
  if (sig !== REGION_TABLE_SIGNATURE) {
    ctx.add(
      "error",
      "REGION_TABLE_SIGNATURE",
      `${name} signature is ${JSON.stringify(sig)}, expected "regi"`,
      name,
      at,
      4,
    );
    return null;
  }
  const checksum = dv.getUint32(4, true);
  const computed = crc32cWithZeroField(bytes, 4);
  if (checksum !== computed) {
    ctx.add(
      "error",
      "REGION_TABLE_CHECKSUM",
      `${name} checksum ${hex(checksum)} does not match the computed ${hex(computed)}`,
      name,
      at + 4,
      4,
    );
    return null;
  }
  const count = dv.getUint32(8, true);
  if (count > REGION_TABLE_MAX_ENTRIES) {
    ctx.add("error", "REGION_TABLE_INVALID", `${name} entry count ${count} exceeds 2047 (§2.2.3.1)`, name, at + 8, 4);
    return null;
  }
  let ok = true;
  const entries: RegionTableEntry[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    const e = at + 16 + i * ENTRY_LEN;
    const where = `${name} entry ${i}`;
    const o = 16 + i * ENTRY_LEN;
    const guid = readGuid(bytes, o);
    const hi = dv.getUint32(o + 20, true);
    const fileOffset = hi * 0x100000000 + dv.getUint32(o + 16, true);
    const length = dv.getUint32(o + 24, true);
    const required = dv.getUint32(o + 28, true);
    if (seen.has(guid)) {
      ctx.add(
        "error",
        "REGION_TABLE_INVALID",
        `region ${guid} appears twice in ${name} (§2.2.3.2: GUIDs must be unique)`,
        where,
        e,
        ENTRY_LEN,
      );
      ok = false;
    }
    seen.add(guid);
    if (hi >= 0x200000 || fileOffset % MiB !== 0 || fileOffset < MiB) {
      ctx.add(
        "error",
        "REGION_TABLE_INVALID",
        `${regionName(guid)} region offset ${hex(fileOffset)} must be a multiple of 1 MiB and at least 1 MiB (§2.2.3.2)`,
        where,
        e + 16,
        8,
      );
      ok = false;
    }
    if (length % MiB !== 0) {
      ctx.add(
        "error",
        "REGION_TABLE_INVALID",
        `${regionName(guid)} region length ${hex(length)} must be a multiple of 1 MiB (§2.2.3.2)`,
        where,
        e + 24,
        4,
      );
      ok = false;
    }
    entries.push({ guid, fileOffset, length, required });
  }
  return ok ? entries : null;
}

function sameEntries(a: RegionTableEntry[], b: RegionTableEntry[]): boolean {
  return (
    a.length === b.length &&
    a.every(
      (e, i) =>
        e.guid === b[i].guid &&
        e.fileOffset === b[i].fileOffset &&
        e.length === b[i].length &&
        e.required === b[i].required,
    )
  );
}
