/**
 * "Save selection to file": a range of the hex view's space, streamed from the engine to a file
 * the user picked in the save picker (which asked before replacing anything) through one
 * writable, swapped in when complete and discarded on failure or cancel; or, without a picker,
 * to a Blob for download. No size cap: one piece of a few MiB is in memory at a time. The staged
 * edits inside the range are laid over the bytes, as the hex view shows them.
 */
import { VhdxError } from "../vhdx/errors";
import { spaceSource, type FindSpace } from "./find";
import { refuseInUse } from "./outputs";
import type { CallContext } from "./protocol";
import { current } from "./state";

export type RangeTarget = { kind: "handle"; handle: FileSystemFileHandle } | { kind: "download" };

/** A staged write inside the range: `offset` is absolute in the space. */
export interface RangeWrite {
  offset: number;
  data: Uint8Array;
}

export interface SaveRangeResult {
  bytes: number;
  /** For a download: the bytes, for the page's download link. */
  blob?: Blob;
}

const PIECE = 4 * 1024 * 1024;

/** Lays `writes` (in staging order) over `bytes`, read at `at`. */
function lay(bytes: Uint8Array, at: number, writes: readonly RangeWrite[]): void {
  const end = at + bytes.length;
  for (const w of writes) {
    const from = Math.max(at, w.offset);
    const to = Math.min(end, w.offset + w.data.length);
    if (from < to) bytes.set(w.data.subarray(from - w.offset, to - w.offset), from - at);
  }
}

export async function saveRange(
  ctx: CallContext,
  space: FindSpace,
  start: number,
  length: number,
  target: RangeTarget,
  writes: RangeWrite[] = [],
): Promise<SaveRangeResult> {
  const s = current();
  const src = spaceSource(s, space);
  if (
    !Number.isSafeInteger(start) ||
    !Number.isSafeInteger(length) ||
    start < 0 ||
    length < 0 ||
    start + length > src.size
  ) {
    throw new VhdxError(
      "INVALID_ARGUMENT",
      `The range ${start} + ${length} lies outside the ${space === "virtual" ? "virtual disk" : "file"} (${src.size} bytes)`,
      "save selection",
      start,
    );
  }
  if (target.kind === "handle") await refuseInUse(target.handle, target.handle.name);
  const pieces = async (each: (bytes: Uint8Array) => Promise<void>) => {
    const buf = new Uint8Array(Math.min(PIECE, Math.max(1, length)));
    // One piece per step: bounded by the range's length.
    for (let at = start; at < start + length; at += PIECE) {
      if (ctx.signal.aborted) throw new VhdxError("CANCELLED", "Saving the selection was cancelled", "save selection");
      const piece = buf.subarray(0, Math.min(PIECE, start + length - at));
      await src.readInto(at, piece);
      lay(piece, at, writes);
      await each(piece);
      ctx.progress(length ? (at + piece.length - start) / length : 1, at + piece.length - start);
    }
  };
  if (target.kind === "download") {
    // Each piece becomes a Blob of its own (copied), which the browser may keep on disk.
    const parts: Blob[] = [];
    await pieces(async (b) => void parts.push(new Blob([b.slice() as Uint8Array<ArrayBuffer>])));
    return { bytes: length, blob: new Blob(parts) };
  }
  const w = await target.handle.createWritable({ keepExistingData: false });
  try {
    await pieces((b) => w.write(b as Uint8Array<ArrayBuffer>));
    await w.close();
  } catch (e) {
    await w.abort().catch(() => undefined);
    throw e;
  }
  return { bytes: length };
}
