/**
 * A copy as one job for the formatting worker: the bytes the engine read for a range, the staged
 * writes that fall inside it, and the format. The worker lays the writes over the bytes (as the
 * grid shows them) and formats them, so a 16 MiB copy never holds the page's main thread.
 */
import { transfer, type CallContext, type MethodTable } from "../../worker/protocol";
import type { ByteSpace } from "../store/engineApi";
import { MAX_COPY_BYTES, formatCopyAscii, type CopyFormat } from "./copyFormat";
import type { EditStage } from "./editStage";

/** A staged write clipped to the copied range; `offset` is absolute in the space. */
export interface CopyWrite {
  offset: number;
  data: Uint8Array;
}

/**
 * The parts of the stage's writes to `space` that fall in [start, start + length), in staging
 * order (later ones win where they overlap), each a copy of just its share so only those bytes
 * cross to the worker.
 */
export function stagedWritesIn(stage: EditStage, space: ByteSpace, start: number, length: number): CopyWrite[] {
  const end = start + length;
  const out: CopyWrite[] = [];
  for (const w of stage.writes) {
    if (w.space !== space) continue;
    const from = Math.max(start, w.offset);
    const to = Math.min(end, w.offset + w.data.length);
    if (from >= to) continue;
    out.push({ offset: from, data: w.data.slice(from - w.offset, to - w.offset) });
  }
  return out;
}

/** Lays `writes` over `bytes` (read at `offset`) in place, in order. */
export function layWrites(bytes: Uint8Array, offset: number, writes: readonly CopyWrite[]): Uint8Array {
  const end = offset + bytes.length;
  for (const w of writes) {
    const from = Math.max(offset, w.offset);
    const to = Math.min(end, w.offset + w.data.length);
    if (from < to) bytes.set(w.data.subarray(from - w.offset, to - w.offset), from - offset);
  }
  return bytes;
}

/** The formatting worker's methods (served by copyFormat.worker.ts, or on a MessagePort in tests). */
export const copyMethods = {
  /**
   * The clipboard text of `bytes` (read at `offset` of `space`, `writes` laid over) in `format`,
   * as ASCII bytes handed over whole (transferred), so the page never copies or decodes it.
   */
  async format(
    _ctx: CallContext,
    format: CopyFormat,
    bytes: Uint8Array,
    offset: number,
    space: string,
    writes: CopyWrite[],
  ) {
    // The page checks the cap too; the worker keeps it so no caller can ask for more.
    if (bytes.length > MAX_COPY_BYTES) throw new RangeError(`copying is limited to ${MAX_COPY_BYTES} bytes`);
    const text = formatCopyAscii(format, layWrites(bytes, offset, writes), offset, space);
    return transfer(text, [text.buffer]);
  },
} satisfies MethodTable;

export type CopyMethods = typeof copyMethods;
