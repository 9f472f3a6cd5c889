/** A set of byte ranges [start, end), kept sorted and merged. */
export class RangeSet {
  private starts: number[] = [];
  private ends: number[] = [];

  get size(): number {
    return this.starts.length;
  }

  add(start: number, end: number): void {
    if (end <= start) return;
    // Ranges touching [start, end) merge with it.
    let i = 0;
    while (i < this.starts.length && this.ends[i] < start) i++;
    let j = i;
    while (j < this.starts.length && this.starts[j] <= end) {
      start = Math.min(start, this.starts[j]);
      end = Math.max(end, this.ends[j]);
      j++;
    }
    this.starts.splice(i, j - i, start);
    this.ends.splice(i, j - i, end);
  }

  intersects(start: number, end: number): boolean {
    for (let i = 0; i < this.starts.length && this.starts[i] < end; i++) if (this.ends[i] > start) return true;
    return false;
  }

  /** Drops everything at and past `size`. */
  truncate(size: number): void {
    const s: number[] = [];
    const e: number[] = [];
    for (let i = 0; i < this.starts.length; i++) {
      if (this.starts[i] >= size) break;
      s.push(this.starts[i]);
      e.push(Math.min(this.ends[i], size));
    }
    this.starts = s;
    this.ends = e;
  }

  clear(): void {
    this.starts = [];
    this.ends = [];
  }

  ranges(): [number, number][] {
    return this.starts.map((s, i) => [s, this.ends[i]]);
  }
}
