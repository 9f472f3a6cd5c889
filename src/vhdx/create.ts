import {
  batGeometry,
  BatGeometry,
  BAT_ENTRY_SIZE,
  isSectorBitmapEntry,
  PAYLOAD_BLOCK_FULLY_PRESENT,
  blockOfEntry,
} from "./bat";
import { alignUp, MiB, view } from "./bytes";
import { VhdxError } from "./errors";
import { serializeFileIdentifier } from "./fileIdentifier";
import { Guid, newGuid, ZERO_GUID } from "./guid";
import { HEADER_OFFSETS, HEADER_VERSION, LOG_VERSION, serializeHeader } from "./header";
import type { VhdxImage } from "./image";
import { discardContents, RandomAccess } from "./io";
import { writeNonZeroRuns } from "./sparse";
import {
  FILE_PARAMETERS_GUID,
  LOGICAL_SECTOR_SIZE_GUID,
  MAX_VIRTUAL_DISK_SIZE,
  METADATA_MAX_ENTRIES,
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
} from "./metadata";
import { serializeParentLocator, VHDX_PARENT_LOCATOR_TYPE } from "./parentLocator";
import { BAT_REGION_GUID, METADATA_REGION_GUID, REGION_TABLE_OFFSETS, serializeRegionTable } from "./regionTable";

export const CREATOR = "VHDX Studio 0.1.0";
export const DEFAULT_BLOCK_SIZE = 32 * MiB;
export const DEFAULT_LOG_SIZE = MiB;
export const METADATA_REGION_SIZE = MiB;
/** Large BAT writes go out in pieces of this size. */
const BAT_CHUNK = 4 * MiB;

/** What the new differencing image needs to know about its parent (§2.6.2.6.3, §2.6.1.2 IsVirtualDisk). */
export interface ParentInfo {
  /** The parent's current DataWriteGuid; becomes parent_linkage. */
  dataWriteGuid: Guid;
  virtualDiskSize: number;
  virtualDiskId: Guid;
  logicalSectorSize: number;
  physicalSectorSize: number;
  /** Locator paths (Windows form, "\\" separators). At least one is required. */
  relativePath?: string;
  volumePath?: string;
  absoluteWin32Path?: string;
  /**
   * §2.6.1.2: the parent's metadata items with IsVirtualDisk set that the new image does not write
   * itself (the virtual disk size, id and sector sizes come from the fields above), user items and
   * items of GUIDs unknown here alike. "When forking, an implementation MUST copy all metadata
   * items with this field set."
   */
  virtualDiskItems?: ForkedItem[];
}

/** A metadata item copied from the parent as it is: its key, flags and bytes. */
export interface ForkedItem {
  itemId: Guid;
  isUser: boolean;
  isRequired: boolean;
  bytes: Uint8Array;
}

/** The system items a new image writes from its own options (the parent's values, for a child). */
const WRITTEN_BY_CREATE = new Set<Guid>([
  FILE_PARAMETERS_GUID,
  VIRTUAL_DISK_SIZE_GUID,
  VIRTUAL_DISK_ID_GUID,
  LOGICAL_SECTOR_SIZE_GUID,
  PHYSICAL_SECTOR_SIZE_GUID,
  PARENT_LOCATOR_GUID,
]);

/**
 * §2.6.1.2: the parent's IsVirtualDisk items a child must carry, read item by item (each at most
 * 1 MiB, §2.6.1.2 Length), at most the child's metadata region in all.
 */
export async function virtualDiskItemsOf(parent: VhdxImage): Promise<ForkedItem[]> {
  const out: ForkedItem[] = [];
  let total = 0;
  for (const e of parent.metadataTable.entries) {
    if (!e.isVirtualDisk || (!e.isUser && WRITTEN_BY_CREATE.has(e.itemId))) continue;
    total += alignUp(e.length, 8);
    if (total > METADATA_REGION_SIZE - METADATA_TABLE_SIZE)
      bad("the parent's IsVirtualDisk metadata items do not fit a new image's 1 MiB metadata region");
    const bytes = await parent.io.read(parent.metadataRegion.fileOffset + e.offset, e.length);
    out.push({ itemId: e.itemId, isUser: e.isUser, isRequired: e.isRequired, bytes });
  }
  return out;
}

/** parentInfoOf with the parent's IsVirtualDisk items (§2.6.1.2): what forking a child needs. */
export async function forkInfoOf(
  parent: VhdxImage,
  paths: Pick<ParentInfo, "relativePath" | "volumePath" | "absoluteWin32Path">,
): Promise<ParentInfo> {
  return { ...parentInfoOf(parent, paths), virtualDiskItems: await virtualDiskItemsOf(parent) };
}

/**
 * What a differencing child records of `parent` (§2.6.2.6.3): its DataWriteGuid as the linkage,
 * its virtual disk size, id and sector sizes, and the locator `paths` given.
 */
export function parentInfoOf(
  parent: VhdxImage,
  paths: Pick<ParentInfo, "relativePath" | "volumePath" | "absoluteWin32Path">,
): ParentInfo {
  return {
    dataWriteGuid: parent.header.dataWriteGuid,
    virtualDiskSize: parent.virtualSize,
    virtualDiskId: parent.params.virtualDiskId,
    logicalSectorSize: parent.params.logicalSectorSize,
    physicalSectorSize: parent.params.physicalSectorSize,
    ...paths,
  };
}

export interface CreateOptions {
  type: "fixed" | "dynamic" | "differencing";
  /** Bytes; a multiple of the logical sector size, at most 64 TiB. Differencing images take the parent's. */
  virtualSize?: number;
  blockSize?: number;
  logicalSectorSize?: number;
  physicalSectorSize?: number;
  logSize?: number;
  parent?: ParentInfo;
  creator?: string;
  /** For reproducible tests; fresh random GUIDs otherwise. */
  virtualDiskId?: Guid;
}

/** Where each structure of a new image goes: everything 1 MiB aligned (§2.1). */
export interface CreateLayout {
  logOffset: number;
  logLength: number;
  metadataOffset: number;
  batOffset: number;
  batLength: number;
  /** Where the first payload block of a fixed image goes. */
  payloadOffset: number;
  fileSize: number;
  geometry: BatGeometry;
}

function bad(message: string): never {
  throw new VhdxError("INVALID_ARGUMENT", message, "create options");
}

/** Checks the options against §2.2.2 (log), §2.6.2.1–§2.6.2.5 (block and sector sizes, virtual size). */
export function resolveCreateOptions(
  o: CreateOptions,
): Required<Omit<CreateOptions, "parent">> & { parent?: ParentInfo } {
  const p = o.parent;
  if (o.type === "differencing" && !p) bad("a differencing image needs a parent");
  if (o.type !== "differencing" && p) bad(`a ${o.type} image has no parent`);
  const virtualSize = p ? p.virtualDiskSize : o.virtualSize;
  if (virtualSize === undefined) bad("the virtual size is required");
  if (p && o.virtualSize !== undefined && o.virtualSize !== p.virtualDiskSize) {
    bad(`a differencing image has its parent's virtual size (${p.virtualDiskSize} bytes), not ${o.virtualSize}`);
  }
  const blockSize = o.blockSize ?? DEFAULT_BLOCK_SIZE;
  const logicalSectorSize = p ? p.logicalSectorSize : (o.logicalSectorSize ?? 512);
  const physicalSectorSize = p ? p.physicalSectorSize : (o.physicalSectorSize ?? 4096);
  if (p && o.logicalSectorSize !== undefined && o.logicalSectorSize !== p.logicalSectorSize) {
    bad(`a differencing image has its parent's logical sector size (${p.logicalSectorSize})`);
  }
  const logSize = o.logSize ?? DEFAULT_LOG_SIZE;
  // §2.6.2.1: BlockSize a power of two from 1 MiB to 256 MiB.
  if (
    !Number.isSafeInteger(blockSize) ||
    blockSize < MiB ||
    blockSize > 256 * MiB ||
    (blockSize & (blockSize - 1)) !== 0
  ) {
    bad(`block size ${blockSize} must be a power of two from 1 MiB to 256 MiB`);
  }
  // §2.6.2.4–5: 512 or 4096.
  if (logicalSectorSize !== 512 && logicalSectorSize !== 4096)
    bad(`logical sector size ${logicalSectorSize} must be 512 or 4096`);
  if (physicalSectorSize !== 512 && physicalSectorSize !== 4096)
    bad(`physical sector size ${physicalSectorSize} must be 512 or 4096`);
  // §2.6.2.2: at most 64 TiB, a multiple of the logical sector size.
  if (!Number.isSafeInteger(virtualSize) || virtualSize <= 0 || virtualSize > MAX_VIRTUAL_DISK_SIZE) {
    bad(`virtual size ${virtualSize} must be from 1 byte to 64 TiB`);
  }
  if (virtualSize % logicalSectorSize !== 0)
    bad(`virtual size ${virtualSize} must be a multiple of the logical sector size ${logicalSectorSize}`);
  // §2.2.2 LogLength: a multiple of 1 MiB; 1 MiB is the smallest useful log.
  if (!Number.isSafeInteger(logSize) || logSize < MiB || logSize % MiB !== 0 || logSize >= 4 * 1024 * MiB) {
    bad(`log size ${logSize} must be a multiple of 1 MiB, at least 1 MiB and below 4 GiB`);
  }
  if (p && !p.relativePath && !p.volumePath && !p.absoluteWin32Path) bad("the parent locator needs at least one path");
  return {
    type: o.type,
    virtualSize,
    blockSize,
    logicalSectorSize,
    physicalSectorSize,
    logSize,
    parent: p,
    creator: o.creator ?? CREATOR,
    virtualDiskId: o.virtualDiskId ?? p?.virtualDiskId ?? newGuid(),
  };
}

export function createLayout(o: ReturnType<typeof resolveCreateOptions>): CreateLayout {
  const geometry = batGeometry(o.blockSize, o.logicalSectorSize, o.virtualSize, o.type === "differencing");
  const logOffset = MiB;
  const metadataOffset = logOffset + o.logSize;
  const batOffset = metadataOffset + METADATA_REGION_SIZE;
  const batLength = alignUp(geometry.totalBatEntries * BAT_ENTRY_SIZE, MiB);
  const payloadOffset = batOffset + batLength;
  const fileSize = o.type === "fixed" ? payloadOffset + geometry.dataBlocksCount * o.blockSize : payloadOffset;
  return { logOffset, logLength: o.logSize, metadataOffset, batOffset, batLength, payloadOffset, fileSize, geometry };
}

/** The metadata region's table and items (§2.6), items packed after the 64 KiB table. */
export function buildMetadataRegion(o: ReturnType<typeof resolveCreateOptions>): Uint8Array {
  const items: { guid: Guid; bytes: Uint8Array; isVirtualDisk: boolean; isUser?: boolean; isRequired?: boolean }[] = [
    {
      guid: FILE_PARAMETERS_GUID,
      bytes: serializeFileParameters({
        blockSize: o.blockSize,
        leaveBlockAllocated: o.type === "fixed",
        hasParent: o.type === "differencing",
      }),
      isVirtualDisk: false,
    },
    { guid: VIRTUAL_DISK_SIZE_GUID, bytes: serializeVirtualDiskSize(o.virtualSize), isVirtualDisk: true },
    { guid: VIRTUAL_DISK_ID_GUID, bytes: serializeGuidItem(o.virtualDiskId), isVirtualDisk: true },
    { guid: LOGICAL_SECTOR_SIZE_GUID, bytes: serializeU32(o.logicalSectorSize), isVirtualDisk: true },
    { guid: PHYSICAL_SECTOR_SIZE_GUID, bytes: serializeU32(o.physicalSectorSize), isVirtualDisk: true },
  ];
  if (o.parent) items.push({ guid: PARENT_LOCATOR_GUID, bytes: parentLocatorItem(o.parent), isVirtualDisk: false });
  for (const it of o.parent?.virtualDiskItems ?? []) {
    if (!it.isUser && WRITTEN_BY_CREATE.has(it.itemId)) continue;
    items.push({ guid: it.itemId, bytes: it.bytes, isVirtualDisk: true, isUser: it.isUser, isRequired: it.isRequired });
  }
  const region = new Uint8Array(METADATA_REGION_SIZE);
  const entries: MetadataTableEntry[] = [];
  let at = METADATA_TABLE_SIZE;
  for (const it of items) {
    // §2.6.1.2: a present but empty item has offset 0.
    const empty = it.bytes.length === 0;
    if (!empty && at + it.bytes.length > METADATA_REGION_SIZE)
      bad("the parent locator paths and the parent's metadata items are too long for the metadata region");
    if (!empty) region.set(it.bytes, at);
    // §2.6.2: every known item is a system item and required; copied items keep their flags.
    entries.push({
      itemId: it.guid,
      offset: empty ? 0 : at,
      length: it.bytes.length,
      isUser: it.isUser ?? false,
      isVirtualDisk: it.isVirtualDisk,
      isRequired: it.isRequired ?? true,
    });
    if (!empty) at = alignUp(at + it.bytes.length, 8);
  }
  if (entries.length > METADATA_MAX_ENTRIES)
    bad(
      `the new image would need ${entries.length} metadata entries; a table holds ${METADATA_MAX_ENTRIES} (§2.6.1.1)`,
    );
  region.set(serializeMetadataTable(entries), 0);
  return region;
}

/** §2.6.2.6.3: parent_linkage is the parent's DataWriteGuid, lowercase in braces; then the paths. */
export function parentLocatorItem(p: ParentInfo): Uint8Array {
  const pairs: [string, string][] = [["parent_linkage", `{${p.dataWriteGuid.toLowerCase()}}`]];
  if (p.relativePath) pairs.push(["relative_path", p.relativePath]);
  if (p.volumePath) pairs.push(["volume_path", p.volumePath]);
  if (p.absoluteWin32Path) pairs.push(["absolute_win32_path", p.absoluteWin32Path]);
  return serializeParentLocator(VHDX_PARENT_LOCATOR_TYPE, pairs);
}

/**
 * Creates a new VHDX file on `io` (which should be empty; anything there is discarded).
 * Fixed images get every payload block FULLY_PRESENT and contiguous; dynamic and differencing
 * images start with an all-zero BAT. The file is extended with truncate, so backends that
 * support sparse files leave the zero ranges unallocated.
 */
export async function createImage(
  io: RandomAccess,
  options: CreateOptions,
  how: CreateHow = {},
): Promise<CreateLayout> {
  const o = resolveCreateOptions(options);
  const layout = createLayout(o);
  await discardContents(io);
  await io.truncate(layout.fileSize);
  // Zero runs are not written: the file was just extended with zeros (and stays sparse where it can).
  await writeNonZeroRuns(io, layout.metadataOffset, buildMetadataRegion(o));
  if (o.type === "fixed") await writeFixedBat(io, layout);
  if (how.deferHeaderSection) return layout;
  // The header section goes last: until it is written the file is not a VHDX file at all.
  await io.flush();
  await writeHeaderSection(io, layout, o.creator);
  await io.flush();
  return layout;
}

export interface CreateHow {
  /**
   * Leave the header section out: the caller fills the image first and writes it last with
   * writeHeaderSection(), so an interrupted job never leaves a file that looks like a finished VHDX.
   */
  deferHeaderSection?: boolean;
}

/** §2.2: file type identifier, both headers (sequence 0 and 1) and both region table copies. */
export async function writeHeaderSection(io: RandomAccess, layout: CreateLayout, creator = CREATOR): Promise<void> {
  const section = new Uint8Array(MiB);
  section.set(serializeFileIdentifier({ creator }), 0);
  const fileWriteGuid = newGuid();
  const dataWriteGuid = newGuid();
  for (let i = 0; i < 2; i++) {
    const h = serializeHeader({
      sequenceNumber: BigInt(i),
      fileWriteGuid,
      dataWriteGuid,
      logGuid: ZERO_GUID,
      logVersion: LOG_VERSION,
      version: HEADER_VERSION,
      logLength: layout.logLength,
      logOffset: layout.logOffset,
    });
    section.set(h, HEADER_OFFSETS[i]);
  }
  const regions = serializeRegionTable([
    { guid: BAT_REGION_GUID, fileOffset: layout.batOffset, length: layout.batLength, required: 1 },
    { guid: METADATA_REGION_GUID, fileOffset: layout.metadataOffset, length: METADATA_REGION_SIZE, required: 1 },
  ]);
  for (const at of REGION_TABLE_OFFSETS) section.set(regions, at);
  await writeNonZeroRuns(io, 0, section);
}

/** §2.5: every payload entry FULLY_PRESENT, blocks back to back after the BAT; chunked writes. */
async function writeFixedBat(io: RandomAccess, layout: CreateLayout): Promise<void> {
  const g = layout.geometry;
  const entriesPerChunk = BAT_CHUNK / BAT_ENTRY_SIZE;
  for (let first = 0; first < g.totalBatEntries; first += entriesPerChunk) {
    const n = Math.min(entriesPerChunk, g.totalBatEntries - first);
    const chunk = new Uint8Array(n * BAT_ENTRY_SIZE);
    const dv = view(chunk);
    for (let k = 0; k < n; k++) {
      const index = first + k;
      if (isSectorBitmapEntry(g, index)) continue; // no parent: sector bitmap entries stay NOT_PRESENT
      const mb = (layout.payloadOffset + blockOfEntry(g, index) * g.blockSize) / MiB;
      // §2.5.1: State in bits 0–2, FileOffsetMB in bits 20–63.
      dv.setUint32(k * 8, (PAYLOAD_BLOCK_FULLY_PRESENT | ((mb % 4096) << 20)) >>> 0, true);
      dv.setUint32(k * 8 + 4, Math.floor(mb / 4096), true);
    }
    await io.write(layout.batOffset + first * BAT_ENTRY_SIZE, chunk);
  }
}
