import {
  BAT_ENTRY_SIZE,
  encodeBatEntry,
  isSectorBitmapEntry,
  SB_BLOCK_PRESENT,
  SECTOR_BITMAP_BLOCK_SIZE,
  spaceUse,
} from "./bat";
import { MiB } from "./bytes";
import type { VhdxImage } from "./image";
import type { MetadataUpdate } from "./log";

/** The log's unit: metadata updates are whole 4 KiB sectors (§2.3.1.3). */
export const SECTOR = 4096;

/**
 * One commit's metadata changes: BAT entries and sector bitmap bits. Turned into 4 KiB file
 * sector updates for ONE log entry (§2.3), then applied to the in-memory BAT and registry.
 */
export class BatUpdate {
  private readonly entries = new Map<number, { state: number; fileOffset: number }>();
  /** Per sector bitmap file sector: the bits to set. */
  private readonly bits = new Map<number, number[]>();
  /** Sector bitmap blocks new in this commit (their file space is known to be zero). */
  private readonly freshBitmapBlocks = new Set<number>();

  constructor(private readonly img: VhdxImage) {}

  get empty(): boolean {
    return this.entries.size === 0 && this.bits.size === 0;
  }

  setEntry(index: number, state: number, fileOffset: number): void {
    this.entries.set(index, { state, fileOffset });
  }

  /** The state and file offset entry `index` will have after this commit. */
  entry(index: number): { state: number; fileOffset: number } {
    return (
      this.entries.get(index) ?? {
        state: this.img.bat.state(index),
        fileOffset: this.img.bat.fileOffsetMB(index) * MiB,
      }
    );
  }

  /** Marks a sector bitmap block as newly allocated at `fileOffset` (zero-filled on disk). */
  newBitmapBlock(entryIndex: number, fileOffset: number): void {
    this.setEntry(entryIndex, SB_BLOCK_PRESENT, fileOffset);
    this.freshBitmapBlocks.add(fileOffset);
  }

  /** §2.4: sets bits [first, first+count) of the sector bitmap block at `bitmapOffset`. */
  setBits(bitmapOffset: number, first: number, count: number): void {
    for (let bit = first; bit < first + count;) {
      const sectorAt = bitmapOffset + Math.floor(bit / 8 / SECTOR) * SECTOR;
      const inSector = bit - (sectorAt - bitmapOffset) * 8;
      const n = Math.min(count - (bit - first), SECTOR * 8 - inSector);
      let list = this.bits.get(sectorAt);
      if (!list) this.bits.set(sectorAt, (list = []));
      list.push(inSector, n);
      bit += n;
    }
  }

  /** The 4 KiB sectors to commit: BAT sectors with the new entries, bitmap sectors with the new bits. */
  async sectors(): Promise<MetadataUpdate[]> {
    const io = this.img.io;
    const out: MetadataUpdate[] = [];
    const batSectors = new Map<number, number[]>();
    for (const index of this.entries.keys()) {
      const at = this.img.batRegion.fileOffset + index * BAT_ENTRY_SIZE;
      const s = at - (at % SECTOR);
      let list = batSectors.get(s);
      if (!list) batSectors.set(s, (list = []));
      list.push(index);
    }
    for (const [s, indexes] of batSectors) {
      const data = await io.read(s, SECTOR);
      for (const index of indexes) {
        const e = this.entries.get(index)!;
        data.set(
          encodeBatEntry(e.state, e.fileOffset / MiB),
          this.img.batRegion.fileOffset + index * BAT_ENTRY_SIZE - s,
        );
      }
      out.push({ fileOffset: s, data });
    }
    for (const [s, runs] of this.bits) {
      const blockStart = s - (s % SECTOR_BITMAP_BLOCK_SIZE);
      const data = this.freshBitmapBlocks.has(blockStart) ? new Uint8Array(SECTOR) : await io.read(s, SECTOR);
      for (let i = 0; i < runs.length; i += 2) setBitRun(data, runs[i], runs[i + 1]);
      out.push({ fileOffset: s, data });
    }
    return out;
  }

  /**
   * After the log entry is applied: the in-memory BAT and registry follow the file. Space an entry
   * leaves is freed, unless another entry of this commit takes it (a retained block reclaimed).
   */
  applyToImage(): { freed: { start: number; length: number }[] } {
    const img = this.img;
    const g = img.geometry;
    const freed: { start: number; length: number }[] = [];
    const taken = new Set<number>();
    for (const [index, e] of this.entries)
      if (spaceUse(g, index, e.state, e.fileOffset / MiB) !== "none") taken.add(e.fileOffset);
    for (const [index, e] of this.entries) {
      const sb = isSectorBitmapEntry(g, index);
      const oldOffset = img.bat.fileOffsetMB(index) * MiB;
      const oldUse = spaceUse(g, index, img.bat.state(index), oldOffset / MiB);
      const newUse = spaceUse(g, index, e.state, e.fileOffset / MiB);
      const length = sb ? SECTOR_BITMAP_BLOCK_SIZE : g.blockSize;
      const moved = oldUse !== newUse || oldOffset !== e.fileOffset;
      // A retained block outside the file was never registered (open.ts registerBlocks).
      const oldRegistered =
        oldUse === "present" || (oldUse === "retained" && img.registry.find(oldOffset)?.index === index);
      if (oldRegistered && moved) {
        img.registry.removeBlock(index, sb);
        if (!taken.has(oldOffset)) freed.push({ start: oldOffset, length });
      }
      img.bat.set(index, e.state, e.fileOffset / MiB);
      if (newUse !== "none" && moved) img.registry.addBlock(e.fileOffset, length, index, sb, newUse === "retained");
    }
    if (this.bits.size > 0 || this.entries.size > 0) img.invalidateCaches();
    return { freed };
  }
}

/** Sets `count` bits from bit `first` (LSB first within each byte, §2.4). */
export function setBitRun(bytes: Uint8Array, first: number, count: number): void {
  let bit = first;
  const end = first + count;
  while (bit < end && bit & 7) bytes[bit >>> 3] |= 1 << (bit++ & 7);
  while (bit + 8 <= end) {
    bytes[bit >>> 3] = 0xff;
    bit += 8;
  }
  while (bit < end) bytes[bit >>> 3] |= 1 << (bit++ & 7);
}
