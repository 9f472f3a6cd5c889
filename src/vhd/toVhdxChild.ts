/**
 * One link of a differencing VHD chain as a differencing VHDX: only the sectors the VHD holds
 * (its sector bitmaps' set bits) are copied, into payload blocks FULLY_PRESENT when the VHD holds
 * every sector of the block and PARTIALLY_PRESENT otherwise, with the sector bitmap block of the
 * chunk saying which (MS-VHDX §2.5.1, §2.4). Everything else stays the parent's.
 */
import {
  Bat,
  payloadEntryIndex,
  PAYLOAD_BLOCK_FULLY_PRESENT,
  PAYLOAD_BLOCK_PARTIALLY_PRESENT,
  sectorBitmapEntryIndex,
  SECTOR_BITMAP_BLOCK_SIZE,
  SB_BLOCK_PRESENT,
} from "../vhdx/bat";
import { isAllZero, MiB } from "../vhdx/bytes";
import { PIECE, writeBat, type StreamOptions } from "../vhdx/convert";
import { createImage, writeHeaderSection, type ParentInfo } from "../vhdx/create";
import { VhdxError } from "../vhdx/errors";
import type { RandomAccess } from "../vhdx/io";
import { writeNonZeroRuns } from "../vhdx/sparse";
import type { VhdImage } from "./image";

/** Zero runs are left as holes in pieces of this size. */
const GRANULE = 4096;
/** Up to this many held runs in a window, each is written on its own (its zero pieces left as holes). */
const FEW_RUNS = 8;

export interface VhdLinkOptions extends StreamOptions {
  /** The VHDX parent the new child names (its DataWriteGuid becomes parent_linkage). */
  parent: ParentInfo;
  /** VHDX block size; the VHD's when it is a valid VHDX block size (1–256 MiB), else 2 MiB. */
  blockSize?: number;
}

export interface VhdLinkResult {
  fileSize: number;
  fullBlocks: number;
  partialBlocks: number;
  sectorBitmapBlocks: number;
  totalBlocks: number;
}

/** The VHDX block size a VHD's blocks map to. */
export function vhdxBlockSizeFor(vhdBlockSize: number): number {
  return vhdBlockSize >= MiB && vhdBlockSize <= 256 * MiB ? vhdBlockSize : 2 * MiB;
}

/**
 * Writes the differencing VHDX of `child` (a differencing VHD; its parent need not be attached)
 * on `out`. The header section is written last, so an interrupted job leaves no VHDX.
 */
export async function convertVhdLinkToVhdx(
  child: VhdImage,
  out: RandomAccess,
  o: VhdLinkOptions,
): Promise<VhdLinkResult> {
  if (child.diskType !== "differencing")
    throw new VhdxError("INVALID_ARGUMENT", `a ${child.diskType} VHD is not a differencing link`, "footer", 60);
  const size = child.virtualSize;
  if (size !== o.parent.virtualDiskSize)
    throw new VhdxError(
      "PARENT_MISMATCH",
      `the VHD child's virtual size (${size} bytes) differs from its VHDX parent's (${o.parent.virtualDiskSize}); a differencing VHDX has its parent's size`,
      "footer",
      child.footerOffset + 48,
    );
  const blockSize = o.blockSize ?? vhdxBlockSizeFor(child.blockSize);
  const layout = await createImage(
    out,
    { type: "differencing", parent: o.parent, blockSize },
    { deferHeaderSection: true },
  );
  const g = layout.geometry;
  const bat = new Bat(g, new Uint8Array(0), g.totalBatEntries);
  const sectorsPerBlock = blockSize / 512;
  let fileEnd = layout.fileSize;
  let fullBlocks = 0;
  let partialBlocks = 0;
  let sbBlocks = 0;
  // One chunk's sector bitmap at a time: the runs come in disk order.
  let chunk = -1;
  let chunkBitmap: Uint8Array | null = null;
  let chunkHasPartial = false;
  const flushChunk = async () => {
    if (chunk >= 0 && chunkHasPartial && chunkBitmap) {
      const at = fileEnd;
      fileEnd += SECTOR_BITMAP_BLOCK_SIZE;
      await writeNonZeroRuns(out, at, chunkBitmap);
      bat.set(sectorBitmapEntryIndex(g, chunk), SB_BLOCK_PRESENT, at / MiB);
      sbBlocks++;
    }
    chunkBitmap = null;
    chunkHasPartial = false;
  };

  for (let block = 0; block < g.dataBlocksCount; block++) {
    o.signal?.throwIfAborted();
    const start = block * blockSize;
    const end = Math.min(size, start + blockSize);
    const runs: { start: number; end: number; at: number }[] = [];
    let held = 0;
    for await (const r of child.ownRuns(start, end - start)) {
      if (r.at < 0) continue;
      runs.push(r);
      held += r.end - r.start;
    }
    o.onProgress?.({ done: end, total: size });
    if (runs.length === 0) continue;
    const blockChunk = Math.floor(block / g.chunkRatio);
    if (blockChunk !== chunk) {
      await flushChunk();
      chunk = blockChunk;
    }
    const blockAt = fileEnd;
    fileEnd += blockSize;
    // A last block shorter than BlockSize is whole when every sector of the disk in it is held.
    const full = held === end - start;
    bat.set(
      payloadEntryIndex(g, block),
      full ? PAYLOAD_BLOCK_FULLY_PRESENT : PAYLOAD_BLOCK_PARTIALLY_PRESENT,
      blockAt / MiB,
    );
    if (full) fullBlocks++;
    else {
      partialBlocks++;
      chunkHasPartial = true;
      chunkBitmap ??= new Uint8Array(SECTOR_BITMAP_BLOCK_SIZE);
    }
    for (const r of runs) {
      if (full) break;
      // §2.4: bit n of the chunk's bitmap is sector n of the chunk, least significant bit first.
      const first = (block % g.chunkRatio) * sectorsPerBlock + (r.start - start) / 512;
      const last = first + (r.end - r.start) / 512;
      for (let s = first; s < last; s++) chunkBitmap![s >>> 3] |= 1 << (s & 7);
    }
    await copyRuns(child, out, runs, start, end, blockAt);
  }
  await flushChunk();
  if ((await out.size()) < fileEnd) await out.truncate(fileEnd);
  await writeBat(out, layout.batOffset, bat);
  if (o.sync ?? true) await out.flush();
  await writeHeaderSection(out, layout);
  if (o.sync ?? true) await out.flush();
  return {
    fileSize: fileEnd,
    fullBlocks,
    partialBlocks,
    sectorBitmapBlocks: sbBlocks,
    totalBlocks: g.dataBlocksCount,
  };
}

/**
 * The held runs of one block into the block's place in `out`, a window of at most PIECE bytes at
 * a time: the runs are read into a zeroed window; a window of a few runs goes out without its zero
 * 4 KiB pieces (holes), one of many runs as one write from its first to its last non-zero 4 KiB
 * (not a write per run; the sectors between them are not present and read from the parent).
 */
async function copyRuns(
  child: VhdImage,
  out: RandomAccess,
  runs: readonly { start: number; end: number; at: number }[],
  start: number,
  end: number,
  blockAt: number,
): Promise<void> {
  let i = 0;
  for (let w = start; w < end && i < runs.length; w += PIECE) {
    const wEnd = Math.min(end, w + PIECE);
    if (runs[i].start >= wEnd) continue;
    const window = new Uint8Array(wEnd - w);
    let pieces = 0;
    for (let j = i; j < runs.length && runs[j].start < wEnd; j++) {
      const a = Math.max(w, runs[j].start);
      const b = Math.min(wEnd, runs[j].end);
      if (a < b) window.set(await child.readFile(runs[j].at + (a - runs[j].start), b - a), a - w);
      pieces++;
    }
    while (i < runs.length && runs[i].end <= wEnd) i++;
    // A few runs: every zero 4 KiB stays a hole. Many: one write, the gaps written as zeros.
    if (pieces <= FEW_RUNS) {
      await writeNonZeroRuns(out, blockAt + (w - start), window);
      continue;
    }
    let lo = 0;
    while (lo < window.length && isAllZero(window.subarray(lo, lo + GRANULE))) lo += GRANULE;
    if (lo >= window.length) continue;
    let hi = Math.ceil(window.length / GRANULE) * GRANULE;
    while (hi - GRANULE > lo && isAllZero(window.subarray(hi - GRANULE, hi))) hi -= GRANULE;
    await out.write(blockAt + (w - start) + lo, window.subarray(lo, Math.min(hi, window.length)));
  }
}
