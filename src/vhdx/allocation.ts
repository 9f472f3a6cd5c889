import { PAYLOAD_BLOCK_FULLY_PRESENT, PAYLOAD_BLOCK_NOT_PRESENT, PAYLOAD_BLOCK_PARTIALLY_PRESENT } from "./bat";
import { VhdxError } from "./errors";
import { checkRange, type ByteRange, type VhdxImage, type VirtualDisk } from "./image";

/** Something bytes can be read from at an offset: a file backend, or a virtual disk. */
export interface ByteSource {
  read(offset: number, length: number): Promise<Uint8Array>;
  readInto?(offset: number, target: Uint8Array): Promise<void>;
}

/**
 * A run [start, end) of the virtual disk and where its bytes are: `from` at `at` holds the byte at
 * `start` and the rest follow; `data` null when the run reads as zeros without reading anything
 * (no image of a chain holds it, or the image that decides it says zero).
 */
export interface DiskExtent {
  start: number;
  end: number;
  data: { from: ByteSource; at: number } | null;
}

/**
 * The extents of [offset, offset + length) in order, end to end, adjacent ones merged: what a
 * whole-disk copy needs to read and what it can skip. A disk that maps itself (`extents`, as a
 * VhdxImage does) is asked; otherwise its known zero ranges are zeros and the rest is read from it.
 */
export async function* diskExtents(disk: VirtualDisk, offset: number, length: number): AsyncGenerator<DiskExtent> {
  checkRange(offset, length, disk.virtualSize, "virtual disk");
  if (disk.extents) {
    yield* disk.extents(offset, length);
    return;
  }
  const end = offset + length;
  let pos = offset;
  const zeros = disk.knownZeroRanges ? await disk.knownZeroRanges() : [];
  for (const z of zeros) {
    if (pos >= end) break;
    if (z.end <= pos) continue;
    const zs = Math.max(z.start, pos);
    if (zs >= end) break;
    if (zs > pos) yield { start: pos, end: zs, data: { from: disk, at: pos } };
    pos = Math.min(z.end, end);
    yield { start: zs, end: pos, data: null };
  }
  if (pos < end) yield { start: pos, end, data: { from: disk, at: pos } };
}

/** Joins touching extents that read as zeros, or from one source at consecutive offsets. */
class ExtentMerger {
  private pending: DiskExtent | null = null;

  /** Takes the next extent; returns the one before it when the two could not be joined. */
  add(e: DiskExtent): DiskExtent | null {
    const p = this.pending;
    if (e.end <= e.start) return null;
    if (p && p.end === e.start) {
      const bothZero = p.data === null && e.data === null;
      const contiguous =
        p.data !== null &&
        e.data !== null &&
        p.data.from === e.data.from &&
        p.data.at + (p.end - p.start) === e.data.at;
      if (bothZero || contiguous) {
        p.end = e.end;
        return null;
      }
    }
    this.pending = { start: e.start, end: e.end, data: e.data };
    return p;
  }

  finish(): DiskExtent | null {
    const p = this.pending;
    this.pending = null;
    return p;
  }
}

/**
 * The extents of a VHDX image, from its BAT alone (and sector bitmaps, and the parents'): the same
 * rules as VhdxImage.read (§2.5.1.1). FULLY_PRESENT: the image's own bytes. PARTIALLY_PRESENT in a
 * differencing image: per sector, by the sector bitmap (§2.4), the image's bytes or the parent's
 * extents. NOT_PRESENT in a differencing image: the parent's extents. Every other state (NOT_PRESENT
 * in a base image, ZERO, UNMAPPED, UNDEFINED) reads as zeros, whatever the parents hold. So a range
 * is read only where the image that supplies it has data: an empty disk of any size maps to one
 * zero extent after one pass over its BAT, and nothing is read.
 */
export async function* imageExtents(img: VhdxImage, offset: number, length: number): AsyncGenerator<DiskExtent> {
  checkRange(offset, length, img.virtualSize, "virtual disk");
  const end = offset + length;
  const bs = img.blockSize;
  const differencing = img.diskType === "differencing";
  const merger = new ExtentMerger();
  let done: DiskExtent | null;
  // A run of NOT_PRESENT blocks is asked of the parent once, not block by block.
  let deferredFrom = -1;
  let pos = offset;
  // One pass over the blocks of the range: bounded by the BAT's payload entries.
  while (pos < end) {
    const block = Math.floor(pos / bs);
    const blockEnd = Math.min(end, (block + 1) * bs);
    const { entry, state, fileOffset } = img.blockLocation(block);
    if (differencing && state === PAYLOAD_BLOCK_NOT_PRESENT) {
      if (deferredFrom < 0) deferredFrom = pos;
      pos = blockEnd;
      continue;
    }
    if (deferredFrom >= 0) {
      for await (const e of parentExtents(img, deferredFrom, pos)) if ((done = merger.add(e))) yield done;
      deferredFrom = -1;
    }
    const inBlock = pos - block * bs;
    if (state === PAYLOAD_BLOCK_FULLY_PRESENT) {
      img.checkInFile(entry, fileOffset + inBlock, blockEnd - pos);
      done = merger.add({ start: pos, end: blockEnd, data: { from: img.io, at: fileOffset + inBlock } });
      if (done) yield done;
    } else if (differencing && state === PAYLOAD_BLOCK_PARTIALLY_PRESENT) {
      for (const run of await sectorRuns(img, block, inBlock, blockEnd - block * bs)) {
        const start = block * bs + run.start;
        const runEnd = block * bs + run.end;
        if (run.present) {
          img.checkInFile(entry, fileOffset + run.end, 0);
          done = merger.add({ start, end: runEnd, data: { from: img.io, at: fileOffset + run.start } });
          if (done) yield done;
        } else {
          for await (const e of parentExtents(img, start, runEnd)) if ((done = merger.add(e))) yield done;
        }
      }
    } else if ((done = merger.add({ start: pos, end: blockEnd, data: null }))) {
      yield done;
    }
    pos = blockEnd;
  }
  if (deferredFrom >= 0) {
    for await (const e of parentExtents(img, deferredFrom, end)) if ((done = merger.add(e))) yield done;
  }
  if ((done = merger.finish())) yield done;
}

function parentExtents(img: VhdxImage, start: number, end: number): AsyncGenerator<DiskExtent> {
  if (!img.parent) {
    throw new VhdxError(
      "PARENT_NOT_FOUND",
      "this differencing image has no parent attached; open it with its parent chain",
      "parent locator",
    );
  }
  return clampedExtents(img.parent, start, end);
}

/** A child larger than its parent (resized): the parent's extents, then zeros past its end. */
async function* clampedExtents(parent: VirtualDisk, start: number, end: number): AsyncGenerator<DiskExtent> {
  const mid = Math.max(start, Math.min(end, parent.virtualSize));
  if (mid > start) yield* diskExtents(parent, start, mid - start);
  if (end > mid) yield { start: mid, end, data: null };
}

/**
 * Byte runs [start, end) of [from, to) inside a block, each wholly present in the image (its
 * sector bitmap bits set, §2.4) or wholly absent (the parent's). Bounded by the block's sectors.
 */
async function sectorRuns(
  img: VhdxImage,
  block: number,
  from: number,
  to: number,
): Promise<{ start: number; end: number; present: boolean }[]> {
  const ss = img.params.logicalSectorSize;
  const g = img.geometry;
  const bitmap = await img.sectorBitmap(Math.floor(block / g.chunkRatio));
  const base = (block % g.chunkRatio) * (img.blockSize / ss);
  const bit = (s: number) => (bitmap[(base + s) >>> 3] >>> ((base + s) & 7)) & 1;
  const runs: { start: number; end: number; present: boolean }[] = [];
  const lastSector = Math.ceil(to / ss);
  let s = Math.floor(from / ss);
  while (s < lastSector) {
    const present = bit(s);
    let t = s + 1;
    while (t < lastSector) {
      // Eight sectors at once where their bits fill one byte of the bitmap with the same value.
      const b = base + t;
      if ((b & 7) === 0 && t + 8 <= lastSector && bitmap[b >>> 3] === (present ? 0xff : 0)) t += 8;
      else if (bit(t) === present) t++;
      else break;
    }
    runs.push({ start: Math.max(from, s * ss), end: Math.min(to, t * ss), present: present === 1 });
    s = t;
  }
  return runs;
}

/**
 * The ranges of [offset, offset + length) that may hold data: everything but the zero extents
 * (see imageExtents), adjacent ranges joined whichever image of a chain supplies them. A range
 * listed may still read as zeros (a block written with zeros); one left out certainly does.
 */
export async function allocatedRanges(disk: VirtualDisk, offset = 0, length?: number): Promise<ByteRange[]> {
  const out: ByteRange[] = [];
  for await (const e of diskExtents(disk, offset, length ?? disk.virtualSize - offset)) {
    if (!e.data) continue;
    const last = out[out.length - 1];
    if (last && last.end === e.start) last.end = e.end;
    else out.push({ start: e.start, end: e.end });
  }
  return out;
}

/**
 * Reads [offset, offset + target.length) of the disk into `target` by its extents: each data
 * extent straight from where it lies (into the caller's buffer where the source can), zeros for
 * the rest. The whole-disk copies' way of reading, for callers that bring their own buffer.
 */
export async function readExtentsInto(disk: VirtualDisk, offset: number, target: Uint8Array): Promise<void> {
  for await (const e of diskExtents(disk, offset, target.length)) {
    const into = target.subarray(e.start - offset, e.end - offset);
    if (!e.data) into.fill(0);
    else if (e.data.from.readInto) await e.data.from.readInto(e.data.at, into);
    else into.set(await e.data.from.read(e.data.at, into.length));
  }
}
