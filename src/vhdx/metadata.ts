import { ascii, MiB, readU64, TiB, view, writeU64 } from "./bytes";
import { VhdxError } from "./errors";
import { Guid, readGuid, writeGuid } from "./guid";
import { ParentLocator, parseParentLocator } from "./parentLocator";

/** §2.6 Metadata region: a 64 KiB table, then items. */
export const METADATA_TABLE_SIZE = 64 * 1024;
export const METADATA_SIGNATURE = "metadata";
export const METADATA_MAX_ENTRIES = 2047;
export const METADATA_MAX_USER_ENTRIES = 1024;
export const METADATA_ITEM_MAX_LENGTH = MiB;
const TABLE_HEADER_LEN = 32;
const ENTRY_LEN = 32;

/** §2.6.2 Known metadata items. */
export const FILE_PARAMETERS_GUID: Guid = "caa16737-fa36-4d43-b3b6-33f0aa44e76b";
export const VIRTUAL_DISK_SIZE_GUID: Guid = "2fa54224-cd1b-4876-b211-5dbed83bf4b8";
export const VIRTUAL_DISK_ID_GUID: Guid = "beca12ab-b2e6-4523-93ef-c309e000c746";
export const LOGICAL_SECTOR_SIZE_GUID: Guid = "8141bf1d-a96f-4709-ba47-f233a8faab5f";
export const PHYSICAL_SECTOR_SIZE_GUID: Guid = "cda348c7-445d-4471-9cc9-e9885251c556";
export const PARENT_LOCATOR_GUID: Guid = "a8d35f2d-b30b-454d-abf7-d3d84834ab0c";

export const KNOWN_METADATA: Record<Guid, { name: string; isVirtualDisk: boolean }> = {
  [FILE_PARAMETERS_GUID]: { name: "File Parameters", isVirtualDisk: false },
  [VIRTUAL_DISK_SIZE_GUID]: { name: "Virtual Disk Size", isVirtualDisk: true },
  [VIRTUAL_DISK_ID_GUID]: { name: "Virtual Disk ID", isVirtualDisk: true },
  [LOGICAL_SECTOR_SIZE_GUID]: { name: "Logical Sector Size", isVirtualDisk: true },
  [PHYSICAL_SECTOR_SIZE_GUID]: { name: "Physical Sector Size", isVirtualDisk: true },
  [PARENT_LOCATOR_GUID]: { name: "Parent Locator", isVirtualDisk: false },
};

/** §2.6.2.2: at most 64 TiB. */
export const MAX_VIRTUAL_DISK_SIZE = 64 * TiB;

export interface MetadataTableEntry {
  itemId: Guid;
  /** Relative to the start of the metadata region. */
  offset: number;
  length: number;
  isUser: boolean;
  isVirtualDisk: boolean;
  isRequired: boolean;
}

export interface MetadataTable {
  signature: string;
  entryCount: number;
  entries: MetadataTableEntry[];
}

/** §2.6.1.1–2.6.1.2: parses and validates the 64 KiB table. `regionOffset`/`regionLength` locate the region. */
export function parseMetadataTable(bytes: Uint8Array, regionOffset: number, regionLength: number): MetadataTable {
  const dv = view(bytes);
  const signature = ascii(bytes, 0, 8);
  if (signature !== METADATA_SIGNATURE) {
    throw new VhdxError(
      "METADATA_INVALID",
      `metadata table signature is ${JSON.stringify(signature)}, expected "metadata"`,
      "metadata table",
      regionOffset,
    );
  }
  const entryCount = dv.getUint16(10, true);
  if (entryCount > METADATA_MAX_ENTRIES) {
    throw new VhdxError(
      "METADATA_INVALID",
      `metadata table entry count ${entryCount} exceeds 2047`,
      "metadata table",
      regionOffset + 10,
    );
  }
  const entries: MetadataTableEntry[] = [];
  const seen = new Set<string>();
  let userCount = 0;
  for (let i = 0; i < entryCount; i++) {
    const at = TABLE_HEADER_LEN + i * ENTRY_LEN;
    const where = `metadata table entry ${i}`;
    const flags = dv.getUint32(at + 24, true);
    const e: MetadataTableEntry = {
      itemId: readGuid(bytes, at),
      offset: dv.getUint32(at + 16, true),
      length: dv.getUint32(at + 20, true),
      isUser: (flags & 1) !== 0,
      isVirtualDisk: (flags & 2) !== 0,
      isRequired: (flags & 4) !== 0,
    };
    const key = `${e.itemId}/${e.isUser}`;
    if (seen.has(key)) {
      throw new VhdxError(
        "METADATA_INVALID",
        `metadata item ${e.itemId} appears twice in the metadata table`,
        where,
        regionOffset + at,
      );
    }
    seen.add(key);
    if (e.isUser && ++userCount > METADATA_MAX_USER_ENTRIES) {
      throw new VhdxError(
        "METADATA_INVALID",
        `more than 1024 metadata entries have IsUser set`,
        where,
        regionOffset + at,
      );
    }
    if (e.length > METADATA_ITEM_MAX_LENGTH) {
      throw new VhdxError(
        "METADATA_INVALID",
        `metadata item ${itemName(e.itemId)} length ${e.length} exceeds 1 MiB`,
        where,
        regionOffset + at + 20,
      );
    }
    if (e.length === 0) {
      if (e.offset !== 0) {
        throw new VhdxError(
          "METADATA_INVALID",
          `metadata item ${itemName(e.itemId)} has length 0 but offset ${e.offset} (must be 0)`,
          where,
          regionOffset + at + 16,
        );
      }
    } else if (e.offset < METADATA_TABLE_SIZE || e.offset + e.length > regionLength) {
      throw new VhdxError(
        "METADATA_INVALID",
        `metadata item ${itemName(e.itemId)} at ${e.offset}+${e.length} must lie inside the metadata region after its table (64 KiB..${regionLength})`,
        where,
        regionOffset + at + 16,
      );
    }
    entries.push(e);
  }
  // §2.6.1.2: items must not overlap one another.
  const sorted = entries.filter((e) => e.length > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const p = sorted[i - 1];
    const c = sorted[i];
    if (c.offset < p.offset + p.length) {
      throw new VhdxError(
        "METADATA_INVALID",
        `metadata items ${itemName(p.itemId)} (${p.offset}+${p.length}) and ${itemName(c.itemId)} (${c.offset}+${c.length}) overlap`,
        "metadata table",
        regionOffset + c.offset,
      );
    }
  }
  return { signature, entryCount, entries };
}

export function serializeMetadataTable(entries: readonly MetadataTableEntry[]): Uint8Array {
  const out = new Uint8Array(METADATA_TABLE_SIZE);
  const dv = view(out);
  for (let i = 0; i < 8; i++) out[i] = METADATA_SIGNATURE.charCodeAt(i);
  dv.setUint16(10, entries.length, true);
  entries.forEach((e, i) => {
    const at = TABLE_HEADER_LEN + i * ENTRY_LEN;
    writeGuid(out, at, e.itemId);
    dv.setUint32(at + 16, e.offset, true);
    dv.setUint32(at + 20, e.length, true);
    dv.setUint32(at + 24, (e.isUser ? 1 : 0) | (e.isVirtualDisk ? 2 : 0) | (e.isRequired ? 4 : 0), true);
  });
  return out;
}

export function itemName(guid: Guid): string {
  return KNOWN_METADATA[guid]?.name ?? guid;
}

/** §2.6.2.1 File Parameters. */
export interface FileParameters {
  blockSize: number;
  leaveBlockAllocated: boolean;
  hasParent: boolean;
}

/** The decoded system metadata every image has, plus the parent locator when present. */
export interface DiskParameters {
  fileParameters: FileParameters;
  virtualDiskSize: number;
  virtualDiskId: Guid;
  logicalSectorSize: number;
  physicalSectorSize: number;
  parentLocator: ParentLocator | null;
}

function itemLength(item: Uint8Array, need: number, name: string, at: number): void {
  if (item.length < need)
    throw new VhdxError("METADATA_INVALID", `${name} item is ${item.length} bytes, needs ${need}`, name, at);
}

export function parseFileParameters(item: Uint8Array, fileOffset: number): FileParameters {
  itemLength(item, 8, "File Parameters", fileOffset);
  const dv = view(item);
  const blockSize = dv.getUint32(0, true);
  const flags = dv.getUint32(4, true);
  if (blockSize < MiB || blockSize > 256 * MiB || (blockSize & (blockSize - 1)) !== 0) {
    throw new VhdxError(
      "METADATA_INVALID",
      `block size ${blockSize} must be a power of two from 1 MiB to 256 MiB`,
      "File Parameters",
      fileOffset,
    );
  }
  return { blockSize, leaveBlockAllocated: (flags & 1) !== 0, hasParent: (flags & 2) !== 0 };
}

export function serializeFileParameters(p: FileParameters): Uint8Array {
  const out = new Uint8Array(8);
  const dv = view(out);
  dv.setUint32(0, p.blockSize, true);
  dv.setUint32(4, (p.leaveBlockAllocated ? 1 : 0) | (p.hasParent ? 2 : 0), true);
  return out;
}

export function parseVirtualDiskSize(item: Uint8Array, fileOffset: number): number {
  itemLength(item, 8, "Virtual Disk Size", fileOffset);
  const size = readU64(view(item), 0, "Virtual Disk Size", fileOffset);
  if (size === 0 || size > MAX_VIRTUAL_DISK_SIZE) {
    throw new VhdxError(
      "METADATA_INVALID",
      `virtual disk size ${size} must be between 1 byte and 64 TiB`,
      "Virtual Disk Size",
      fileOffset,
    );
  }
  return size;
}

export function serializeVirtualDiskSize(size: number): Uint8Array {
  const out = new Uint8Array(8);
  writeU64(view(out), 0, size);
  return out;
}

export function parseSectorSize(item: Uint8Array, fileOffset: number, name: string): number {
  itemLength(item, 4, name, fileOffset);
  const v = view(item).getUint32(0, true);
  if (v !== 512 && v !== 4096)
    throw new VhdxError("METADATA_INVALID", `${name} ${v} must be 512 or 4096`, name, fileOffset);
  return v;
}

export function serializeU32(v: number): Uint8Array {
  const out = new Uint8Array(4);
  view(out).setUint32(0, v, true);
  return out;
}

export function parseVirtualDiskId(item: Uint8Array, fileOffset: number): Guid {
  itemLength(item, 16, "Virtual Disk ID", fileOffset);
  return readGuid(item, 0);
}

export function serializeGuidItem(g: Guid): Uint8Array {
  const out = new Uint8Array(16);
  writeGuid(out, 0, g);
  return out;
}

/** The system (IsUser = 0) entry for a known item, if present. */
export function systemItem(table: MetadataTable, guid: Guid): MetadataTableEntry | undefined {
  return table.entries.find((x) => x.itemId === guid && !x.isUser);
}

/**
 * Decodes every known item (bytes handed in by `readItem`) and checks
 * the cross-item rules: required items present, size a multiple of the logical sector size,
 * a parent locator exactly when HasParent, unknown required items refused.
 */
export function parseDiskParameters(
  table: MetadataTable,
  readItem: (e: MetadataTableEntry) => Uint8Array,
  regionOffset: number,
): DiskParameters {
  const get = (guid: Guid): { item: Uint8Array; at: number } | null => {
    const e = systemItem(table, guid);
    if (!e) return null;
    return { item: readItem(e), at: regionOffset + e.offset };
  };
  const need = (guid: Guid) => {
    const r = get(guid);
    if (!r)
      throw new VhdxError(
        "METADATA_MISSING",
        `required metadata item ${itemName(guid)} (${guid}) is missing`,
        "metadata table",
        regionOffset,
      );
    return r;
  };
  for (const e of table.entries) {
    if (e.isRequired && !KNOWN_METADATA[e.itemId]) {
      throw new VhdxError(
        "METADATA_REQUIRED_UNKNOWN",
        `metadata item ${e.itemId} is marked required but is not known to this implementation`,
        "metadata table",
        regionOffset,
      );
    }
  }
  const fp = need(FILE_PARAMETERS_GUID);
  const fileParameters = parseFileParameters(fp.item, fp.at);
  const vs = need(VIRTUAL_DISK_SIZE_GUID);
  const virtualDiskSize = parseVirtualDiskSize(vs.item, vs.at);
  const id = need(VIRTUAL_DISK_ID_GUID);
  const virtualDiskId = parseVirtualDiskId(id.item, id.at);
  const ls = need(LOGICAL_SECTOR_SIZE_GUID);
  const logicalSectorSize = parseSectorSize(ls.item, ls.at, "Logical Sector Size");
  const ps = need(PHYSICAL_SECTOR_SIZE_GUID);
  const physicalSectorSize = parseSectorSize(ps.item, ps.at, "Physical Sector Size");
  if (virtualDiskSize % logicalSectorSize !== 0) {
    throw new VhdxError(
      "METADATA_INVALID",
      `virtual disk size ${virtualDiskSize} is not a multiple of the logical sector size ${logicalSectorSize}`,
      "Virtual Disk Size",
      vs.at,
    );
  }
  let parentLocator: ParentLocator | null = null;
  const pl = get(PARENT_LOCATOR_GUID);
  if (fileParameters.hasParent) {
    if (!pl)
      throw new VhdxError(
        "METADATA_MISSING",
        "HasParent is set but the Parent Locator item is missing",
        "metadata table",
        regionOffset,
      );
    parentLocator = parseParentLocator(pl.item, pl.at);
  } else if (pl) {
    parentLocator = parseParentLocator(pl.item, pl.at);
  }
  return { fileParameters, virtualDiskSize, virtualDiskId, logicalSectorSize, physicalSectorSize, parentLocator };
}
