/**
 * Whether staged hex edits stand in the way of writing a file at [offset, offset + size) of the
 * virtual disk. Such edits are refused rather than committed first or dropped:
 * - staged virtual bytes inside the range would be overwritten by the file at once, so committing
 *   them first writes them for nothing, and dropping them loses what the user typed unasked;
 * - staged raw-file edits were made against the structures as they are now (BAT entries, metadata),
 *   and the write moves blocks and rewrites BAT entries under them.
 * Staged virtual edits elsewhere stay staged; the file's write does not touch their bytes.
 */
import type { PatchWrite } from "../store/engineApi";

export function stagedConflict(patch: readonly PatchWrite[], offset: number, size: number): string | null {
  const raw = patch.filter((w) => w.space === "file");
  if (raw.length > 0) {
    return `${raw.length === 1 ? "a raw file edit is" : `${raw.length} raw file edits are`} staged; the write rewrites BAT entries under them. Commit or discard the staged edits first`;
  }
  const end = offset + size;
  const inside = patch.filter((w) => w.space === "virtual" && w.offset < end && w.offset + w.data.length > offset);
  if (inside.length === 0 || size === 0) return null;
  const bytes = inside.reduce((n, w) => n + Math.min(end, w.offset + w.data.length) - Math.max(offset, w.offset), 0);
  return `${bytes} staged byte${bytes === 1 ? "" : "s"} ${bytes === 1 ? "lies" : "lie"} inside the range the file would overwrite. Commit or discard the staged edits first`;
}
