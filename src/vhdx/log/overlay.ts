import { isAllZero } from "../bytes";
import { VhdxError } from "../errors";
import { RandomAccess } from "../io";

const SECTOR = 4096;

/** A run of whole sectors [start, end), by sector index, that reads as zeros. */
interface ZeroRun {
  start: number;
  end: number;
}

/**
 * A RandomAccess that reads through to a base backend and keeps every write in memory, by 4 KiB
 * sector. The base is never written, flushed or truncated. Used to replay a log without touching
 * the file (§2.3.3 note <5>: a read-only open replays the log in memory).
 *
 * Whole sectors written as zeros are kept as runs, not sectors: a zero descriptor may claim a
 * range as large as the file, and memory must follow what the log holds, not what it claims.
 * A sector held in `sectors` is newer than any zero run it lies in (zeroing a range drops the
 * sectors inside it), so reads look there first, then in the runs, then in the base.
 */
export class OverlayBackend implements RandomAccess {
  readonly base: RandomAccess;
  private readonly sectors = new Map<number, Uint8Array>();
  /** Sorted, disjoint, not touching. */
  private zeroRuns: ZeroRun[] = [];
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
    return this.sectors.size === 0 && this.zeroRuns.length === 0 && this.len === this.baseLimit;
  }

  /** Sector-aligned file ranges that differ from the base (writes), coalesced and sorted. */
  changedRanges(): { start: number; length: number }[] {
    const runs: ZeroRun[] = [...this.sectors.keys()].map((i) => ({ start: i, end: i + 1 }));
    runs.push(...this.zeroRuns);
    runs.sort((a, b) => a.start - b.start);
    const out: { start: number; length: number }[] = [];
    for (const r of runs) {
      const last = out[out.length - 1];
      const lastEnd = last ? (last.start + last.length) / SECTOR : -1;
      if (last && r.start <= lastEnd) last.length = Math.max(lastEnd, r.end) * SECTOR - last.start;
      else out.push({ start: r.start * SECTOR, length: (r.end - r.start) * SECTOR });
    }
    return out;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    const end = Math.min(offset + length, this.len);
    if (offset >= end) return out;
    if (this.sectors.size === 0 && this.zeroRuns.length === 0) {
      await this.readBase(out, offset, offset, end);
      return out;
    }
    // Walk sector by sector; gather runs of sectors not held in memory into one base read.
    let runStart = -1;
    const endBase = async (pos: number) => {
      if (runStart >= 0) await this.readBase(out, offset, runStart, pos);
      runStart = -1;
    };
    for (let pos = offset; pos < end;) {
      const idx = Math.floor(pos / SECTOR);
      const s = this.sectors.get(idx);
      if (s) {
        await endBase(pos);
        const next = Math.min(end, (idx + 1) * SECTOR);
        out.set(s.subarray(pos - idx * SECTOR, next - idx * SECTOR), pos - offset);
        pos = next;
        continue;
      }
      const zero = this.zeroRunAt(idx);
      if (zero) {
        // `out` is zero already; skip to the run's end or the next sector held in memory.
        await endBase(pos);
        let stop = idx + 1;
        while (stop < zero.end && stop * SECTOR < end && !this.sectors.has(stop)) stop++;
        pos = Math.min(end, stop * SECTOR);
        continue;
      }
      if (runStart < 0) runStart = pos;
      pos = Math.min(end, (idx + 1) * SECTOR);
    }
    await endBase(end);
    return out;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    this.assertWritable();
    const end = offset + data.length;
    // Whole sectors of zeros become a zero run; the partial sectors at either end are written.
    const first = Math.ceil(offset / SECTOR);
    const last = Math.floor(end / SECTOR);
    if (last - first >= 1 && isAllZero(data.subarray(first * SECTOR - offset, last * SECTOR - offset))) {
      await this.writeSectors(offset, data.subarray(0, first * SECTOR - offset));
      this.addZeroRun(first, last);
      await this.writeSectors(last * SECTOR, data.subarray(last * SECTOR - offset));
    } else {
      await this.writeSectors(offset, data);
    }
    if (end > this.len) this.len = end;
  }

  async writeZeros(offset: number, length: number): Promise<void> {
    this.assertWritable();
    if (length <= 0) return;
    const end = offset + length;
    const first = Math.ceil(offset / SECTOR);
    const last = Math.floor(end / SECTOR);
    if (last > first) {
      await this.writeSectors(offset, new Uint8Array(first * SECTOR - offset));
      this.addZeroRun(first, last);
      await this.writeSectors(last * SECTOR, new Uint8Array(end - last * SECTOR));
    } else {
      await this.writeSectors(offset, new Uint8Array(length));
    }
    if (end > this.len) this.len = end;
  }

  private async writeSectors(offset: number, data: Uint8Array): Promise<void> {
    const end = offset + data.length;
    for (let pos = offset; pos < end;) {
      const idx = Math.floor(pos / SECTOR);
      const sStart = idx * SECTOR;
      const next = Math.min(end, sStart + SECTOR);
      const piece = data.subarray(pos - offset, next - offset);
      let s = this.sectors.get(idx);
      if (!s) {
        s = piece.length === SECTOR ? new Uint8Array(SECTOR) : await this.read(sStart, SECTOR);
        this.sectors.set(idx, s);
      }
      s.set(piece, pos - sStart);
      pos = next;
    }
  }

  /** The zero run holding sector `idx`, if any (binary search). */
  private zeroRunAt(idx: number): ZeroRun | null {
    const runs = this.zeroRuns;
    let lo = 0;
    let hi = runs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (runs[mid].end <= idx) lo = mid + 1;
      else if (runs[mid].start > idx) hi = mid - 1;
      else return runs[mid];
    }
    return null;
  }

  /** Sectors [start, end) now read as zeros: held sectors inside are dropped, runs merged. */
  private addZeroRun(start: number, end: number): void {
    for (const idx of this.sectors.keys()) if (idx >= start && idx < end) this.sectors.delete(idx);
    const kept: ZeroRun[] = [];
    const merged = { start, end };
    for (const r of this.zeroRuns) {
      if (r.end < merged.start || r.start > merged.end) kept.push(r);
      else {
        merged.start = Math.min(merged.start, r.start);
        merged.end = Math.max(merged.end, r.end);
      }
    }
    kept.push(merged);
    kept.sort((a, b) => a.start - b.start);
    this.zeroRuns = kept;
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
        else if (sStart + SECTOR > size) this.sectors.get(idx)!.fill(0, size - sStart);
      }
      // Runs past the new end go; a run's sectors that straddle it stay zero, which they are.
      const limit = Math.ceil(size / SECTOR);
      this.zeroRuns = this.zeroRuns
        .filter((r) => r.start < limit)
        .map((r) => ({ start: r.start, end: Math.min(r.end, limit) }));
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
