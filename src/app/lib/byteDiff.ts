/** The replay preview's diff: byte pairs side by side, the changed ones marked, long ranges summarised. */
import { hexByte } from "./hexFormat";

export interface ByteDiff {
  /** First `shown` bytes as hex pairs, with a flag where before and after differ. */
  cells: { before: string; after: string; changed: boolean }[];
  /** Bytes that differ over the whole compared length. */
  changed: number;
  compared: number;
  /** Offset of the first differing byte, or -1. */
  firstChange: number;
}

/**
 * Compares the bytes a replay would overwrite with what it writes. The window of `shown` bytes
 * starts a little before the first change so the change is in view.
 */
export function diffBytes(before: Uint8Array, after: Uint8Array, shown = 16): ByteDiff {
  const compared = Math.min(before.length, after.length);
  let changed = 0;
  let firstChange = -1;
  for (let i = 0; i < compared; i++) {
    if (before[i] !== after[i]) {
      changed++;
      if (firstChange < 0) firstChange = i;
    }
  }
  const start = firstChange < 0 ? 0 : Math.max(0, Math.min(firstChange - 4, compared - shown)) & ~3;
  const cells: ByteDiff["cells"] = [];
  for (let i = start; i < Math.min(compared, start + shown); i++) {
    cells.push({ before: hexByte(before[i]), after: hexByte(after[i]), changed: before[i] !== after[i] });
  }
  return { cells, changed, compared, firstChange };
}

/** Leading/trailing bytes of a data descriptor as spaced hex. */
export function bytesText(b: Uint8Array | null): string {
  return b ? Array.from(b, hexByte).join(" ") : "—";
}
