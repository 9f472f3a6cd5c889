/**
 * A file's logical blocks mapped to volume blocks, as read from its extent tree or block map:
 * sorted runs, holes left out (a gap between runs, or a run without a block, reads as zeros).
 */
import type { FsFinding } from "../types";

export interface BlockRun {
  /** First logical block of the file. */
  logical: number;
  count: number;
  /** First volume block, or null for an uninitialized extent (reads as zeros). */
  physical: number | null;
}

export interface FileMap {
  runs: BlockRun[];
  /** Blocks of the map itself: extent tree nodes below the root, indirect blocks. */
  mapBlocks: number[];
  findings: FsFinding[];
}

/** Index of the last run starting at or before `logical`, or -1. */
export function runAt(runs: readonly BlockRun[], logical: number): number {
  let lo = 0;
  let hi = runs.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (runs[mid].logical <= logical) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** Appends a run, merging it into the previous one when both are contiguous on the volume. */
export function pushRun(runs: BlockRun[], logical: number, count: number, physical: number | null): void {
  const last = runs[runs.length - 1];
  if (
    last &&
    last.logical + last.count === logical &&
    ((last.physical === null && physical === null) ||
      (last.physical !== null && physical !== null && last.physical + last.count === physical))
  ) {
    last.count += count;
    return;
  }
  runs.push({ logical, count, physical });
}
