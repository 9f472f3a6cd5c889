/**
 * Which file ranges a structure patch (a raw-file edit) may write, as one rule shared by the
 * engine's commit (structurePatch.ts) and the hex view, which shades the other ranges and refuses
 * typing there before anything is staged. Pure: it sees only where the structures lie.
 */
import { hex } from "./errors";
import { HEADER_OFFSETS, HEADER_SIZE } from "./header";
import { REGION_TABLE_OFFSETS, REGION_TABLE_SIZE } from "./regionTable";

export interface FileRange {
  fileOffset: number;
  length: number;
}

/** Where the structures a raw edit may touch lie: the BAT and metadata regions, and the current header's log. */
export interface StructureLayout {
  bat: FileRange;
  metadata: FileRange;
  log: FileRange;
}

/** A file range no raw edit may write, with the reason in words. */
export interface ProtectedRange {
  start: number;
  end: number;
  reason: string;
}

const IDENTIFIER_REASON = "the file type identifier (the first 64 KiB) is never written";
const HEADERS_REASON = "the headers change only through the header update protocol";
const LOG_REASON = "the log region is written only by the log";
const PAYLOAD_REASON =
  "only the BAT, the metadata region and the region tables take raw edits; payload changes are virtual-disk patches";

/** Why [fileOffset, fileOffset + length) may not be patched directly, or null when it may. */
export function structureRangeProblemIn(layout: StructureLayout, fileOffset: number, length: number): string | null {
  const end = fileOffset + length;
  const inside = (s: number, l: number) => fileOffset >= s && end <= s + l;
  if (!Number.isSafeInteger(fileOffset) || fileOffset < 0 || length <= 0)
    return `range ${fileOffset}+${length} is not a file range`;
  // §2.2.1: the file type identifier is never overwritten.
  if (fileOffset < HEADER_OFFSETS[0]) return IDENTIFIER_REASON;
  // §2.2.2.1: headers change only through the update protocol (sequence number, checksum, flush order).
  if (fileOffset < REGION_TABLE_OFFSETS[0]) {
    return `[${hex(fileOffset)}, ${hex(end)}) touches the headers (${hex(HEADER_OFFSETS[0])}–${hex(HEADER_OFFSETS[1] + HEADER_SIZE)}), which change only through the header update protocol`;
  }
  if (inside(REGION_TABLE_OFFSETS[0], 2 * REGION_TABLE_SIZE)) return null;
  if (inside(layout.bat.fileOffset, layout.bat.length)) return null;
  if (inside(layout.metadata.fileOffset, layout.metadata.length)) return null;
  const log = layout.log;
  if (fileOffset < log.fileOffset + log.length && end > log.fileOffset) return LOG_REASON;
  return `[${hex(fileOffset)}, ${hex(end)}) is not inside the BAT, the metadata region or a region table; payload changes are virtual-disk patches`;
}

/**
 * The complement of what `structureRangeProblemIn` allows over [0, fileSize), as sorted disjoint
 * ranges, each with its reason. A byte lies in one of them exactly when a one-byte edit of it is refused.
 */
export function protectedRanges(layout: StructureLayout, fileSize: number): ProtectedRange[] {
  const writable: [number, number][] = [
    [REGION_TABLE_OFFSETS[0], REGION_TABLE_OFFSETS[0] + 2 * REGION_TABLE_SIZE],
    [layout.bat.fileOffset, layout.bat.fileOffset + layout.bat.length],
    [layout.metadata.fileOffset, layout.metadata.fileOffset + layout.metadata.length],
  ]
    .map(([s, e]): [number, number] => [Math.max(s, REGION_TABLE_OFFSETS[0]), e])
    .filter(([s, e]) => e > s)
    .sort((a, b) => a[0] - b[0]);
  // Fixed reasons first (they win over a writable region placed on top of them by a damaged table).
  const fixed: ProtectedRange[] = [
    { start: 0, end: HEADER_OFFSETS[0], reason: IDENTIFIER_REASON },
    { start: HEADER_OFFSETS[0], end: REGION_TABLE_OFFSETS[0], reason: HEADERS_REASON },
  ];
  const out: ProtectedRange[] = [];
  const push = (start: number, end: number, reason: string) => {
    const s = Math.max(0, start);
    const e = Math.min(fileSize, end);
    if (e <= s) return;
    const last = out[out.length - 1];
    if (last && last.end === s && last.reason === reason) last.end = e;
    else out.push({ start: s, end: e, reason });
  };
  for (const f of fixed) push(f.start, f.end, f.reason);
  // Past the header section: the gaps between writable regions, split where they meet the log.
  const log: [number, number] = [layout.log.fileOffset, layout.log.fileOffset + layout.log.length];
  let at: number = REGION_TABLE_OFFSETS[0];
  const gap = (s: number, e: number) => {
    if (e <= s) return;
    const ls = Math.max(s, log[0]);
    const le = Math.min(e, log[1]);
    if (le > ls) {
      push(s, ls, PAYLOAD_REASON);
      push(ls, le, LOG_REASON);
      push(le, e, PAYLOAD_REASON);
    } else push(s, e, PAYLOAD_REASON);
  };
  for (const [s, e] of writable) {
    gap(at, s);
    at = Math.max(at, e);
  }
  gap(at, Math.max(fileSize, at));
  return out;
}

/** The range of `ranges` (sorted, disjoint) holding `offset`, or null. */
export function protectedAt(ranges: readonly ProtectedRange[], offset: number): ProtectedRange | null {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid];
    if (offset < r.start) hi = mid - 1;
    else if (offset >= r.end) lo = mid + 1;
    else return r;
  }
  return null;
}
