/**
 * Builds small, valid VHDX images in memory from the engine's serialize* functions, so tests
 * can damage exactly one field and know where every structure lies.
 *
 * Layout: header section 0–1 MiB, log 1–2 MiB, metadata region 2–3 MiB, BAT from 3 MiB
 * (rounded up to whole MiB), then the allocated blocks in order.
 */
import {
  batGeometry,
  encodeBatEntry,
  PAYLOAD_BLOCK_FULLY_PRESENT,
  PAYLOAD_BLOCK_PARTIALLY_PRESENT,
  payloadEntryIndex,
  SB_BLOCK_PRESENT,
  sectorBitmapEntryIndex,
} from "../../src/vhdx/bat";
import { MiB } from "../../src/vhdx/bytes";
import { serializeFileIdentifier } from "../../src/vhdx/fileIdentifier";
import { Guid, ZERO_GUID } from "../../src/vhdx/guid";
import { Header, HEADER_OFFSETS, parseHeader, serializeHeader } from "../../src/vhdx/header";
import {
  FILE_PARAMETERS_GUID,
  LOGICAL_SECTOR_SIZE_GUID,
  METADATA_TABLE_SIZE,
  MetadataTableEntry,
  PARENT_LOCATOR_GUID,
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
import { LogUpdate, serializeLogEntry } from "../../src/vhdx/log";
import {
  BAT_REGION_GUID,
  METADATA_REGION_GUID,
  REGION_TABLE_OFFSETS,
  RegionTableEntry,
  serializeRegionTable,
} from "../../src/vhdx/regionTable";

export interface BuildOptions {
  virtualSize?: number;
  blockSize?: number;
  logicalSectorSize?: number;
  physicalSectorSize?: number;
  type?: "fixed" | "dynamic" | "differencing";
  /** Payload blocks to allocate (dynamic/differencing); fixed allocates all. Filled with a byte pattern. */
  allocated?: number[];
  /** Differencing: payload blocks to mark PARTIALLY_PRESENT (allocated too), with a sector bitmap per chunk. */
  partial?: number[];
  parentLocator?: [string, string][];
  /** Value of the Required field written on the BAT and metadata region entries (QEMU writes 0). */
  regionRequired?: number;
  logGuid?: Guid;
}

export interface BuiltImage {
  bytes: Uint8Array;
  logOffset: number;
  logLength: number;
  metadataOffset: number;
  metadataLength: number;
  batOffset: number;
  batLength: number;
  /** File offset of each allocated payload block by block number. */
  blockOffsets: Map<number, number>;
  /** File offset of each sector bitmap block by chunk. */
  bitmapOffsets: Map<number, number>;
  /** Metadata table entries as written (offsets relative to the region). */
  metadataEntries: MetadataTableEntry[];
  virtualDiskId: Guid;
}

/** The byte pattern written at virtual offset `v` (any non-zero, position-dependent value). */
export function patternByte(v: number): number {
  return ((v >>> 9) * 31 + (v & 511) + 1) & 0xff || 1;
}

export function buildImage(o: BuildOptions = {}): BuiltImage {
  const virtualSize = o.virtualSize ?? 8 * MiB;
  const blockSize = o.blockSize ?? MiB;
  const lss = o.logicalSectorSize ?? 512;
  const pss = o.physicalSectorSize ?? 4096;
  const type = o.type ?? "dynamic";
  const hasParent = type === "differencing";
  const g = batGeometry(blockSize, lss, virtualSize, hasParent);
  const logOffset = MiB;
  const logLength = MiB;
  const metadataOffset = 2 * MiB;
  const metadataLength = MiB;
  const batOffset = 3 * MiB;
  const batLength = Math.max(MiB, Math.ceil((g.totalBatEntries * 8) / MiB) * MiB);
  const virtualDiskId = "6f0d1c7e-2b43-4a5e-9c1d-0123456789ab";

  const partial = new Set(o.partial ?? []);
  const allocated =
    type === "fixed"
      ? [...Array(g.dataBlocksCount).keys()]
      : [...new Set([...(o.allocated ?? []), ...partial])].sort((a, b) => a - b);
  const chunks = [...new Set([...partial].map((b) => Math.floor(b / g.chunkRatio)))].sort((a, b) => a - b);
  let cursor = batOffset + batLength;
  const blockOffsets = new Map<number, number>();
  for (const b of allocated) {
    blockOffsets.set(b, cursor);
    cursor += blockSize;
  }
  const bitmapOffsets = new Map<number, number>();
  for (const c of chunks) {
    bitmapOffsets.set(c, cursor);
    cursor += MiB;
  }
  const bytes = new Uint8Array(cursor);

  bytes.set(serializeFileIdentifier({ creator: "vhdx-studio test builder" }), 0);
  const header = {
    sequenceNumber: 10n,
    fileWriteGuid: "11111111-2222-4333-8444-555555555555",
    dataWriteGuid: "66666666-7777-4888-9999-aaaaaaaaaaaa",
    logGuid: o.logGuid ?? ZERO_GUID,
    logVersion: 0,
    version: 1,
    logLength,
    logOffset,
  };
  bytes.set(serializeHeader(header), HEADER_OFFSETS[0]);
  bytes.set(serializeHeader({ ...header, sequenceNumber: 11n }), HEADER_OFFSETS[1]);
  const req = o.regionRequired ?? 1;
  const regions: RegionTableEntry[] = [
    { guid: BAT_REGION_GUID, fileOffset: batOffset, length: batLength, required: req },
    { guid: METADATA_REGION_GUID, fileOffset: metadataOffset, length: metadataLength, required: req },
  ];
  const rt = serializeRegionTable(regions);
  bytes.set(rt, REGION_TABLE_OFFSETS[0]);
  bytes.set(rt, REGION_TABLE_OFFSETS[1]);

  // Metadata items, packed after the table.
  const items: [Guid, Uint8Array, boolean][] = [
    [
      FILE_PARAMETERS_GUID,
      serializeFileParameters({ blockSize, leaveBlockAllocated: type === "fixed", hasParent }),
      false,
    ],
    [VIRTUAL_DISK_SIZE_GUID, serializeVirtualDiskSize(virtualSize), true],
    [VIRTUAL_DISK_ID_GUID, serializeGuidItem(virtualDiskId), true],
    [LOGICAL_SECTOR_SIZE_GUID, serializeU32(lss), true],
    [PHYSICAL_SECTOR_SIZE_GUID, serializeU32(pss), true],
  ];
  if (hasParent) {
    const pairs = o.parentLocator ?? [
      ["parent_linkage", "{0f1e2d3c-4b5a-4968-8776-655443322110}"],
      ["relative_path", "parent.vhdx"],
    ];
    items.push([PARENT_LOCATOR_GUID, serializeParentLocator(VHDX_PARENT_LOCATOR_TYPE, pairs), false]);
  }
  const metadataEntries: MetadataTableEntry[] = [];
  let itemAt = METADATA_TABLE_SIZE;
  for (const [itemId, data, isVirtualDisk] of items) {
    metadataEntries.push({
      itemId,
      offset: itemAt,
      length: data.length,
      isUser: false,
      isVirtualDisk,
      isRequired: true,
    });
    bytes.set(data, metadataOffset + itemAt);
    itemAt += data.length;
  }
  bytes.set(serializeMetadataTable(metadataEntries), metadataOffset);

  // BAT and block contents.
  for (const b of allocated) {
    const at = blockOffsets.get(b)!;
    const state = partial.has(b) ? PAYLOAD_BLOCK_PARTIALLY_PRESENT : PAYLOAD_BLOCK_FULLY_PRESENT;
    bytes.set(encodeBatEntry(state, at / MiB), batOffset + payloadEntryIndex(g, b) * 8);
    const n = Math.min(blockSize, virtualSize - b * blockSize);
    for (let i = 0; i < n; i += 512) bytes[at + i] = patternByte(b * blockSize + i);
  }
  for (const c of chunks) {
    const at = bitmapOffsets.get(c)!;
    bytes.set(encodeBatEntry(SB_BLOCK_PRESENT, at / MiB), batOffset + sectorBitmapEntryIndex(g, c) * 8);
    // Mark the first half of every partially present block's sectors as present.
    for (const b of partial) {
      if (Math.floor(b / g.chunkRatio) !== c) continue;
      const sectors = blockSize / lss;
      const base = (b % g.chunkRatio) * sectors;
      for (let s = 0; s < sectors / 2; s++) bytes[at + ((base + s) >>> 3)] |= 1 << ((base + s) & 7);
    }
  }
  return {
    bytes,
    logOffset,
    logLength,
    metadataOffset,
    metadataLength,
    batOffset,
    batLength,
    blockOffsets,
    bitmapOffsets,
    metadataEntries,
    virtualDiskId,
  };
}

/** Rewrites header `index` (0 or 1) of `bytes` with `changes`, recomputing its checksum. */
export function withHeader(
  bytes: Uint8Array,
  index: 0 | 1,
  changes: Partial<Omit<Header, "checksum" | "signature">>,
): void {
  const at = HEADER_OFFSETS[index];
  const cur = parseHeader(bytes.subarray(at, at + 4096), at);
  bytes.set(serializeHeader({ ...cur, ...changes }), at);
}

/** Rewrites region table copy `index` of `bytes` with `entries`, checksum included. */
export function withRegionTable(bytes: Uint8Array, index: 0 | 1, entries: RegionTableEntry[]): void {
  bytes.set(serializeRegionTable(entries), REGION_TABLE_OFFSETS[index]);
}

/** Overwrites the metadata table of a built image with `entries`. */
export function withMetadataTable(img: BuiltImage, entries: MetadataTableEntry[]): void {
  img.bytes.set(serializeMetadataTable(entries), img.metadataOffset);
}

/**
 * Leaves `img` as a crash between a log write and its application would: one log entry at the
 * start of the log holding `updates` (4 KiB sectors), and LogGuid set in both headers.
 */
export function withPendingLog(
  img: BuiltImage,
  updates: { fileOffset: number; data: Uint8Array }[],
  opts: { logGuid?: Guid; flushedFileOffset?: number; lastFileOffset?: number; sequenceNumber?: bigint } = {},
): Guid {
  const logGuid = opts.logGuid ?? "5d1a4f5e-0b7c-4c1e-9a52-7e4b1f0c2d3a";
  const list: LogUpdate[] = [];
  for (const u of updates)
    for (let at = 0; at < u.data.length; at += 4096)
      list.push({ kind: "data", fileOffset: u.fileOffset + at, data: u.data.subarray(at, at + 4096) });
  const size = img.bytes.length - (img.bytes.length % MiB);
  const entry = serializeLogEntry({
    tail: 0,
    sequenceNumber: opts.sequenceNumber ?? 5n,
    logGuid,
    flushedFileOffset: opts.flushedFileOffset ?? size,
    lastFileOffset: opts.lastFileOffset ?? size,
    updates: list,
  });
  img.bytes.set(entry, img.logOffset);
  withHeader(img.bytes, 0, { logGuid });
  withHeader(img.bytes, 1, { logGuid });
  return logGuid;
}
