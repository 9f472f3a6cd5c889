import {
  BAT_ENTRY_SIZE,
  batGeometry,
  BatGeometry,
  encodeBatEntry,
  isSectorBitmapEntry,
  PAYLOAD_BLOCK_FULLY_PRESENT,
  PAYLOAD_BLOCK_PARTIALLY_PRESENT,
  payloadEntryIndex,
  SB_BLOCK_PRESENT,
  SECTORS_PER_BITMAP_BLOCK,
  sectorBitmapEntryIndex,
} from "./bat";
import { SECTOR } from "./batUpdate";
import { alignUp, isAllZero, MiB, view, writeU64 } from "./bytes";
import type { Progress } from "./convert";
import { hex, VhdxError } from "./errors";
import type { VhdxImage } from "./image";
import { MetadataUpdate, OverlayBackend } from "./log";
import { ensureLogRoom } from "./logResize";
import { MAX_VIRTUAL_DISK_SIZE, systemItem, VIRTUAL_DISK_SIZE_GUID } from "./metadata";
import { throwIfAborted } from "./pump";
import { BAT_REGION_GUID, REGION_TABLE_OFFSETS, serializeRegionTable } from "./regionTable";
import { readStructures, reloadStructures } from "./structurePatch";
import type { VhdxWriter } from "./write";

/** Pieces of the virtual disk read, and of a BAT written, at a time. */
const PIECE = 4 * MiB;
/** Each region table copy is 64 KiB: 16 log sectors. */
const REGION_TABLE_SIZE_SECTORS = 16;

export interface ResizeOptions {
  /** Shrink even when blocks past the new end hold data: they are dropped. */
  force?: boolean;
  onProgress?: (p: Progress) => void;
  /** Honoured up to the commit; once the log entry is being written the resize completes. */
  signal?: AbortSignal;
}

/** What a resize changes, known before anything is written. */
export interface ResizePlan {
  from: number;
  to: number;
  /** BAT entries whose value changes (a moved BAT counts every entry it carries). */
  batEntriesChanged: number;
  bat: { from: { offset: number; length: number }; to: { offset: number; length: number }; moved: boolean };
  /** Payload blocks a fixed image allocates (FULLY_PRESENT, zeros). */
  blocksAllocated: number;
  /** Blocks past the new end that hold space of their own and are dropped (a shrink). */
  blocksDropped: number;
  /** 4 KiB sectors committed through the log (BAT, sector bitmap, metadata, both region tables). */
  logSectors: number;
  /** Bytes written besides the log: a new or grown BAT region, zeros in the old last block. */
  directBytes: number;
  /** The file's size afterwards (space for a fixed image's new blocks is allocated sparse where the storage can). */
  fileSize: number;
}

/** A change to one BAT entry. */
interface Entry {
  state: number;
  fileOffsetMB: number;
}

const ZERO_ENTRY: Entry = { state: 0, fileOffsetMB: 0 };

interface Work {
  plan: ResizePlan;
  geometry: BatGeometry;
  changes: Map<number, Entry>;
  /** Sector bitmap sectors (file offsets) and the bit range [from, to) of each to clear. */
  clearBits: { fileOffset: number; length: number; firstBit: number }[];
  /** The old last block's bytes past the old end, zeroed before the commit (a grow). */
  zeroTail: { fileOffset: number; length: number } | null;
  /** Where a fixed image's first new block goes. */
  newBlocksAt: number;
}

/** §2.6.2.2: a multiple of the logical sector size, from one sector to 64 TiB. */
export function resizeSizeProblem(img: VhdxImage, size: number): string | null {
  const ss = img.params.logicalSectorSize;
  if (!Number.isSafeInteger(size) || size < ss) return `the new size must be at least one logical sector (${ss} bytes)`;
  if (size > MAX_VIRTUAL_DISK_SIZE) return "the new size must be at most 64 TiB (§2.6.2.2)";
  if (size % ss !== 0) return `the new size must be a multiple of the logical sector size, ${ss} bytes (§2.6.2.2)`;
  return null;
}

/** What resizing to `size` would change; reads nothing but the open image's structures (and the BAT region's unused tail). */
export async function planResize(img: VhdxImage, size: number): Promise<ResizePlan> {
  return (await prepare(img, size)).plan;
}

async function prepare(img: VhdxImage, size: number): Promise<Work> {
  const problem = resizeSizeProblem(img, size);
  if (problem) throw new VhdxError("RESIZE_INVALID_SIZE", `${problem}, not ${size}`, "metadata: Virtual Disk Size");
  const old = img.geometry;
  const bs = img.blockSize;
  const g = batGeometry(bs, old.logicalSectorSize, size, img.diskType === "differencing");
  const fixed = img.diskType === "fixed";
  const changes = new Map<number, Entry>();
  const raw = (i: number): Entry =>
    i < img.bat.length ? { state: img.bat.state(i), fileOffsetMB: img.bat.fileOffsetMB(i) } : ZERO_ENTRY;
  let blocksDropped = 0;
  // Blocks past the new end (and every entry past the new BAT's last) lose their state and space.
  for (let b = g.dataBlocksCount; b < old.dataBlocksCount; b++) {
    const i = payloadEntryIndex(old, b);
    const e = raw(i);
    if (e.state !== 0 || e.fileOffsetMB !== 0) {
      changes.set(i, ZERO_ENTRY);
      if (e.fileOffsetMB !== 0) blocksDropped++;
    }
  }
  for (let i = g.totalBatEntries; i < old.totalBatEntries; i++) {
    const e = raw(i);
    if (e.state !== 0 || e.fileOffsetMB !== 0) changes.set(i, ZERO_ENTRY);
  }
  // A grow: new entries are NOT_PRESENT (fixed: FULLY_PRESENT blocks, placed below). The old
  // region's bytes past its last entry are read (bounded by the region) so only non-zero ones change.
  const grownEntries: number[] = [];
  const regionEntries = img.batRegion.length / BAT_ENTRY_SIZE;
  const tailEnd = Math.min(g.totalBatEntries, regionEntries, Math.floor((img.fileSize - img.batRegion.fileOffset) / 8));
  const tail =
    tailEnd > old.totalBatEntries
      ? await img.file.read(img.batRegion.fileOffset + old.totalBatEntries * 8, (tailEnd - old.totalBatEntries) * 8)
      : new Uint8Array(0);
  for (let i = old.totalBatEntries; i < g.totalBatEntries; i++) {
    if (fixed && !isSectorBitmapEntry(g, i)) grownEntries.push(i);
    else if (
      i >= tailEnd ||
      !isAllZero(tail.subarray((i - old.totalBatEntries) * 8, (i - old.totalBatEntries + 1) * 8))
    )
      changes.set(i, ZERO_ENTRY);
  }
  // Entries the old BAT covered for blocks past the old end (a differencing chunk's tail).
  for (let b = old.dataBlocksCount; b < g.dataBlocksCount; b++) {
    const i = payloadEntryIndex(g, b);
    if (i >= old.totalBatEntries) break;
    const e = raw(i);
    if (e.state !== 0 || e.fileOffsetMB !== 0) changes.set(i, ZERO_ENTRY);
  }

  const oldBat = { offset: img.batRegion.fileOffset, length: img.batRegion.length };
  const batLength = Math.max(oldBat.length, alignUp(g.totalBatEntries * BAT_ENTRY_SIZE, MiB));
  let fileEnd = alignUp(Math.max(img.fileSize, img.registry.end()), MiB);
  let batOffset = oldBat.offset;
  let directBytes = 0;
  if (batLength > oldBat.length) {
    const gaps = img.registry.freeGaps(fileEnd + batLength, MiB);
    const tail = oldBat.offset + oldBat.length;
    const after = gaps.find((x) => x.start === tail && x.length >= batLength - oldBat.length);
    if (after) directBytes = batLength - oldBat.length;
    else {
      const gap = gaps.find((x) => x.start >= MiB && x.length >= batLength);
      batOffset = gap ? gap.start : fileEnd;
      directBytes = batLength;
    }
    fileEnd = Math.max(fileEnd, batOffset + batLength);
  }
  const newBlocksAt = fileEnd;
  grownEntries.forEach((i, k) => {
    // A fixed image's new payload blocks: contiguous after everything else, zeros (the file grows over them).
    changes.set(i, { state: PAYLOAD_BLOCK_FULLY_PRESENT, fileOffsetMB: (newBlocksAt + k * bs) / MiB });
  });
  const fileSize = Math.max(img.fileSize, newBlocksAt + grownEntries.length * bs, batOffset + batLength);

  // The boundary block: its bytes past the old end must read as zeros once they are inside the disk.
  const clearBits: Work["clearBits"] = [];
  let zeroTail: Work["zeroTail"] = null;
  const low = Math.min(img.virtualSize, size);
  const lastBlock = Math.floor((img.virtualSize - 1) / bs);
  const loc = img.blockLocation(lastBlock);
  if (size > img.virtualSize && img.virtualSize % bs !== 0 && loc.state === PAYLOAD_BLOCK_FULLY_PRESENT) {
    const inBlock = img.virtualSize % bs;
    zeroTail = { fileOffset: loc.fileOffset + inBlock, length: bs - inBlock };
    directBytes += zeroTail.length;
  }
  // §2.4: a differencing image's sector bitmap bits past the boundary are cleared (the parent's, or zeros).
  if (img.diskType === "differencing") {
    const ss = old.logicalSectorSize;
    const chunk = Math.floor(low / ss / SECTORS_PER_BITMAP_BLOCK);
    const sbIndex = sectorBitmapEntryIndex(old, chunk);
    if (chunk < old.sectorBitmapBlocksCount && img.bat.state(sbIndex) === SB_BLOCK_PRESENT) {
      const firstBit = low / ss - chunk * SECTORS_PER_BITMAP_BLOCK;
      if (firstBit > 0) {
        const at = img.bat.fileOffsetMB(sbIndex) * MiB;
        clearBits.push({ fileOffset: at, length: MiB, firstBit });
      }
    }
  }

  const movedOrGrown = batOffset !== oldBat.offset;
  let logSectors = 2 * REGION_TABLE_SIZE_SECTORS + 1;
  const batSectors = new Set<number>();
  for (const i of changes.keys()) {
    const at = i * BAT_ENTRY_SIZE;
    if (!movedOrGrown && at < oldBat.length) batSectors.add(Math.floor(at / SECTOR));
  }
  logSectors += batSectors.size;
  for (const c of clearBits) logSectors += Math.ceil((c.length - Math.floor(c.firstBit / 8)) / SECTOR);
  return {
    plan: {
      from: img.virtualSize,
      to: size,
      batEntriesChanged: movedOrGrown ? g.totalBatEntries : changes.size,
      bat: { from: oldBat, to: { offset: batOffset, length: batLength }, moved: movedOrGrown },
      blocksAllocated: grownEntries.length,
      blocksDropped,
      logSectors,
      directBytes,
      fileSize,
    },
    geometry: g,
    changes,
    clearBits,
    zeroTail,
    newBlocksAt,
  };
}

/**
 * Changes VirtualDiskSize (§2.6.2.2) of an open image, all or nothing across a crash (§2.3):
 *
 * 1. a shrink is refused while a block past the new end holds data (unless `force`);
 * 2. the log is grown first when the commit would not fit it (ensureLogRoom);
 * 3. space no reader sees yet is written and flushed: a BAT region that moves (or grows into free
 *    space after itself), zeros in the old last block past the old end, a fixed image's new blocks
 *    (the file grows over them, so they read as zeros);
 * 4. ONE log entry switches everything a reader sees: the BAT entries, both region table copies
 *    (when the BAT region moved or grew), sector bitmap bits and the Virtual Disk Size item.
 *
 * A crash before the entry is whole leaves the old image (perhaps with a longer file); after it,
 * replay gives the resized one. The file system inside the disk is not touched.
 */
export async function resizeImage(writer: VhdxWriter, size: number, o: ResizeOptions = {}): Promise<ResizePlan> {
  const first = await prepare(writer.image, size);
  if (first.plan.from === size) return first.plan;
  await ensureLogRoom(writer, first.plan.logSectors, "the resize");
  return writer.mutex.run(async () => {
    const img = writer.image;
    const w = await prepare(img, size);
    const total = (size < img.virtualSize ? img.virtualSize - size : 0) + w.plan.directBytes;
    let done = 0;
    const progress = (n: number) => {
      done += n;
      o.onProgress?.({ done, total });
    };
    if (size < img.virtualSize && !o.force) await refuseDataPastEnd(img, size, o.signal, progress);
    throwIfAborted(o.signal, "resize");
    await writer.beginDataWrite();
    const file = img.file;
    const startSize = await file.size();
    let committing = false;
    try {
      if (w.zeroTail) {
        await file.write(w.zeroTail.fileOffset, new Uint8Array(w.zeroTail.length));
        progress(w.zeroTail.length);
      }
      if ((await file.size()) < w.plan.fileSize) await file.truncate(w.plan.fileSize);
      await writeBatOutsideLog(img, w, o.signal, progress);
      const sectors = await logSectors(img, w);
      await checkResult(img, sectors, size);
      await writer.log.flushData();
      throwIfAborted(o.signal, "resize");
      committing = true;
      await writer.commitSectors(sectors, () => reloadStructures(writer), w.plan.fileSize);
    } catch (e) {
      // Nothing references space past the old end until the entry is in the log: give it back.
      if (!committing && (await file.size()) > startSize) {
        await file.truncate(startSize);
        img.fileSize = startSize;
      }
      throw e;
    }
    o.onProgress?.({ done: total, total });
    return w.plan;
  });
}

/** RESIZE_DATA_PAST_END naming the first byte past `size` the image itself holds, if any. */
async function refuseDataPastEnd(
  img: VhdxImage,
  size: number,
  signal: AbortSignal | undefined,
  progress: (n: number) => void,
): Promise<void> {
  const bs = img.blockSize;
  for (let b = Math.floor(size / bs); b * bs < img.virtualSize; b++) {
    const start = Math.max(size, b * bs);
    const end = Math.min((b + 1) * bs, img.virtualSize);
    const { state } = img.blockLocation(b);
    const present = state === PAYLOAD_BLOCK_FULLY_PRESENT || state === PAYLOAD_BLOCK_PARTIALLY_PRESENT;
    if (present && img.diskType === "differencing") {
      // The child's own sectors: a FULLY_PRESENT block, or a PARTIALLY_PRESENT one's sectors with their bit set.
      if (state === PAYLOAD_BLOCK_FULLY_PRESENT) fail(start);
      const ss = img.params.logicalSectorSize;
      const bitmap = await img.sectorBitmap(Math.floor(b / img.geometry.chunkRatio));
      const base = (b % img.geometry.chunkRatio) * (bs / ss) - (b * bs) / ss;
      for (let s = start / ss; s < end / ss; s++) {
        const bit = base + s;
        if ((bitmap[bit >>> 3] >>> (bit & 7)) & 1) fail(s * ss);
      }
    } else if (present) {
      for (let at = start; at < end; at += PIECE) {
        throwIfAborted(signal, "resize");
        const bytes = await img.read(at, Math.min(PIECE, end - at));
        const k = bytes.findIndex((x) => x !== 0);
        if (k >= 0) fail(at + k);
      }
    }
    progress(end - start);
  }
  function fail(at: number): never {
    throw new VhdxError(
      "RESIZE_DATA_PAST_END",
      `the virtual disk holds data at ${hex(at)}, past the new end ${hex(size)}; shrink with force to drop it`,
      "virtual disk",
      at,
    );
  }
}

/**
 * A BAT region that moved or grew: its part outside the old region is written directly (no reader
 * looks there until the region table names it); what the old region holds is copied or, when the
 * region grows in place, its changes go through the log (returned as sectors).
 */
async function writeBatOutsideLog(
  img: VhdxImage,
  w: Work,
  signal: AbortSignal | undefined,
  progress: (n: number) => void,
): Promise<void> {
  const { bat } = w.plan;
  if (!bat.moved && bat.to.length === bat.from.length) return;
  const sameStart = bat.to.offset === bat.from.offset;
  const copyEnd = Math.min(img.geometry.totalBatEntries, w.geometry.totalBatEntries) * BAT_ENTRY_SIZE;
  const fileSizeBefore = img.fileSize;
  for (let at = sameStart ? bat.from.length : 0; at < bat.to.length; at += PIECE) {
    throwIfAborted(signal, "resize");
    const n = Math.min(PIECE, bat.to.length - at);
    const buf = new Uint8Array(n);
    if (at < copyEnd) buf.set(await img.file.read(bat.from.offset + at, Math.min(n, copyEnd - at)));
    applyChanges(buf, at, w.changes);
    const dest = bat.to.offset + at;
    // Space the file just grew over is zeros already; anywhere else every byte is written.
    if (!(dest >= fileSizeBefore && isAllZero(buf))) await img.file.write(dest, buf);
    progress(n);
  }
}

/** Writes the entries of `changes` that fall in [at, at + buf.length) of the BAT into `buf`. */
function applyChanges(buf: Uint8Array, at: number, changes: Map<number, Entry>): void {
  const first = at / BAT_ENTRY_SIZE;
  const last = (at + buf.length) / BAT_ENTRY_SIZE;
  for (const [i, e] of changes)
    if (i >= first && i < last) buf.set(encodeBatEntry(e.state, e.fileOffsetMB), i * BAT_ENTRY_SIZE - at);
}

/** The sectors of the one log entry: BAT changes in the old region, bitmap bits, region tables, metadata. */
async function logSectors(img: VhdxImage, w: Work): Promise<MetadataUpdate[]> {
  const sectors = new Map<number, Uint8Array>();
  const sector = async (at: number) => {
    let s = sectors.get(at);
    if (!s) sectors.set(at, (s = await img.file.read(at, SECTOR)));
    return s;
  };
  const { bat } = w.plan;
  const inPlace = bat.to.offset === bat.from.offset;
  if (inPlace) {
    for (const [i, e] of w.changes) {
      const at = i * BAT_ENTRY_SIZE;
      if (at >= bat.from.length) continue;
      const s = await sector(bat.from.offset + at - (at % SECTOR));
      s.set(encodeBatEntry(e.state, e.fileOffsetMB), at % SECTOR);
    }
  }
  for (const c of w.clearBits) {
    for (let bit = c.firstBit; bit < c.length * 8;) {
      const at = c.fileOffset + Math.floor(bit / 8 / SECTOR) * SECTOR;
      const s = await img.file.read(at, SECTOR);
      const firstInSector = bit - (at - c.fileOffset) * 8;
      const before = s.slice();
      clearBitRun(s, firstInSector, SECTOR * 8 - firstInSector);
      if (!isAllZero(before) || !isAllZero(s)) sectors.set(at, s);
      bit = (at - c.fileOffset + SECTOR) * 8;
    }
  }
  if (bat.to.offset !== bat.from.offset || bat.to.length !== bat.from.length) {
    const entries = img.regions.map((r) =>
      r.guid === BAT_REGION_GUID ? { ...r, fileOffset: bat.to.offset, length: bat.to.length } : r,
    );
    const table = serializeRegionTable(entries);
    for (const base of REGION_TABLE_OFFSETS)
      for (let k = 0; k < table.length; k += SECTOR) sectors.set(base + k, table.slice(k, k + SECTOR));
  }
  const item = systemItem(img.metadataTable, VIRTUAL_DISK_SIZE_GUID);
  if (!item) throw new VhdxError("METADATA_MISSING", "no Virtual Disk Size item", "metadata");
  const at = img.metadataRegion.fileOffset + item.offset;
  const s = await sector(at - (at % SECTOR));
  writeU64(view(s), at % SECTOR, w.plan.to);
  return [...sectors.entries()].sort((a, b) => a[0] - b[0]).map(([fileOffset, data]) => ({ fileOffset, data }));
}

/** Clears `count` bits from bit `first` (LSB first within each byte, §2.4). */
function clearBitRun(bytes: Uint8Array, first: number, count: number): void {
  for (let bit = first; bit < first + count; bit++) bytes[bit >>> 3] &= ~(1 << (bit & 7));
}

/** The resized image must open as the open path reads it, with the new size and no overlap. */
async function checkResult(img: VhdxImage, sectors: readonly MetadataUpdate[], size: number): Promise<void> {
  const overlay = await OverlayBackend.over(img.file);
  for (const s of sectors) await overlay.write(s.fileOffset, s.data);
  const after = await readStructures(overlay);
  if (after.params.virtualDiskSize !== size || after.overlaps.length > 0) {
    throw new VhdxError("PATCH_INVALID", "the resized structures do not read back as planned", "resize");
  }
}
