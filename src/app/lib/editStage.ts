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
 * (later writes win where they overlap earlier ones).
 */
export function toPatch(stage: EditStage): PatchWrite[] {
  const out: PatchWrite[] = [];
  for (const space of ["virtual", "file"] as const) {
    const writes = stage.writes.filter((w) => w.space === space);
    if (writes.length === 0) continue;
    // Byte-level map is fine: a stage is what a person typed or pasted, not gigabytes.
    const bytes = new Map<number, number>();
    for (const w of writes) for (let i = 0; i < w.data.length; i++) bytes.set(w.offset + i, w.data[i]);
    const offsets = [...bytes.keys()].sort((a, b) => a - b);
    let runStart = offsets[0];
    let run: number[] = [];
    for (let i = 0; i < offsets.length; i++) {
      const o = offsets[i];
      if (i > 0 && o !== offsets[i - 1] + 1) {
        out.push({ space, offset: runStart, data: Uint8Array.from(run) });
        runStart = o;
        run = [];
      }
      run.push(bytes.get(o) as number);
    }
    out.push({ space, offset: runStart, data: Uint8Array.from(run) });
  }
  return out;
}

/** Total distinct bytes staged. */
export function stagedByteCount(stage: EditStage): number {
  return toPatch(stage).reduce((n, p) => n + p.data.length, 0);
}
