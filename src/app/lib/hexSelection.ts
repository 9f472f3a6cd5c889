/**
 * The hex view's selection: the bytes between an anchor (where a drag or a shift-move began) and
 * the cursor, both ends included. Pure arithmetic, so rows can ask for their share cheaply.
 */
import { formatSize, hex } from "./format";

/** A byte range, `end` included. */
export interface ByteRange {
  start: number;
  end: number;
}

/** The selected range, or null without an anchor. */
export function selectionRange(cursor: number, anchor: number | undefined): ByteRange | null {
  if (anchor === undefined) return null;
  return { start: Math.min(anchor, cursor), end: Math.max(anchor, cursor) };
}

export function rangeLength(r: ByteRange): number {
  return r.end - r.start + 1;
}

/**
 * The columns of the row at `rowOffset` (of `perRow` bytes) that `r` covers, as [first, last],
 * or null when it covers none. Rows pass these two numbers to their cells, so a row whose share
 * did not change is not drawn again while a selection grows.
 */
export function rowColumns(r: ByteRange | null, rowOffset: number, perRow: number): [number, number] | null {
  if (!r || r.end < rowOffset || r.start >= rowOffset + perRow) return null;
  return [Math.max(0, r.start - rowOffset), Math.min(perRow - 1, r.end - rowOffset)];
}

/** "0x1be–0x1fd (446–509) · 64 bytes (0x40)": start, end and length, in hex and decimal. */
export function describeRange(r: ByteRange): string {
  const n = rangeLength(r);
  const size = n >= 1024 ? `, ${formatSize(n)}` : "";
  return `${hex(r.start)}–${hex(r.end)} (${r.start}–${r.end}) · ${n} ${n === 1 ? "byte" : "bytes"} (${hex(n)}${size})`;
}
