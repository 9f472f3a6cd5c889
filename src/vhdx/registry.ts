import { MiB } from "./bytes";
import { hex, VhdxError } from "./errors";

/**
 * The region overlap registry: every structure and allocated block is registered with its file
 * range and checked against all others (§2.1: "non-overlapping structures", §2.2.3.2, §2.5.1).
 * Structures are kept as objects; blocks, which can number in the millions, in typed arrays.
 */
export type ExtentKind =
  "header-section" | "log" | "bat" | "metadata" | "region" | "payload-block" | "sector-bitmap-block";

export interface Extent {
  start: number;
  length: number;
  kind: ExtentKind;
  name: string;
  /** For blocks: the BAT entry index. */
  index?: number;
  /** A retained block: an UNMAPPED or UNDEFINED entry's old contents (§2.5.1.1). */
  retained?: boolean;
  /**
   * A run of blocks (RegionRegistry.runs): how many, and the highest BAT entry among them (`index`
   * is the lowest). Blocks of a run touch in the file; their entries need not be consecutive.
   */
  blocks?: number;
  lastIndex?: number;
}

const BLOCK_PAYLOAD = 0;
const BLOCK_SECTOR_BITMAP = 1;
const BLOCK_RETAINED = 2;

export interface Gap {
  start: number;
  length: number;
}

/** At most this many overlapping pairs are reported; a hostile BAT could otherwise name millions. */
const MAX_OVERLAPS = 1000;

export class RegionRegistry {
  private readonly structures: Extent[] = [];
  private blockStart = new Float64Array(64);
  private blockLength = new Float64Array(64);
  private blockEntry = new Uint32Array(64);
  /** BLOCK_PAYLOAD, BLOCK_SECTOR_BITMAP or BLOCK_RETAINED. */
  private blockSb = new Uint8Array(64);
  private blockCount = 0;
  private sorted: Int32Array | null = null;

  add(e: Extent): void {
    if (e.kind === "payload-block" || e.kind === "sector-bitmap-block") {
      this.addBlock(e.start, e.length, e.index ?? 0, e.kind === "sector-bitmap-block", e.retained === true);
    } else {
      this.structures.push(e);
      this.sorted = null;
    }
  }

  /**
   * A block owning [start, start + length): a payload block, a sector bitmap block, or (`retained`)
   * the space an UNMAPPED or UNDEFINED entry keeps with its old contents (§2.5.1.1).
   */
  addBlock(start: number, length: number, batIndex: number, sectorBitmap: boolean, retained = false): void {
    if (this.blockCount === this.blockStart.length) this.growBlocks();
    const i = this.blockCount++;
    this.blockStart[i] = start;
    this.blockLength[i] = length;
    this.blockEntry[i] = batIndex;
    this.blockSb[i] = sectorBitmap ? BLOCK_SECTOR_BITMAP : retained ? BLOCK_RETAINED : BLOCK_PAYLOAD;
    this.sorted = null;
  }

  /** Drops the block registered for BAT entry `batIndex` (after a copy-on-write switch, for example). */
  removeBlock(batIndex: number, sectorBitmap: boolean): void {
    for (let i = 0; i < this.blockCount; i++) {
      if (this.blockEntry[i] === batIndex && (this.blockSb[i] === BLOCK_SECTOR_BITMAP) === sectorBitmap) {
        const last = --this.blockCount;
        this.blockStart[i] = this.blockStart[last];
        this.blockLength[i] = this.blockLength[last];
        this.blockEntry[i] = this.blockEntry[last];
        this.blockSb[i] = this.blockSb[last];
        this.sorted = null;
        return;
      }
    }
  }

  get size(): number {
    return this.structures.length + this.blockCount;
  }

  structureExtents(): readonly Extent[] {
    return this.structures;
  }

  /** Every extent, sorted by start. Materialises block objects: meant for maps, not hot paths. */
  extents(): Extent[] {
    const order = this.order();
    const out: Extent[] = new Array(order.length);
    for (let k = 0; k < order.length; k++) out[k] = this.extentAt(order[k]);
    return out;
  }

  /** Every overlapping pair (up to 1000), each pair once, in file order. */
  overlaps(): [Extent, Extent][] {
    const order = this.order();
    const out: [Extent, Extent][] = [];
    let owner = -1;
    let ownerEnd = -1;
    for (let k = 0; k < order.length && out.length < MAX_OVERLAPS; k++) {
      const i = order[k];
      const s = this.startOf(i);
      const e = s + this.lengthOf(i);
      if (this.lengthOf(i) === 0) continue;
      if (owner >= 0 && s < ownerEnd) out.push([this.extentAt(owner), this.extentAt(i)]);
      if (e > ownerEnd) {
        owner = i;
        ownerEnd = e;
      }
    }
    return out;
  }

  /** Throws REGION_OVERLAP naming both parties and both ranges of the first overlap. */
  check(filter: (a: Extent, b: Extent) => boolean = () => true): void {
    for (const [a, b] of this.overlaps()) {
      if (!filter(a, b)) continue;
      throw new VhdxError("REGION_OVERLAP", `${describeExtent(a)} overlaps ${describeExtent(b)}`, b.name, b.start);
    }
  }

  /** The extent holding `fileOffset`, if any (the first by start when several do). */
  find(fileOffset: number): Extent | undefined {
    const order = this.order();
    // Binary search for the last extent starting at or before fileOffset, then walk back.
    let lo = 0;
    let hi = order.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.startOf(order[mid]) <= fileOffset) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    for (let k = best; k >= 0 && k > best - 64; k--) {
      const i = order[k];
      if (fileOffset < this.startOf(i) + this.lengthOf(i)) return this.extentAt(i);
    }
    return undefined;
  }

  /** Free ranges between 0 and `fileSize` that no extent covers, aligned inward to `align`. */
  freeGaps(fileSize: number, align = MiB): Gap[] {
    const order = this.order();
    const gaps: Gap[] = [];
    let cursor = 0;
    const push = (from: number, to: number) => {
      const s = Math.ceil(from / align) * align;
      const e = Math.floor(to / align) * align;
      if (e > s) gaps.push({ start: s, length: e - s });
    };
    for (let k = 0; k < order.length; k++) {
      const i = order[k];
      const s = this.startOf(i);
      if (s > cursor) push(cursor, Math.min(s, fileSize));
      cursor = Math.max(cursor, s + this.lengthOf(i));
      if (cursor >= fileSize) break;
    }
    if (cursor < fileSize) push(cursor, fileSize);
    return gaps;
  }

  /** The end of the last extent: the smallest file size all registered structures fit in. */
  end(): number {
    let end = 0;
    for (const e of this.structures) end = Math.max(end, e.start + e.length);
    for (let i = 0; i < this.blockCount; i++) end = Math.max(end, this.blockStart[i] + this.blockLength[i]);
    return end;
  }

  private startOf(i: number): number {
    const n = this.structures.length;
    return i < n ? this.structures[i].start : this.blockStart[i - n];
  }

  private lengthOf(i: number): number {
    const n = this.structures.length;
    return i < n ? this.structures[i].length : this.blockLength[i - n];
  }

  private extentAt(i: number): Extent {
    const n = this.structures.length;
    if (i < n) return this.structures[i];
    const b = i - n;
    const what = this.blockSb[b];
    const sb = what === BLOCK_SECTOR_BITMAP;
    const name = sb ? "sector bitmap block" : what === BLOCK_RETAINED ? "retained block" : "payload block";
    return {
      start: this.blockStart[b],
      length: this.blockLength[b],
      kind: sb ? "sector-bitmap-block" : "payload-block",
      name: `${name} (BAT entry ${this.blockEntry[b]})`,
      index: this.blockEntry[b],
      ...(what === BLOCK_RETAINED ? { retained: true } : {}),
    };
  }

  /**
   * Every extent meeting [from, to), sorted by start, with runs of blocks coalesced: consecutive
   * blocks (in file order) of one kind — payload, sector bitmap or retained — whose gap is less
   * than `granularity` bytes (0 for none: only touching blocks) become one extent naming its first
   * and last BAT entry and its block count. Memory follows the runs, not the block count: a fixed
   * 1 TiB image of 1 MiB blocks is one extent.
   */
  runs(from: number, to: number, granularity = 0): Extent[] {
    const order = this.order();
    const n = this.structures.length;
    const out: Extent[] = [];
    let run: { e: Extent; what: number; end: number; first: number; last: number; blocks: number } | null = null;
    const close = () => {
      if (!run) return;
      const e = run.e;
      if (run.blocks > 1) {
        const what =
          run.what === BLOCK_SECTOR_BITMAP
            ? "sector bitmap blocks"
            : run.what === BLOCK_RETAINED
              ? "retained blocks"
              : "payload blocks";
        out.push({
          ...e,
          length: run.end - e.start,
          name: `${run.blocks} ${what} (BAT entries ${run.first}–${run.last})`,
          index: run.first,
          lastIndex: run.last,
          blocks: run.blocks,
        });
      } else out.push(e);
      run = null;
    };
    // Extents are sorted by start, not end: a long one starting early can still reach the window.
    let longest = 0;
    for (const e of this.structures) longest = Math.max(longest, e.length);
    for (let i = 0; i < this.blockCount; i++) longest = Math.max(longest, this.blockLength[i]);
    for (let k = this.firstStartingAtOrAfter(order, from - longest); k < order.length; k++) {
      const i = order[k];
      const s = this.startOf(i);
      if (s >= to) break;
      const len = this.lengthOf(i);
      if (s + len <= from && len > 0) continue;
      if (i < n) {
        close();
        out.push(this.structures[i]);
        continue;
      }
      const b = i - n;
      const what = this.blockSb[b];
      const entry = this.blockEntry[b];
      if (run && run.what === what && s >= run.end && s - run.end < Math.max(granularity, 1)) {
        run.end = Math.max(run.end, s + len);
        run.first = Math.min(run.first, entry);
        run.last = Math.max(run.last, entry);
        run.blocks++;
        continue;
      }
      close();
      run = { e: this.extentAt(i), what, end: s + len, first: entry, last: entry, blocks: 1 };
    }
    close();
    return out;
  }

  private firstStartingAtOrAfter(order: Int32Array, at: number): number {
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.startOf(order[mid]) < at) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The retained blocks (§2.5.1.1: UNMAPPED or UNDEFINED entries keeping their space), by start. */
  retainedBlocks(): Extent[] {
    const out: Extent[] = [];
    const n = this.structures.length;
    for (const i of this.order()) if (i >= n && this.blockSb[i - n] === BLOCK_RETAINED) out.push(this.extentAt(i));
    return out;
  }

  private order(): Int32Array {
    if (this.sorted) return this.sorted;
    const n = this.structures.length + this.blockCount;
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    const starts = new Float64Array(n);
    let aligned = n < 1 << 22;
    for (let i = 0; i < n; i++) {
      const s = this.startOf(i);
      starts[i] = s;
      if (aligned && (s % MiB !== 0 || s / MiB >= 2 ** 30)) aligned = false;
    }
    if (aligned) {
      // Fast path: MiB-aligned starts pack with their index into one exact float, sorted natively.
      const keys = new Float64Array(n);
      for (let i = 0; i < n; i++) keys[i] = (starts[i] / MiB) * 4194304 + i;
      keys.sort();
      for (let k = 0; k < n; k++) idx[k] = keys[k] % 4194304;
      this.sorted = idx;
      return idx;
    }
    const arr = Array.from(idx);
    arr.sort((a, b) => starts[a] - starts[b] || a - b);
    this.sorted = Int32Array.from(arr);
    return this.sorted;
  }

  private growBlocks(): void {
    const n = this.blockStart.length * 2;
    const s = new Float64Array(n);
    s.set(this.blockStart);
    const l = new Float64Array(n);
    l.set(this.blockLength);
    const e = new Uint32Array(n);
    e.set(this.blockEntry);
    const b = new Uint8Array(n);
    b.set(this.blockSb);
    this.blockStart = s;
    this.blockLength = l;
    this.blockEntry = e;
    this.blockSb = b;
  }
}

export function describeExtent(e: Extent): string {
  return `${e.name} [${hex(e.start)}, ${hex(e.start + e.length)})`;
}
