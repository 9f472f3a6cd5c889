/**
 * Save back: the edited working copy (in browser storage) written over the user's original file.
 * When the copy is made its original's fingerprint is kept; Save back writes only to a file whose
 * fingerprint is still that one (the user picked the original, and nothing changed it since), and
 * writes through one writable, which the browser swaps in on close: a failure or a cancel leaves
 * the original as it was.
 */
import { VhdxError } from "../vhdx/errors";
import { fingerprintDifference, fingerprintOf, type Fingerprint } from "./fingerprint";
import { refuseInUse } from "./outputs";
import type { CallContext } from "./protocol";
import { current, exclusive } from "./state";
import { copyToHandle, type CopyResult } from "./storage/copy";
import { normalizeOpfsPath } from "./storage/opfs";

/** Working copy path → the original it was made from. Lives as long as the worker (the page). */
const origins = new Map<string, { name: string; fingerprint: Fingerprint }>();

/** Records the file a working copy at `path` was made from. */
export async function rememberOrigin(_ctx: CallContext, path: string, original: File): Promise<void> {
  origins.set(normalizeOpfsPath(path), { name: original.name, fingerprint: await fingerprintOf(original) });
}

/** The open working copy's original (its name and size when copied), or null when it has none recorded. */
export async function workingCopyOrigin(): Promise<{ name: string; size: number; lastModified: number } | null> {
  const s = current();
  if (s.source.kind !== "opfs") return null;
  const o = origins.get(normalizeOpfsPath(s.source.path));
  return o ? { name: o.name, size: o.fingerprint.size, lastModified: o.fingerprint.lastModified } : null;
}

export async function saveBack(ctx: CallContext, target: FileSystemFileHandle): Promise<CopyResult> {
  return exclusive(async () => {
    const s = current();
    // Never onto a file the editor has open (the working copy itself, a parent), whatever else holds.
    await refuseInUse(target, target.name);
    const origin = s.source.kind === "opfs" ? origins.get(normalizeOpfsPath(s.source.path)) : undefined;
    if (s.source.kind !== "opfs" || !origin) {
      throw new VhdxError(
        "INVALID_ARGUMENT",
        "Save back copies a working copy over the file it was made from; the open image is not such a copy",
        "save back",
      );
    }
    const changed = fingerprintDifference(origin.fingerprint, await fingerprintOf(await target.getFile()));
    if (changed) {
      throw new VhdxError(
        "ORIGINAL_CHANGED",
        `${target.name} is not the file the working copy was made from as it was then: ${changed}. Nothing was written; save the working copy under a new name instead`,
        "save back",
      );
    }
    await s.backend.flush();
    const r = await copyToHandle({ kind: "io", io: s.backend, size: await s.backend.size() }, target, {
      signal: ctx.signal,
      onProgress: (d, t) => ctx.progress(t ? d / t : 1, d),
    });
    // The original now holds the copy's bytes: a later Save back compares against these.
    origin.fingerprint = await fingerprintOf(await target.getFile());
    return r;
  });
}
