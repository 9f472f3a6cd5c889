/**
 * The region map's arithmetic: the whole file, offset 0 to its end (or past it, when something
 * points there), cut into equal cells; each cell takes the kind of what lies in it. Structures are
 * painted after blocks so a small structure still shows in a cell full of payload.
 */
import type { ExtentKind, FileMap, MapExtent } from "../store/engineApi";

export const MiB = 1024 * 1024;
/** Finest zoom: 64 KiB cells, so the header section's parts separate (§2.1: 64 KiB structures). */
export const MIN_CELL_BYTES = 64 * 1024;

export const CELL_FREE = 0;
export const CELL_PAST_END = 1;
const KIND_CODES: Record<ExtentKind, number> = {
  "payload-block": 2,
  "sector-bitmap-block": 3,
  region: 4,
  log: 5,
  bat: 6,
  metadata: 7,
  "header-section": 8,
};
const REGION_TABLE_CODE = 9;
export const CELL_KIND_NAMES = [
  "free space",
  "past the end of the file",
  "payload block",
  "sector bitmap block",
  "unknown region",
  "log",
  "BAT",
  "metadata region",
  "header section",
  "region table",
] as const;

/** The cell kind of an extent. The map names the header section's parts (§2.2); region tables get their own colour. */
export function kindCode(e: { kind: ExtentKind; name: string }): number {
  if (e.kind === "header-section" && /^region table/i.test(e.name)) return REGION_TABLE_CODE;
  return KIND_CODES[e.kind] ?? KIND_CODES.region;
}

export interface RegionLayout {
  /** Bytes shown: max(file size, end of the furthest extent). */
  totalBytes: number;
  fileSize: number;
  bytesPerCell: number;
  /** Cells of the whole span. */
  cellCount: number;
  /** The first cell laid out: `kinds` and `overlap` hold cells [firstCell, firstCell + kinds.length). */
  firstCell: number;
  /** Kind code per cell laid out. */
  kinds: Uint8Array;
  /** 1 where two structures overlap inside the cell. */
  overlap: Uint8Array;
}

/** The span the map must show. */
export function mapExtentEnd(map: FileMap): number {
  let end = Math.max(map.fileSize, map.extentEnd);
  for (const e of map.extents) end = Math.max(end, e.start + e.length);
  return end;
}

/**
 * Zoom levels as bytes per cell, coarsest first: the whole span in about `targetCells` cells,
 * halving down to MIN_CELL_BYTES. Every level is a power of two times 64 KiB.
 */
export function zoomLevels(totalBytes: number, targetCells: number): number[] {
  let coarsest = MIN_CELL_BYTES;
  while (coarsest * targetCells < totalBytes) coarsest *= 2;
  const levels: number[] = [];
  for (let b = coarsest; b >= MIN_CELL_BYTES; b /= 2) levels.push(b);
  return levels;
}

/** Cells of `totalBytes` at `bytesPerCell`. */
export function cellCountOf(totalBytes: number, bytesPerCell: number): number {
  return Math.max(1, Math.ceil(totalBytes / bytesPerCell));
}

/**
 * Lays out cells [firstCell, firstCell + cells) of the map at `bytesPerCell` (all of them by
 * default): memory follows the cells drawn, not the file. `map` needs to cover those cells only
 * (a window the engine was asked for).
 */
export function layoutRegionMap(map: FileMap, bytesPerCell: number, firstCell = 0, cells?: number): RegionLayout {
  const totalBytes = mapExtentEnd(map);
  const cellCount = cellCountOf(totalBytes, bytesPerCell);
  const first = Math.max(0, Math.min(firstCell, cellCount - 1));
  const n = Math.max(0, Math.min(cells ?? cellCount - first, cellCount - first));
  const kinds = new Uint8Array(n);
  const overlap = new Uint8Array(n);
  // Cells [c0, c1) of [start, start + length), relative to the first cell laid out.
  const span = (start: number, length: number): [number, number] => [
    Math.max(0, Math.floor(start / bytesPerCell) - first),
    Math.min(n, Math.ceil((start + length) / bytesPerCell) - first),
  ];
  const paint = (into: Uint8Array, start: number, length: number, code: number) => {
    if (length <= 0) return;
    const [a, b] = span(start, length);
    for (let c = a; c < b; c++) into[c] = code;
  };
  const inFile = (e: MapExtent) => Math.max(0, Math.min(e.length, map.fileSize - e.start));
  // Past-the-end first, then blocks, then structures: later paints win.
  paint(kinds, map.fileSize, totalBytes - map.fileSize, CELL_PAST_END);
  const isBlock = (e: MapExtent) => e.kind === "payload-block" || e.kind === "sector-bitmap-block";
  for (const e of map.extents) if (isBlock(e)) paint(kinds, e.start, inFile(e), kindCode(e));
  // Structures largest first. A smaller structure takes a cell another structure already holds
  // only when it fills at least half of it, so a 64 KiB region table does not rename the whole
  // 1 MiB header section, yet shows on its own at 64 KiB cells.
  const structures = map.extents.filter((e) => !isBlock(e)).sort((a, b) => b.length - a.length);
  const owned = new Uint8Array(n);
  for (const e of structures) {
    const len = inFile(e);
    if (len <= 0) continue;
    const end = e.start + len;
    const [a, b] = span(e.start, len);
    for (let c = a; c < b; c++) {
      const at = (c + first) * bytesPerCell;
      const covered = Math.min(end, at + bytesPerCell) - Math.max(e.start, at);
      if (owned[c] && covered * 2 < bytesPerCell) continue;
      kinds[c] = kindCode(e);
      owned[c] = 1;
    }
  }
  for (const o of map.overlaps) {
    const s = Math.max(o.a.start, o.b.start);
    const e = Math.min(o.a.start + o.a.length, o.b.start + o.b.length);
    paint(overlap, s, Math.max(e - s, 1), 1);
  }
  return { totalBytes, fileSize: map.fileSize, bytesPerCell, cellCount, firstCell: first, kinds, overlap };
}

/** File range a cell covers. */
export function cellRange(layout: RegionLayout, cell: number): { start: number; end: number } {
  const start = cell * layout.bytesPerCell;
  return { start, end: Math.min(layout.totalBytes, start + layout.bytesPerCell) };
}

/** Rows needed for `cellCount` cells at `columns` per row. */
export function rowsFor(cellCount: number, columns: number): number {
  return Math.ceil(cellCount / columns);
}

/** Extents sorted by start, with the longest length, for fast "what is here" queries. */
export interface ExtentIndex {
  sorted: MapExtent[];
  maxLength: number;
}

export function indexExtents(extents: readonly MapExtent[]): ExtentIndex {
  const sorted = [...extents].sort((a, b) => a.start - b.start);
  let maxLength = 0;
  for (const e of sorted) maxLength = Math.max(maxLength, e.length);
  return { sorted, maxLength };
}

/** Every extent intersecting [start, end), at most `limit` of them (in file order). */
export function extentsIn(index: ExtentIndex, start: number, end: number, limit = 8): MapExtent[] {
  const s = index.sorted;
  // First extent starting at or after `end`.
  let lo = 0;
  let hi = s.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (s[mid].start < end) lo = mid + 1;
    else hi = mid;
  }
  const found: MapExtent[] = [];
  for (let i = lo - 1; i >= 0; i--) {
    if (s[i].start + index.maxLength <= start) break;
    if (s[i].start + s[i].length > start) found.push(s[i]);
  }
  found.reverse();
  return found.length > limit ? found.slice(found.length - limit) : found;
}

/**
 * A cell's owners in words: structures by name and range, blocks counted per kind with their BAT
 * entry range, so a coarse cell holding hundreds of payload blocks reads in one line.
 */
export function describeOwners(owners: readonly MapExtent[], hex: (n: number) => string): string {
  const parts: string[] = [];
  const blocks = new Map<string, MapExtent[]>();
  for (const o of owners) {
    if (o.kind === "payload-block" || o.kind === "sector-bitmap-block") {
      const list = blocks.get(o.kind) ?? [];
      list.push(o);
      blocks.set(o.kind, list);
    } else parts.push(`${o.name} [${hex(o.start)}–${hex(o.start + o.length)})`);
  }
  for (const [kind, list] of blocks) {
    const what = kind === "payload-block" ? "payload block" : "sector bitmap block";
    if (list.length === 1 && (list[0].blocks ?? 1) === 1) {
      const o = list[0];
      parts.push(`${o.name} [${hex(o.start)}–${hex(o.start + o.length)})`);
      continue;
    }
    // A run of blocks (the engine's coalesced extents) counts as its blocks, its entries first to last.
    let count = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (const o of list) {
      count += o.blocks ?? 1;
      if (o.index !== undefined) lo = Math.min(lo, o.index);
      hi = Math.max(hi, o.lastIndex ?? o.index ?? -Infinity);
    }
    const range = lo <= hi ? `, BAT entries ${lo}–${hi}` : "";
    parts.push(`${count} ${what}s${range}`);
  }
  return parts.join(" · ");
}
