/**
 * A folder's listing kept in columns (`readDirColumns`): names, types, sizes and times in arrays,
 * sorted as an order of indices, and an entry object made only for the rows asked for. A folder
 * of 100,000 names is counted, sorted and its first page shown without 100,000 objects.
 */
import type { EntryColumns, FsEntry } from "../../fs/types";
import { sortColumns, type SortOrder } from "./order";

export class ColumnListing {
  readonly names: string[] = [];
  types: Uint8Array = new Uint8Array(0);
  sizes: Float64Array = new Float64Array(0);
  mtimes: Float64Array = new Float64Array(0);
  /** Position in the sorted order → index into the columns. */
  order: Uint32Array = new Uint32Array(0);
  private readonly runs: EntryColumns[] = [];
  /** Index of each run's first entry. */
  private readonly starts: number[] = [];
  /** Entries made (and made whole) so far, by index into the columns. */
  private readonly made = new Map<number, FsEntry>();

  get length(): number {
    return this.names.length;
  }

  /** Reads the runs; null when `stop` said so. At most `max` entries are kept. */
  static async read(
    it: AsyncIterable<EntryColumns>,
    stop: () => boolean,
    onCount: (n: number) => void,
    max: number,
  ): Promise<ColumnListing | null> {
    const l = new ColumnListing();
    let told = 0;
    for await (const run of it) {
      if (stop()) return null;
      l.starts.push(l.names.length);
      l.runs.push(run);
      for (const name of run.names) l.names.push(name);
      if (l.names.length >= max) {
        l.names.length = max;
        break;
      }
      if (l.names.length - told >= 4096) onCount((told = l.names.length));
    }
    const n = l.names.length;
    l.types = new Uint8Array(n);
    l.sizes = new Float64Array(n);
    l.mtimes = new Float64Array(n);
    l.runs.forEach((run, r) => {
      const at = l.starts[r];
      const k = Math.min(run.names.length, n - at);
      l.types.set(run.types.subarray(0, k), at);
      l.sizes.set(run.sizes.subarray(0, k), at);
      l.mtimes.set(run.mtimes.subarray(0, k), at);
    });
    return l;
  }

  sort(order: SortOrder): void {
    this.order = sortColumns(this, order);
  }

  /** The entry at position `i` of the sorted order: as made whole by `set`, or from the directory alone. */
  at(i: number): FsEntry {
    const index = this.order[i];
    const made = this.made.get(index);
    if (made) return made;
    // The run holding the index: the last one starting at or before it.
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= index) lo = mid;
      else hi = mid - 1;
    }
    const e = this.runs[lo].entry(index - this.starts[lo]);
    this.made.set(index, e);
    return e;
  }

  /** Keeps `e` for position `i` of the sorted order (the entry made whole). */
  set(i: number, e: FsEntry): void {
    this.made.set(this.order[i], e);
  }
}
