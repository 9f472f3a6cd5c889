/**
 * The editor's Commit: a patch of virtual-disk edits (copy-on-write, one log entry) or of raw
 * structure bytes (BAT, metadata region, region tables: data descriptors in one log entry).
 * One VhdxWriter per open image keeps the session's header updates to one.
 */
import { VhdxError } from "../vhdx/errors";
import type { VhdxImage } from "../vhdx/image";
import { commitPatch as commitVirtualPatch, estimatePatch, type PatchCost } from "../vhdx/patch";
import { checkStructurePatch, commitStructurePatch } from "../vhdx/structurePatch";
import { VhdxWriter } from "../vhdx/write";
import type { CallContext } from "./protocol";
import { runCommit, type Session } from "./session";

export interface PatchWrite {
  space: "virtual" | "file";
  offset: number;
  data: Uint8Array;
}

export interface PatchCostReport extends PatchCost {
  space: "virtual" | "file";
  /** Set when the patch would be refused, with the reason. */
  refused: string | null;
}

export interface PatchCommitResult {
  space: "virtual" | "file";
  blocksCopied: number;
  blocksAllocated: number;
}

const writers = new WeakMap<VhdxImage, VhdxWriter>();

function writerFor(s: Session): VhdxWriter {
  if (s.readOnly) throw new VhdxError("READ_ONLY", `${s.name} is open read-only: ${s.readOnlyReason}`, s.name);
  let w = writers.get(s.image);
  if (!w) writers.set(s.image, (w = new VhdxWriter(s.image)));
  return w;
}

/** Virtual disk bytes, held back while a commit switches the BAT (VhdxWriter.read). */
export function readVirtual(image: VhdxImage, offset: number, length: number): Promise<Uint8Array> {
  const w = writers.get(image);
  return w ? w.read(offset, length) : image.read(offset, length);
}

/** One log entry cannot mix the two kinds: a patch is all virtual-disk edits or all file edits. */
function spaceOf(patch: readonly PatchWrite[]): "virtual" | "file" {
  if (patch.length === 0) throw new VhdxError("PATCH_INVALID", "the patch is empty", "patch");
  const space = patch[0].space;
  if (patch.some((p) => p.space !== space)) {
    throw new VhdxError(
      "PATCH_INVALID",
      "a patch edits either the virtual disk or the file's structures, not both: commit them one after the other",
      "patch",
    );
  }
  return space;
}

/** The cost of committing `patch` now, or the reason it would be refused. */
export async function patchCost(session: Session, patch: PatchWrite[]): Promise<PatchCostReport> {
  const space = spaceOf(patch);
  const w = writerFor(session);
  // Each commit here also marks the log empty afterwards (a header update: two more flushes).
  if (space === "virtual") {
    const c = await estimatePatch(w, patch);
    return { ...c, flushes: c.flushes + 2, space, refused: null };
  }
  const check = await checkStructurePatch(
    session.image,
    patch.map((p) => ({ fileOffset: p.offset, data: p.data })),
  );
  const sectors = check.ok ? check.sectors.length : 0;
  return {
    space,
    refused: check.ok ? null : check.reason,
    blocksCopied: 0,
    blocksAllocated: 0,
    bitmapBlocksAllocated: 0,
    bytesWritten: (1 + 2 * sectors) * 4096,
    logSectors: sectors,
    flushes: (w.sessionStarted ? 0 : 2) + (w.logStarted ? 0 : 2) + 2 + 2,
  };
}

/** Commits `patch` all or nothing; the in-memory image follows. */
export async function commitPatch(ctx: CallContext, session: Session, patch: PatchWrite[]): Promise<PatchCommitResult> {
  const space = spaceOf(patch);
  const w = writerFor(session);
  const cost = space === "virtual" ? await estimatePatch(w, patch) : null;
  if (ctx.signal.aborted) throw new VhdxError("CANCELLED", "the commit was cancelled", "patch");
  await runCommit(session, async () => {
    if (space === "virtual") await commitVirtualPatch(w, patch);
    else
      await commitStructurePatch(
        w,
        patch.map((p) => ({ fileOffset: p.offset, data: p.data })),
      );
    // The log is marked empty after every commit: a tab closed at any moment leaves a clean file.
    await w.finish();
  });
  ctx.progress(1, 0);
  return { space, blocksCopied: cost?.blocksCopied ?? 0, blocksAllocated: cost?.blocksAllocated ?? 0 };
}
