import { Bat, BAT_ENTRY_SIZE, payloadEntryIndex, PAYLOAD_BLOCK_FULLY_PRESENT } from "./bat";
import { alignUp, GiB, isAllZero, MiB, TiB } from "./bytes";
import { createImage, CreateOptions, writeHeaderSection } from "./create";
import type { VirtualDisk } from "./image";
import { discardContents, RandomAccess } from "./io";
import { pumpPieces } from "./pump";
import { writeNonZeroRuns } from "./sparse";

/** Progress of a long operation: bytes of the virtual disk handled so far, out of `total`. */
export interface Progress {
  done: number;
  total: number;
}

export interface StreamOptions {
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
  /**
   * Flush the output (default true). Without it, as with `qemu-img convert`, durability is
   * left to the operating system.
   */
  sync?: boolean;
}

/**
 * Virtual-disk bytes are read and written in pieces of at most this size: nothing holds the image.
 * 2 MiB rather than more: a piece just read is still largely in the processor's cache when it is
 * written out (measured on a loaded 2-core machine: 4 MiB pieces took over twice the time).
 */
export const PIECE = 2 * MiB;
/** A raw disk image seen as a virtual disk; a size that is not a whole sector reads as zero-padded. */
export function rawDisk(io: RandomAccess, size: number): VirtualDisk {
  const disk: VirtualDisk = { virtualSize: size, read: (offset, length) => io.read(offset, length) };
  if (io.readInto) disk.readInto = (offset, target) => io.readInto!(offset, target);
  return disk;
}

/**
 * The block size `convert` picks when none is given: small images get small blocks so that
 * sparse content stays small (8 MiB up to 1 GiB, 16 MiB up to 1 TiB, 32 MiB beyond).
 */
export function defaultConvertBlockSize(virtualSize: number): number {
  if (virtualSize <= GiB) return 8 * MiB;
  if (virtualSize <= TiB) return 16 * MiB;
  return 32 * MiB;
}

export interface ToVhdxOptions extends StreamOptions {
  type: "dynamic" | "fixed";
  blockSize?: number;
  logicalSectorSize?: number;
  physicalSectorSize?: number;
  logSize?: number;
  virtualDiskId?: string;
}

export interface ToVhdxResult {
  fileSize: number;
  allocatedBlocks: number;
  totalBlocks: number;
}

/**
 * Copies a virtual disk (raw file or VHDX image of any type) into a new VHDX file on `out`.
 * Dynamic: all-zero blocks stay NOT_PRESENT, the rest are packed in order after the BAT;
 * converting a VHDX this way also compacts it (free space and zero blocks are dropped).
 * Fixed: every block present. Within a block, all-zero pieces are not written: the file was
 * extended with zeros, and sparse-capable backends keep those ranges as holes.
 * The BAT follows the payload and the header section comes last, so an interrupted conversion
 * never leaves a file that opens as a VHDX.
 */
export async function convertToVhdx(source: VirtualDisk, out: RandomAccess, o: ToVhdxOptions): Promise<ToVhdxResult> {
  const ls = o.logicalSectorSize ?? 512;
  // A raw input that is not a whole number of sectors is padded with zeros to the next sector.
  const virtualSize = alignUp(source.virtualSize, ls);
  const blockSize = o.blockSize ?? defaultConvertBlockSize(virtualSize);
  const createOpts: CreateOptions = {
    type: o.type,
    virtualSize,
    blockSize,
    logicalSectorSize: ls,
    physicalSectorSize: o.physicalSectorSize,
    logSize: o.logSize,
    virtualDiskId: o.virtualDiskId,
  };
  const layout = await createImage(out, createOpts, { deferHeaderSection: true });
  const g = layout.geometry;
  const bat = new Bat(g, new Uint8Array(0), g.totalBatEntries);
  let fileEnd = layout.fileSize;
  let allocated = 0;
  const total = source.virtualSize;
  let block = -1;
  let blockOffset = -1;
  const serial = serialWrites(out);
  await pumpPieces(
    source,
    total,
    Math.min(PIECE, blockSize),
    (pos, bytes) => {
      // Decided in disk order, before any await: where this piece's block lives.
      if (Math.floor(pos / blockSize) !== block) {
        block = Math.floor(pos / blockSize);
        blockOffset = o.type === "fixed" ? layout.payloadOffset + block * blockSize : -1;
      }
      const at = pos - block * blockSize;
      o.onProgress?.({ done: pos + bytes.length, total });
      if (isAllZero(bytes)) return;
      if (blockOffset < 0) {
        // First data in this block: it takes the next 1 MiB-aligned block-sized space at the end.
        // The file is sized once at the end: writes past its end extend it, and one truncate
        // instead of one per block spares a metadata update each time. (Reserving the blocks with
        // data up front, as the raw output is sized first, measured no faster here.)
        blockOffset = fileEnd;
        fileEnd += blockSize;
        bat.set(payloadEntryIndex(g, block), PAYLOAD_BLOCK_FULLY_PRESENT, blockOffset / MiB);
        allocated++;
      }
      return writeNonZeroRuns(serial, blockOffset + at, bytes);
    },
    { signal: o.signal, what: "convert", skipped: (end) => o.onProgress?.({ done: end, total }) },
  );
  o.onProgress?.({ done: total, total });
  // A last block whose tail is zero was not written to its end.
  if ((await out.size()) < fileEnd) await out.truncate(fileEnd);
  if (o.type === "fixed") allocated = g.dataBlocksCount;
  if (o.type === "dynamic") await writeBat(out, layout.batOffset, bat);
  // Last, the header section: an interrupted conversion leaves a file that is not a VHDX at all.
  if (o.sync ?? true) await out.flush();
  await writeHeaderSection(out, layout);
  if (o.sync ?? true) await out.flush();
  return { fileSize: fileEnd, allocatedBlocks: allocated, totalBlocks: g.dataBlocksCount };
}

/**
 * `out` with its writes made one at a time, in the order they were asked for, while the caller
 * goes on: on Linux, buffered writes to one file serialise on the inode lock anyway, and writers
 * waiting there spin (seen at 2–15 % of a conversion's CPU time with three writes in flight).
 */
export function serialWrites(out: RandomAccess): RandomAccess {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    readOnly: out.readOnly,
    read: (offset, length) => out.read(offset, length),
    flush: () => out.flush(),
    size: () => out.size(),
    truncate: (size) => out.truncate(size),
    close: () => out.close(),
    write(offset, data) {
      const done = tail.then(() => out.write(offset, data));
      tail = done.catch(() => undefined);
      return done;
    },
  };
}

/** Writes a whole BAT in large pieces. */
export async function writeBat(out: RandomAccess, batOffset: number, bat: Bat): Promise<void> {
  const bytes = new Uint8Array(bat.words.buffer, bat.words.byteOffset, bat.words.byteLength);
  const total = bat.length * BAT_ENTRY_SIZE;
  // Entries the Bat never touched are zero and the region was created zero-filled.
  const present = Math.min(bytes.length, total);
  for (let at = 0; at < present; at += PIECE) {
    const piece = bytes.subarray(at, Math.min(present, at + PIECE));
    if (!isAllZero(piece)) await out.write(batOffset + at, littleEndian(piece));
  }
}

const littleEndianHost = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
function littleEndian(words: Uint8Array): Uint8Array {
  if (littleEndianHost) return words;
  const out = new Uint8Array(words.length);
  for (let i = 0; i < words.length; i += 4) {
    out[i] = words[i + 3];
    out[i + 1] = words[i + 2];
    out[i + 2] = words[i + 1];
    out[i + 3] = words[i];
  }
  return out;
}

export interface ToRawResult {
  size: number;
  /** Bytes actually written; zero runs are left as holes. */
  bytesWritten: number;
}

/**
 * Copies the virtual disk to a raw image on `out`. The output is set to the full size by truncate,
 * then only data is written: runs the disk's extents say read as zeros are not even read, and
 * all-zero 4 KiB granules of what is read are not written, so on file systems with sparse files
 * every zero run is a hole.
 */
export async function convertToRaw(
  source: VirtualDisk,
  out: RandomAccess,
  o: StreamOptions = {},
): Promise<ToRawResult> {
  const total = source.virtualSize;
  await discardContents(out);
  // The length first, as one hole: the data then lands inside the file, and on Linux a write that
  // does not extend a file skips the size update (and its journal entry) an extending write costs.
  // Whatever is not written afterwards (every run that reads as zeros) stays a hole.
  await out.truncate(total);
  let written = 0;
  const serial = serialWrites(out);
  await pumpPieces(
    source,
    total,
    PIECE,
    async (at, bytes) => {
      o.onProgress?.({ done: at + bytes.length, total });
      // Not `written += await …`: that reads `written` before the await, and pieces overlap.
      const n = await writeNonZeroRuns(serial, at, bytes);
      written += n;
    },
    { signal: o.signal, what: "convert", skipped: (end) => o.onProgress?.({ done: end, total }) },
  );
  o.onProgress?.({ done: total, total });
  if (o.sync ?? true) await out.flush();
  return { size: total, bytesWritten: written };
}
