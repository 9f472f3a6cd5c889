/**
 * Staged edits before a commit: an ordered list of writes laid over the engine's bytes, with
 * undo and redo. Nothing here touches the image; the stage becomes a patch only on "Commit".
 * Immutable values, so the store can keep them in state and React can compare them.
 */
import type { ByteSpace, PatchWrite } from "../store/engineApi";

export interface StagedWrite {
  space: ByteSpace;
  offset: number;
  data: Uint8Array;
  /** Typing coalesces into one undo step; a paste never does. */
  kind: "type" | "paste";
  /** Milliseconds, for the coalescing window. */
  time: number;
}

export interface EditStage {
  writes: readonly StagedWrite[];
  redo: readonly StagedWrite[];
}

export const EMPTY_STAGE: EditStage = { writes: [], redo: [] };

/** Typing within this many milliseconds of the previous keystroke joins the same undo step. */
export const COALESCE_MS = 1500;

/**
 * Adds a write. A typed write that continues or overwrites inside the previous typed write (same
 * space, within the coalescing window) merges into it, so undo removes the whole run of typing.
 * Any new write clears the redo list.
 */
export function stageWrite(stage: EditStage, w: StagedWrite): EditStage {
  const last = stage.writes[stage.writes.length - 1];
  if (
    last &&
    w.kind === "type" &&
    last.kind === "type" &&
    last.space === w.space &&
    w.time - last.time <= COALESCE_MS &&
    w.offset >= last.offset &&
    w.offset <= last.offset + last.data.length
  ) {
    const end = Math.max(last.offset + last.data.length, w.offset + w.data.length);
    const data = new Uint8Array(end - last.offset);
    data.set(last.data);
    data.set(w.data, w.offset - last.offset);
    const merged: StagedWrite = { ...last, data, time: w.time };
    return { writes: [...stage.writes.slice(0, -1), merged], redo: [] };
  }
  return { writes: [...stage.writes, w], redo: [] };
}

export function undo(stage: EditStage): EditStage {
  if (stage.writes.length === 0) return stage;
  const last = stage.writes[stage.writes.length - 1];
  return { writes: stage.writes.slice(0, -1), redo: [...stage.redo, last] };
}

export function redo(stage: EditStage): EditStage {
  if (stage.redo.length === 0) return stage;
  const next = stage.redo[stage.redo.length - 1];
  return { writes: [...stage.writes, next], redo: stage.redo.slice(0, -1) };
}

/**
 * Lays the staged writes of `space` over `base` (bytes the engine returned for [offset, offset+len)).
 * Returns the merged bytes and a mask with 1 where a byte is staged.
 */
export function overlay(
  stage: EditStage,
  space: ByteSpace,
  offset: number,
  base: Uint8Array,
): { bytes: Uint8Array; staged: Uint8Array } {
  const bytes = base.slice();
  const staged = new Uint8Array(base.length);
  const end = offset + base.length;
  for (const w of stage.writes) {
    if (w.space !== space) continue;
    const from = Math.max(offset, w.offset);
    const to = Math.min(end, w.offset + w.data.length);
    if (from >= to) continue;
    bytes.set(w.data.subarray(from - w.offset, to - w.offset), from - offset);
    staged.fill(1, from - offset, to - offset);
  }
  return { bytes, staged };
}

/**
 * The patch to commit: staged writes flattened per space into disjoint, sorted, contiguous runs
 * (later writes win where they overlap earlier ones). Works on ranges, not bytes: a Fill of many
 * MiB is one write, and flattening it costs a copy, not a map entry per byte.
 */
export function toPatch(stage: EditStage): PatchWrite[] {
  const out: PatchWrite[] = [];
  for (const space of ["virtual", "file"] as const) {
    // Disjoint pieces sorted by offset; each write cuts what it covers out of them.
    let pieces: { offset: number; data: Uint8Array }[] = [];
    for (const w of stage.writes) {
      if (w.space !== space || w.data.length === 0) continue;
      const start = w.offset;
      const end = w.offset + w.data.length;
      const next: { offset: number; data: Uint8Array }[] = [];
      for (const p of pieces) {
        const pEnd = p.offset + p.data.length;
        if (pEnd <= start || p.offset >= end) next.push(p);
        else {
          if (p.offset < start) next.push({ offset: p.offset, data: p.data.subarray(0, start - p.offset) });
          if (pEnd > end) next.push({ offset: end, data: p.data.subarray(end - p.offset) });
        }
      }
      next.push({ offset: start, data: w.data });
      pieces = next.sort((a, b) => a.offset - b.offset);
    }
    // Touching pieces join into one run.
    for (let i = 0; i < pieces.length;) {
      let j = i + 1;
      let end = pieces[i].offset + pieces[i].data.length;
      while (j < pieces.length && pieces[j].offset === end) end += pieces[j++].data.length;
      const data = new Uint8Array(end - pieces[i].offset);
      for (let k = i; k < j; k++) data.set(pieces[k].data, pieces[k].offset - pieces[i].offset);
      out.push({ space, offset: pieces[i].offset, data });
      i = j;
    }
  }
  return out;
}

/** Total distinct bytes staged. */
export function stagedByteCount(stage: EditStage): number {
  return toPatch(stage).reduce((n, p) => n + p.data.length, 0);
}
