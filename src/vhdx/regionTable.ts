import { ascii, MiB, readU64, view, writeU64 } from "./bytes";
import { crc32cWithZeroField } from "./crc32c";
import { VhdxError } from "./errors";
import { Guid, readGuid, writeGuid } from "./guid";

/** §2.2.3 Region Table: two 64 KiB copies at 192 KiB and 256 KiB. */
export const REGION_TABLE_OFFSETS = [192 * 1024, 256 * 1024] as const;
export const REGION_TABLE_SIZE = 64 * 1024;
export const REGION_TABLE_SIGNATURE = "regi";
export const REGION_TABLE_MAX_ENTRIES = 2047;
const HEADER_LEN = 16;
const ENTRY_LEN = 32;

/** §2.2.3.2 Known regions. */
export const BAT_REGION_GUID: Guid = "2dc27766-f623-4200-9d64-115e9bfd4a08";
export const METADATA_REGION_GUID: Guid = "8b7ca206-4790-4b9a-b8fe-575f050f886e";

export function regionName(guid: Guid): string {
  if (guid === BAT_REGION_GUID) return "BAT";
  if (guid === METADATA_REGION_GUID) return "metadata";
  return "unknown";
}

export interface RegionTableEntry {
  guid: Guid;
  fileOffset: number;
  length: number;
  /** The raw Required field; 1 means an implementation must understand the region. */
  required: number;
}

export interface RegionTable {
  signature: string;
  checksum: number;
  entryCount: number;
  entries: RegionTableEntry[];
}

/**
 * Parses and validates one 64 KiB region table copy (§2.2.3.1, §2.2.3.2): signature, checksum,
 * entry count ≤ 2047, 1 MiB alignment, offsets ≥ 1 MiB, unique GUIDs. Throws on the first defect.
 */
export function parseRegionTable(bytes: Uint8Array, fileOffset: number): RegionTable {
  const dv = view(bytes);
  const where = "region table";
  const signature = ascii(bytes, 0, 4);
  if (signature !== REGION_TABLE_SIGNATURE) {
    throw new VhdxError(
      "REGION_TABLE_INVALID",
      `region table signature is ${JSON.stringify(signature)}, expected "regi"`,
      where,
      fileOffset,
    );
  }
  const checksum = dv.getUint32(4, true);
  const computed = crc32cWithZeroField(bytes.subarray(0, REGION_TABLE_SIZE), 4);
  if (checksum !== computed) {
    throw new VhdxError(
      "REGION_TABLE_CHECKSUM",
      `region table checksum 0x${checksum.toString(16)} does not match the computed 0x${computed.toString(16)}`,
      where,
      fileOffset + 4,
    );
  }
  const entryCount = dv.getUint32(8, true);
  if (entryCount > REGION_TABLE_MAX_ENTRIES) {
    throw new VhdxError(
      "REGION_TABLE_INVALID",
      `region table entry count ${entryCount} exceeds 2047`,
      where,
      fileOffset + 8,
    );
  }
  const entries: RegionTableEntry[] = [];
  const seen = new Set<Guid>();
  for (let i = 0; i < entryCount; i++) {
    const at = HEADER_LEN + i * ENTRY_LEN;
    const entryWhere = `region table entry ${i}`;
    const guid = readGuid(bytes, at);
    const e: RegionTableEntry = {
      guid,
      fileOffset: readU64(dv, at + 16, entryWhere, fileOffset),
      length: dv.getUint32(at + 24, true),
      required: dv.getUint32(at + 28, true),
    };
    if (seen.has(guid)) {
      throw new VhdxError(
        "REGION_TABLE_INVALID",
        `region ${guid} appears twice in the region table`,
        entryWhere,
        fileOffset + at,
      );
    }
    seen.add(guid);
    if (e.fileOffset % MiB !== 0 || e.fileOffset < MiB) {
      throw new VhdxError(
        "REGION_TABLE_INVALID",
        `region ${regionName(guid)} file offset ${e.fileOffset} must be a multiple of 1 MiB and at least 1 MiB`,
        entryWhere,
        fileOffset + at + 16,
      );
    }
    if (e.length % MiB !== 0) {
      throw new VhdxError(
        "REGION_TABLE_INVALID",
        `region ${regionName(guid)} length ${e.length} must be a multiple of 1 MiB`,
        entryWhere,
        fileOffset + at + 24,
      );
    }
    entries.push(e);
  }
  return { signature, checksum, entryCount, entries };
}

/** Serializes to 64 KiB with the checksum filled in. */
export function serializeRegionTable(entries: readonly RegionTableEntry[]): Uint8Array {
  if (entries.length > REGION_TABLE_MAX_ENTRIES) throw new RangeError("too many region table entries");
  const out = new Uint8Array(REGION_TABLE_SIZE);
  const dv = view(out);
  for (let i = 0; i < 4; i++) out[i] = REGION_TABLE_SIGNATURE.charCodeAt(i);
  dv.setUint32(8, entries.length, true);
  entries.forEach((e, i) => {
    const at = HEADER_LEN + i * ENTRY_LEN;
    writeGuid(out, at, e.guid);
    writeU64(dv, at + 16, e.fileOffset);
    dv.setUint32(at + 24, e.length, true);
    dv.setUint32(at + 28, e.required, true);
  });
  dv.setUint32(4, crc32cWithZeroField(out, 4), true);
  return out;
}
