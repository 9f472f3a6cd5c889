/**
 * Find in the hex view's space (the virtual disk, or the raw file), run here so the page keeps
 * drawing: streamed in chunks, with progress, cancelled through the call's signal. The search
 * itself is src/find/ (pure); this file only hands it the open image.
 */
import { parseQuery, type FindQuery } from "../find/pattern";
import { findFirst, type SearchSource } from "../find/scan";
import { fileSource, virtualSource } from "../find/sources";
import { VhdxError } from "../vhdx/errors";
import type { CallContext } from "./protocol";
import { current, getVhdSession } from "./state";
import type { Session } from "./session";

export type FindSpace = "virtual" | "file";

export interface FindRequest {
  space: FindSpace;
  query: FindQuery;
  /** Forward: the first start searched; backward: the last. */
  from: number;
  backward?: boolean;
}

export interface FindMatch {
  offset: number;
  length: number;
}

/** The space as Find's source; while a writer exists, each read passes its gate (never half a commit). */
export function spaceSource(s: Session, space: FindSpace): SearchSource {
  const img = s.image;
  const src = space === "virtual" ? virtualSource(img, img.blockSize) : fileSource(img);
  const gate = s.writer?.gate;
  if (!gate) return src;
  return { ...src, readInto: (offset, target) => gate.read(() => src.readInto(offset, target)) };
}

/** The first match from `from` in the asked direction, or null when the space holds none there. */
export async function find(ctx: CallContext, req: FindRequest): Promise<FindMatch | null> {
  if (req.space !== "virtual" && req.space !== "file") {
    throw new VhdxError("INVALID_ARGUMENT", `Unknown address space "${String(req.space)}"`, "find");
  }
  const parsed = parseQuery(req.query);
  if (!parsed.ok) throw new VhdxError("INVALID_ARGUMENT", parsed.error, "find");
  // A VHD is read-only here: no writer, no gate.
  const vhd = getVhdSession()?.image;
  const src = vhd
    ? req.space === "virtual"
      ? virtualSource(vhd, Math.max(vhd.blockSize, 2 * 1024 * 1024))
      : fileSource(vhd)
    : spaceSource(current(), req.space);
  const at = await findFirst(src, parsed.pattern, req.from, req.backward ?? false, {
    signal: ctx.signal,
    onProgress: (done, total) => ctx.progress(total ? done / total : 1, done),
  });
  return at < 0 ? null : { offset: at, length: parsed.pattern.bytes.length };
}
