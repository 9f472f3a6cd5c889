/**
 * An open VHD: fixed, dynamic or differencing, read through the same `VirtualDisk` interface as a
 * VHDX, so copies, `vhdx cat`, the file-system layer and the editor's views read it alike.
 */
import type { DiskExtent } from "../vhdx/allocation";
import { diskExtents } from "../vhdx/allocation";
import { hex, VhdxError } from "../vhdx/errors";
import { checkRange, type VirtualDisk } from "../vhdx/image";
import type { RandomAccess } from "../vhdx/io";
import type { Warning } from "../vhdx/open";
import type { VhdBat } from "./bat";
import { sectorBitmapSize, type DynamicHeader } from "./dynamicHeader";
import { diskTypeName, type Footer, type VhdDiskType } from "./footer";

/** Block bitmaps kept in memory (512 bytes each at the default block size). */
const BITMAP_CACHE = 256;
/** A fixed disk has no blocks; its reads and extents go in pieces of this size. */
const FIXED_PIECE = 2 * 1024 * 1024;

/** A run of the virtual disk and where this file holds it (-1: not in this file). */
export interface OwnRun {
  start: number;
  end: number;
  at: number;
}

export class VhdImage implements VirtualDisk {
  readonly format = "vhd" as const;
  /** The parent of a differencing disk, once attached. */
  parent: VirtualDisk | null = null;
  private readonly bitmaps = new Map<number, Uint8Array>();

  constructor(
    readonly io: RandomAccess,
    readonly fileSize: number,
    readonly footer: Footer,
    /** Where the footer used was read: the end of the file, or 0 (the copy) when the end is damaged. */
    readonly footerOffset: number,
    /** The copy at offset 0 of a dynamic or differencing disk, when it is one. */
    readonly footerCopy: Footer | null,
    readonly dynamicHeader: DynamicHeader | null,
    readonly bat: VhdBat | null,
    readonly warnings: Warning[],
  ) {}

  get virtualSize(): number {
    return this.footer.currentSize;
  }

  get diskType(): VhdDiskType {
    return diskTypeName(this.footer.diskType)!;
  }

  /** Bytes per block of a dynamic or differencing disk; 0 for a fixed disk. */
  get blockSize(): number {
    return this.dynamicHeader?.blockSize ?? 0;
  }

  get bitmapSize(): number {
    return this.dynamicHeader ? sectorBitmapSize(this.dynamicHeader.blockSize) : 0;
  }

  /** Raw file bytes. */
  readFile(offset: number, length: number): Promise<Uint8Array> {
    checkRange(offset, length, Number.MAX_SAFE_INTEGER, "file");
    return this.io.read(offset, length);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(offset, length, this.virtualSize, "virtual disk");
    if (!this.dynamicHeader) return this.io.read(offset, length);
    const out = new Uint8Array(length);
    for await (const e of this.extents(offset, length)) {
      if (!e.data) continue;
      out.set(await e.data.from.read(e.data.at, e.end - e.start), e.start - offset);
    }
    return out;
  }

  async readInto(offset: number, target: Uint8Array): Promise<void> {
    checkRange(offset, target.length, this.virtualSize, "virtual disk");
    if (!this.dynamicHeader && this.io.readInto) return this.io.readInto(offset, target);
    target.set(await this.read(offset, target.length));
  }

  /**
   * Where the bytes of [offset, offset + length) are: runs of this file, runs of the parent's
   * (a differencing disk's sectors whose bitmap bit is clear, and its blocks not in the file), and
   * runs that read as zeros (a dynamic disk's unallocated blocks and clear bits).
   */
  async *extents(offset: number, length: number): AsyncGenerator<DiskExtent> {
    for await (const r of this.ownRuns(offset, length)) {
      if (r.at >= 0) yield { start: r.start, end: r.end, data: { from: this.io, at: r.at } };
      else yield* this.notHere(r.start, r.end);
    }
  }

  /**
   * The runs of [offset, offset + length) this file holds (`at`: their file offset) and the runs
   * it does not (`at` = -1: a block not in the file, or sectors whose bitmap bit is clear), in
   * order. Reads only BAT entries and sector bitmaps; a differencing disk's parent is not needed.
   */
  async *ownRuns(offset: number, length: number): AsyncGenerator<OwnRun> {
    checkRange(offset, length, this.virtualSize, "virtual disk");
    const end = offset + length;
    if (!this.dynamicHeader || !this.bat) {
      if (length > 0) yield { start: offset, end, at: offset };
      return;
    }
    const bs = this.dynamicHeader.blockSize;
    let pos = offset;
    while (pos < end) {
      const block = Math.floor(pos / bs);
      const blockStart = block * bs;
      const stop = Math.min(end, blockStart + bs);
      const at = this.bat.blockOffset(block);
      if (at < 0) {
        yield { start: pos, end: stop, at: -1 };
      } else {
        this.checkBlockInFile(block, at);
        const bitmap = await this.bitmap(block, at);
        const dataAt = at + this.bitmapSize;
        let s = Math.floor((pos - blockStart) / 512);
        const lastSector = Math.ceil((stop - blockStart) / 512);
        while (s < lastSector) {
          // The VHD sector bitmap is big-endian in its bits: sector 0 is the top bit of byte 0.
          const bit = (bitmap[s >>> 3] >>> (7 - (s & 7))) & 1;
          let t = s + 1;
          while (t < lastSector && ((bitmap[t >>> 3] >>> (7 - (t & 7))) & 1) === bit) t++;
          const runStart = Math.max(pos, blockStart + s * 512);
          const runEnd = Math.min(stop, blockStart + t * 512);
          yield { start: runStart, end: runEnd, at: bit ? dataAt + (runStart - blockStart) : -1 };
          s = t;
        }
      }
      pos = stop;
    }
  }

  /** The disk as a stream of pieces (what `vhdx cat` writes out). */
  async *segments(offset: number, length: number): AsyncGenerator<Uint8Array> {
    checkRange(offset, length, this.virtualSize, "virtual disk");
    const piece = Math.max(this.blockSize, FIXED_PIECE);
    for (let pos = offset; pos < offset + length; pos += piece)
      yield await this.read(pos, Math.min(piece, offset + length - pos));
  }

  /** A range this file does not hold: zeros for a dynamic disk, the parent's for a differencing one. */
  private async *notHere(start: number, end: number): AsyncGenerator<DiskExtent> {
    if (this.diskType !== "differencing") {
      yield { start, end, data: null };
      return;
    }
    if (!this.parent)
      throw new VhdxError(
        "PARENT_NOT_FOUND",
        "this differencing disk has no parent attached; open it with its parent chain",
        "dynamic disk header",
        this.footer.dataOffset,
      );
    // A parent smaller than the child holds nothing past its end: those bytes read as zeros.
    const pEnd = Math.min(end, this.parent.virtualSize);
    if (start < pEnd) yield* diskExtents(this.parent, start, pEnd - start);
    if (Math.max(start, pEnd) < end) yield { start: Math.max(start, pEnd), end, data: null };
  }

  /** Refuses a block whose bitmap and data would run past the end of the file. */
  private checkBlockInFile(block: number, at: number): void {
    const need = at + this.bitmapSize + this.blockSize;
    // The last block may end where the footer starts; nothing may run past the end.
    if (need > this.fileSize)
      throw new VhdxError(
        "BAT_ENTRY_BEYOND_EOF",
        `BAT entry ${block} points past the end of the file (${hex(need)} > ${hex(this.fileSize)})`,
        "BAT",
        this.dynamicHeader!.tableOffset + block * 4,
      );
  }

  private async bitmap(block: number, at: number): Promise<Uint8Array> {
    const hit = this.bitmaps.get(block);
    if (hit) return hit;
    const b = await this.io.read(at, this.bitmapSize);
    if (this.bitmaps.size >= BITMAP_CACHE) this.bitmaps.delete(this.bitmaps.keys().next().value!);
    this.bitmaps.set(block, b);
    return b;
  }

  /** The block's sector bitmap as stored (for the structure views); null when the block is not in the file. */
  async blockBitmap(block: number): Promise<Uint8Array | null> {
    const at = this.bat?.blockOffset(block) ?? -1;
    if (at < 0) return null;
    this.checkBlockInFile(block, at);
    return this.bitmap(block, at);
  }

  async close(): Promise<void> {
    await this.io.close();
  }
}
