/**
 * Writes staged in a FileSystemWritableFileStream are invisible to reads until the stream is
 * closed, yet the engine reads back what it wrote within one commit (log entries, BAT pages).
 * The overlay keeps those staged bytes as sorted, non-overlapping extents so reads see them.
 */
interface Extent {
  start: number;
  bytes: Uint8Array;
}

export class WriteOverlay {
  private extents: Extent[] = [];
  private held = 0;

  /** Bytes held in memory. */
  get bytes(): number {
    return this.held;
  }

  get isEmpty(): boolean {
    return this.extents.length === 0;
  }

  /** Records `data` written at `offset`; later writes win where they overlap earlier ones. */
  add(offset: number, data: Uint8Array): void {
    if (data.length === 0) return;
    const end = offset + data.length;
    // Every extent touching or adjacent to [offset, end) merges into one.
    const i = this.firstEndingAtOrAfter(offset);
    let j = i;
    while (j < this.extents.length && this.extents[j].start <= end) j++;
    const merged = this.extents.slice(i, j);
    const start = Math.min(offset, merged.length ? merged[0].start : offset);
    const last = merged.length ? merged[merged.length - 1] : undefined;
    const stop = Math.max(end, last ? last.start + last.bytes.length : end);
    const bytes = new Uint8Array(stop - start);
    for (const e of merged) {
      bytes.set(e.bytes, e.start - start);
      this.held -= e.bytes.length;
    }
    bytes.set(data, offset - start);
    this.extents.splice(i, j - i, { start, bytes });
    this.held += bytes.length;
  }

  /** Copies the staged bytes that fall inside [offset, offset + out.length) over `out`. */
  applyTo(out: Uint8Array, offset: number): void {
    const end = offset + out.length;
    for (let i = this.firstEndingAtOrAfter(offset + 1); i < this.extents.length; i++) {
      const e = this.extents[i];
      if (e.start >= end) break;
      const from = Math.max(offset, e.start);
      const to = Math.min(end, e.start + e.bytes.length);
      if (from < to) out.set(e.bytes.subarray(from - e.start, to - e.start), from - offset);
    }
  }

  /** Drops staged bytes at and past `size`. */
  truncate(size: number): void {
    const kept: Extent[] = [];
    this.held = 0;
    for (const e of this.extents) {
      if (e.start >= size) continue;
      const bytes = e.start + e.bytes.length > size ? e.bytes.slice(0, size - e.start) : e.bytes;
      kept.push({ start: e.start, bytes });
      this.held += bytes.length;
    }
    this.extents = kept;
  }

  clear(): void {
    this.extents = [];
    this.held = 0;
  }

  /** The staged extents, in file order (for tests and diagnostics). */
  ranges(): { start: number; length: number }[] {
    return this.extents.map((e) => ({ start: e.start, length: e.bytes.length }));
  }

  /** Index of the first extent whose end is at or after `pos`. */
  private firstEndingAtOrAfter(pos: number): number {
    let lo = 0;
    let hi = this.extents.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const e = this.extents[mid];
      if (e.start + e.bytes.length < pos) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
