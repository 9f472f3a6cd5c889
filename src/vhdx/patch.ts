import { ensureLogRoom } from "./logResize";
import {
  PAYLOAD_BLOCK_FULLY_PRESENT,
  PAYLOAD_BLOCK_NOT_PRESENT,
  PAYLOAD_BLOCK_PARTIALLY_PRESENT,
  SB_BLOCK_PRESENT,
  SECTOR_BITMAP_BLOCK_SIZE,
  sectorBitmapEntryIndex,
} from "./bat";
import { BAT_ENTRY_SIZE } from "./bat";
import { SECTOR } from "./batUpdate";
import { checkRange, VhdxImage } from "./image";
import { applyEdits, BlockEdit, VhdxWriter } from "./write";
import { MiB } from "./bytes";
import { VhdxError } from "./errors";
import { descriptorSectorCount, LOG_SECTOR_SIZE } from "./log";

/** One edit of a patch: `data` replaces the virtual disk bytes at `offset`. Later edits win. */
export interface PatchEdit {
  offset: number;
  data: Uint8Array;
}

/** What committing a patch costs, shown before the user commits. */
export interface PatchCost {
  /** Present blocks copied to new space (copy-on-write). */
  blocksCopied: number;
  /** Blocks that get space for the first time. */
  blocksAllocated: number;
  /** Sector bitmap blocks that get space for the first time (differencing images). */
  bitmapBlocksAllocated: number;
  /** Bytes written to the file: block copies, new blocks, the log entry and its application. */
  bytesWritten: number;
  /** 4 KiB metadata sectors in the log entry (BAT and sector bitmap sectors). */
  logSectors: number;
  /** Flushes, including the session's header updates when they are still to come. */
  flushes: number;
}

/** Groups edits by payload block, each block's edits merged into sector-aligned, non-overlapping runs. */
async function blockGroups(
  img: VhdxImage,
  edits: readonly PatchEdit[],
  read: boolean,
): Promise<[number, BlockEdit[]][]> {
  const bs = img.blockSize;
  const ss = img.params.logicalSectorSize;
  const byBlock = new Map<number, BlockEdit[]>();
  for (const e of edits) {
    checkRange(e.offset, e.data.length, img.virtualSize, "virtual disk");
    for (let pos = e.offset; pos < e.offset + e.data.length;) {
      const block = Math.floor(pos / bs);
      const n = Math.min((block + 1) * bs, e.offset + e.data.length) - pos;
      let list = byBlock.get(block);
      if (!list) byBlock.set(block, (list = []));
      list.push({ inBlock: pos - block * bs, data: e.data.subarray(pos - e.offset, pos - e.offset + n) });
      pos += n;
    }
  }
  const out: [number, BlockEdit[]][] = [];
  for (const block of [...byBlock.keys()].sort((a, b) => a - b)) {
    const list = byBlock.get(block)!;
    // Sector-aligned runs covering the edits; adjacent or overlapping runs merge.
    const spans = list
      .map((e) => [Math.floor(e.inBlock / ss) * ss, Math.ceil((e.inBlock + e.data.length) / ss) * ss])
      .sort((a, b) => a[0] - b[0]);
    const runs: number[][] = [];
    for (const s of spans) {
      const last = runs[runs.length - 1];
      if (last && s[0] <= last[1]) last[1] = Math.max(last[1], s[1]);
      else runs.push([...s]);
    }
    const merged: BlockEdit[] = [];
    for (const [s, t] of runs) {
      // One edit covering the whole run is used as it is; otherwise the bytes the edits leave
      // alone keep their current virtual contents.
      const covering = list.length === 1 && list[0].inBlock === s && list[0].data.length === t - s;
      if (covering) {
        merged.push(list[0]);
        continue;
      }
      const buf = read ? await img.read(block * bs + s, t - s) : new Uint8Array(t - s);
      applyEdits(buf, s, list);
      merged.push({ inBlock: s, data: buf });
    }
    out.push([block, merged]);
  }
  return out;
}

/** Sector-aligned spans [s, t) inside one block, sorted and merged. */
export type BlockSpans = [number, number][];

/**
 * Counts what a copy-on-write commit of some blocks costs, block by block, without holding their
 * data: the blocks copied or allocated, and the 4 KiB BAT and sector bitmap sectors its ONE log
 * entry switches. Used before a patch, a streamed write or a merge writes anything.
 */
export class PatchCostCounter {
  private readonly batSectors = new Set<number>();
  private readonly bitmapSectors = new Set<number>();
  private readonly newBitmapChunks = new Set<number>();
  private copied = 0;
  private allocated = 0;
  private bytes = 0;

  constructor(private readonly img: VhdxImage) {}

  /** Adds block `block`, whose sector-aligned `spans` get new contents. */
  addBlock(block: number, spans: BlockSpans): void {
    const img = this.img;
    const g = img.geometry;
    const ss = img.params.logicalSectorSize;
    const { entry, state } = img.blockLocation(block);
    if (
      state === PAYLOAD_BLOCK_FULLY_PRESENT ||
      (state === PAYLOAD_BLOCK_PARTIALLY_PRESENT && img.diskType === "differencing")
    )
      this.copied++;
    else this.allocated++;
    this.bytes += img.blockSize;
    this.batSectors.add(Math.floor((entry * BAT_ENTRY_SIZE) / SECTOR));
    const needsBits =
      img.diskType === "differencing" &&
      (state === PAYLOAD_BLOCK_NOT_PRESENT || state === PAYLOAD_BLOCK_PARTIALLY_PRESENT);
    if (!needsBits) return;
    const chunk = Math.floor(block / g.chunkRatio);
    const sbEntry = sectorBitmapEntryIndex(g, chunk);
    if (img.bat.state(sbEntry) !== SB_BLOCK_PRESENT && !this.newBitmapChunks.has(chunk)) {
      this.newBitmapChunks.add(chunk);
      this.batSectors.add(Math.floor((sbEntry * BAT_ENTRY_SIZE) / SECTOR));
      this.bytes += SECTOR_BITMAP_BLOCK_SIZE;
    }
    const firstBit = (block % g.chunkRatio) * (img.blockSize / ss);
    const bitsPerSector = SECTOR * 8;
    for (const [s, t] of spans) {
      const from = Math.floor((firstBit + s / ss) / bitsPerSector);
      const to = Math.floor((firstBit + t / ss - 1) / bitsPerSector);
      for (let k = from; k <= to; k++) this.bitmapSectors.add(chunk * (SECTOR_BITMAP_BLOCK_SIZE / SECTOR) + k);
    }
  }

  /** 4 KiB metadata sectors the log entry carries. */
  get logSectors(): number {
    return this.batSectors.size + this.bitmapSectors.size;
  }

  cost(writer: VhdxWriter, extraLogSectors = 0): PatchCost {
    const logSectors = this.logSectors + extraLogSectors;
    // The entry (a descriptor sector plus one data sector per metadata sector) is written, then applied.
    const bytes = this.bytes + (1 + logSectors) * SECTOR + logSectors * SECTOR;
    // §2.2.2: a session's first change renews the write GUIDs, and its first log entry the LogGuid (two flushes each).
    const sessionFlushes = (writer.sessionStarted ? 0 : 2) + (writer.logStarted ? 0 : 2);
    // Data flush (which also makes a grown file's size durable), entry flush, apply flush.
    return {
      blocksCopied: this.copied,
      blocksAllocated: this.allocated,
      bitmapBlocksAllocated: this.newBitmapChunks.size,
      bytesWritten: bytes,
      logSectors,
      flushes: sessionFlushes + 3,
    };
  }
}

/** Bytes of a log entry carrying `sectors` 4 KiB updates, all as data descriptors (the worst case). */
export function logEntryBytes(sectors: number): number {
  return (descriptorSectorCount(sectors) + sectors) * LOG_SECTOR_SIZE;
}

/**
 * LOG_FULL unless one log entry switching `sectors` metadata sectors fits this image's log: a
 * commit is one entry (its atomicity), so a change too large for the log is refused before
 * anything is written. Entries past 126 descriptors continue into further descriptor sectors.
 */
export function requireLogRoom(img: VhdxImage, sectors: number, what: string): void {
  const need = logEntryBytes(sectors);
  const have = img.header.logLength;
  if (need <= have) return;
  throw new VhdxError(
    "LOG_FULL",
    `${what} switches ${sectors} metadata sectors in one log entry of ${formatMiB(need)}, but the log holds ${formatMiB(have)}: it needs a log of at least ${Math.ceil(need / MiB)} MiB`,
    "log",
    img.header.logOffset,
  );
}

function formatMiB(n: number): string {
  return n % MiB === 0 ? `${n / MiB} MiB` : `${(n / MiB).toFixed(2)} MiB`;
}

/** The sector-aligned spans of [offset, offset + length) in each block it touches, in block order. */
export function* rangeBlocks(img: VhdxImage, offset: number, length: number): Generator<[number, BlockSpans]> {
  const bs = img.blockSize;
  const ss = img.params.logicalSectorSize;
  for (let pos = offset; pos < offset + length;) {
    const block = Math.floor(pos / bs);
    const end = Math.min((block + 1) * bs, offset + length);
    const s = pos - block * bs;
    const t = end - block * bs;
    yield [block, [[Math.floor(s / ss) * ss, Math.ceil(t / ss) * ss]]];
    pos = end;
  }
}

/** The cost of committing `edits` now, without writing anything. */
export async function estimatePatch(writer: VhdxWriter, edits: readonly PatchEdit[]): Promise<PatchCost> {
  const counter = new PatchCostCounter(writer.image);
  for (const [block, runs] of await blockGroups(writer.image, edits, false))
    counter.addBlock(
      block,
      runs.map((r) => [r.inBlock, r.inBlock + r.data.length]),
    );
  return counter.cost(writer);
}

/**
 * Commits a virtual-disk patch all or nothing (§2.3: no payload in the log, so copy-on-write):
 * each touched block's new contents go to free space and are flushed, then ONE log entry switches
 * every affected BAT entry and sector bitmap sector. A crash before that entry is complete leaves
 * the old disk; after it, replay gives the new one. The old blocks' space is free afterwards.
 */
export async function commitPatch(writer: VhdxWriter, edits: readonly PatchEdit[]): Promise<void> {
  for (const e of edits) checkRange(e.offset, e.data.length, writer.image.virtualSize, "virtual disk");
  // One log entry must switch it all: the log grows first when it is too small (before any other write).
  await ensureLogRoom(writer, (await estimatePatch(writer, edits)).logSectors, "this patch");
  await writer.mutex.run(async () => {
    if (edits.every((e) => e.data.length === 0)) return;
    await writer.beginDataWrite();
    const groups = await blockGroups(writer.image, edits, true);
    await writer.writeBlocks(groups, true);
  });
}
