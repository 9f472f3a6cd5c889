import { isAllZero } from "../bytes";
import { VhdxError } from "../errors";
import { RandomAccess } from "../io";

const SECTOR = 4096;
/** Shared by every sector written as all zeros; never modified. */
const ZERO_SECTOR = new Uint8Array(SECTOR);

/**
 * A RandomAccess that reads through to a base backend and keeps every write in memory, by 4 KiB
 * sector. The base is never written, flushed or truncated. Used to replay a log without touching
 * the file (§2.3.3 note <5>: a read-only open replays the log in memory).
 */
export class OverlayBackend implements RandomAccess {
  readonly base: RandomAccess;
  private readonly sectors = new Map<number, Uint8Array>();
  private len: number;
  /** Base bytes at or past this offset are hidden: the overlay was truncated below them. */
  private baseLimit: number;
  private frozen = false;
  /** Number of flush() calls (nothing is flushed: the writes live in memory). */
  flushes = 0;

  private constructor(base: RandomAccess, size: number) {
    this.base = base;
    this.len = size;
    this.baseLimit = size;
  }

  static async over(base: RandomAccess): Promise<OverlayBackend> {
    return new OverlayBackend(base, await base.size());
  }

  get readOnly(): boolean {
    return this.frozen;
  }

  /** Refuses further writes (after the replay, a read-only view stays read-only). */
  freeze(): void {
    this.frozen = true;
  }

  /** True when nothing was written or resized. */
  get pristine(): boolean {
    return this.sectors.size === 0 && this.len === this.baseLimit;
  }

  /** Sector-aligned file ranges that differ from the base (writes), coalesced and sorted. */
  changedRanges(): { start: number; length: number }[] {
    const idx = [...this.sectors.keys()].sort((a, b) => a - b);
    const out: { start: number; length: number }[] = [];
    for (const i of idx) {
      const last = out[out.length - 1];
      if (last && last.start + last.length === i * SECTOR) last.length += SECTOR;
      else out.push({ start: i * SECTOR, length: SECTOR });
    }
    return out;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    const end = Math.min(offset + length, this.len);
    if (offset >= end) return out;
    if (this.sectors.size === 0) {
      await this.readBase(out, offset, offset, end);
      return out;
    }
    // Walk sector by sector; gather runs of sectors not held in memory into one base read.
    let runStart = -1;
    for (let pos = offset; pos < end;) {
      const idx = Math.floor(pos / SECTOR);
      const next = Math.min(end, (idx + 1) * SECTOR);
      const s = this.sectors.get(idx);
      if (s) {
        if (runStart >= 0) {
          await this.readBase(out, offset, runStart, pos);
          runStart = -1;
        }
        out.set(s.subarray(pos - idx * SECTOR, next - idx * SECTOR), pos - offset);
      } else if (runStart < 0) {
        runStart = pos;
      }
      pos = next;
    }
    if (runStart >= 0) await this.readBase(out, offset, runStart, end);
    return out;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    this.assertWritable();
    const end = offset + data.length;
    for (let pos = offset; pos < end;) {
      const idx = Math.floor(pos / SECTOR);
      const sStart = idx * SECTOR;
      const next = Math.min(end, sStart + SECTOR);
      const piece = data.subarray(pos - offset, next - offset);
      if (piece.length === SECTOR && isAllZero(piece)) {
        // Zero ranges (zero descriptors) share one sector: zeroing a large range costs a map entry per sector.
        this.sectors.set(idx, ZERO_SECTOR);
        pos = next;
        continue;
      }
      let s = this.sectors.get(idx);
      if (!s || s === ZERO_SECTOR) {
        s = s === ZERO_SECTOR || piece.length === SECTOR ? new Uint8Array(SECTOR) : await this.read(sStart, SECTOR);
        this.sectors.set(idx, s);
      }
      s.set(piece, pos - sStart);
      pos = next;
    }
    if (end > this.len) this.len = end;
  }

  async flush(): Promise<void> {
    this.flushes++;
  }

  async size(): Promise<number> {
    return this.len;
  }

  async truncate(size: number): Promise<void> {
    this.assertWritable();
    if (size < this.len) {
      for (const idx of [...this.sectors.keys()]) {
        const sStart = idx * SECTOR;
        if (sStart >= size) this.sectors.delete(idx);
        else if (sStart + SECTOR > size && this.sectors.get(idx) !== ZERO_SECTOR)
          this.sectors.get(idx)!.fill(0, size - sStart);
      }
      this.baseLimit = Math.min(this.baseLimit, size);
    }
    this.len = size;
  }

  async close(): Promise<void> {}

  private async readBase(out: Uint8Array, outBase: number, from: number, to: number): Promise<void> {
    const stop = Math.min(to, this.baseLimit);
    if (from >= stop) return;
    out.set(await this.base.read(from, stop - from), from - outBase);
  }

  private assertWritable(): void {
    if (this.frozen)
      throw new VhdxError("READ_ONLY", "the image is open read-only; its replayed view lives in memory", "file");
  }
}
