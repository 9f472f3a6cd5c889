/**
 * The two spaces the hex view shows, as Find's sources: the virtual disk, whose extents (through
 * its chain) say which runs read as zeros, and the raw file, which is all data.
 */
import { diskExtents, readExtentsInto } from "../vhdx/allocation";
import { PAYLOAD_BLOCK_FULLY_PRESENT, payloadEntryIndex } from "../vhdx/bat";
import { isAllZero } from "../vhdx/bytes";
import { VhdxImage, type VirtualDisk } from "../vhdx/image";
import type { SearchSource, SpaceRun } from "./scan";

/** Blocks whose extents are planned at once. */
const WINDOW_BLOCKS = 4096;

/**
 * The runs of a VHDX that is not differencing, from its BAT alone (§2.5.1.1: only FULLY_PRESENT
 * blocks hold data; every other state reads as zeros): one comparison per block, so the two
 * million blocks of an empty 64 TiB disk take milliseconds.
 */
function* batRuns(img: VhdxImage, offset: number, length: number): Generator<SpaceRun> {
  const bs = img.blockSize;
  const g = img.geometry;
  const words = img.bat.words;
  const end = offset + length;
  const lastBlock = Math.floor((end - 1) / bs);
  let run: SpaceRun | null = null;
  const add = (start: number, stop: number, data: boolean): SpaceRun | null => {
    if (run && run.data === data) {
      run.end = stop;
      return null;
    }
    const done = run;
    run = { start, end: stop, data };
    return done;
  };
  // One step per chunk of blocks, or per block where a chunk's entries are not all zero: bounded by the BAT.
  for (let block = Math.floor(offset / bs); block <= lastBlock;) {
    const chunkEnd = Math.min(lastBlock + 1, (Math.floor(block / g.chunkRatio) + 1) * g.chunkRatio);
    const first = payloadEntryIndex(g, block);
    const span = new Uint8Array(words.buffer, words.byteOffset + first * 8, (chunkEnd - block) * 8);
    if (isAllZero(span)) {
      // Every entry NOT_PRESENT: the whole stretch of the chunk reads as zeros.
      const done = add(Math.max(offset, block * bs), Math.min(end, chunkEnd * bs), false);
      if (done) yield done;
      block = chunkEnd;
      continue;
    }
    for (; block < chunkEnd; block++) {
      const data = (words[2 * payloadEntryIndex(g, block)] & 7) === PAYLOAD_BLOCK_FULLY_PRESENT;
      const done = add(Math.max(offset, block * bs), Math.min(end, (block + 1) * bs), data);
      if (done) yield done;
    }
  }
  if (run) yield run;
}

/** The virtual disk: zero runs (NOT_PRESENT, ZERO, UNMAPPED, absent from every image of a chain) are not read. */
export function virtualSource(disk: VirtualDisk, blockSize = 32 * 1024 * 1024): SearchSource {
  const fromBat = disk instanceof VhdxImage && disk.diskType !== "differencing" ? disk : null;
  return {
    size: disk.virtualSize,
    window: WINDOW_BLOCKS * blockSize,
    async *runs(offset: number, length: number): AsyncGenerator<SpaceRun> {
      if (fromBat) {
        yield* batRuns(fromBat, offset, length);
        return;
      }
      for await (const e of diskExtents(disk, offset, length)) yield { start: e.start, end: e.end, data: !!e.data };
    },
    readInto: (offset, target) => readExtentsInto(disk, offset, target),
  };
}

/** The image's own file (a VHDX's or a VHD's), every byte read. */
export function fileSource(img: {
  fileSize: number;
  readFile(offset: number, length: number): Promise<Uint8Array>;
}): SearchSource {
  return {
    size: img.fileSize,
    window: 1024 * 1024 * 1024,
    async *runs(offset: number, length: number): AsyncGenerator<SpaceRun> {
      yield { start: offset, end: offset + length, data: true };
    },
    async readInto(offset, target) {
      target.set(await img.readFile(offset, target.length));
    },
  };
}
