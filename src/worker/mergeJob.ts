/**
 * Merging the open differencing image into its parent, a file the user picked with write access:
 * the parent changes through one writable (swapped in at the end, or discarded on failure), the
 * merge itself is one commit of the parent's log (see vhdx/merge.ts).
 *
 * When the child is open for editing, it is also told of the merge, as `vhdx merge` does: before
 * the parent's DataWriteGuid changes, the child names it as parent_linkage2 (one commit on the
 * child's own storage), and after the merge that name is taken back. A merge too large for the
 * browser's staging budget reaches the parent's file in more than one step, so a crash can leave a
 * parent whose DataWriteGuid changed while the merge never committed; the child still opens over
 * it then. A child open read-only is not touched.
 */
import { VhdxError } from "../vhdx/errors";
import type { Guid } from "../vhdx/guid";
import { openImage, type VhdxImage } from "../vhdx/image";
import { mergeIntoParent, type MergeResult } from "../vhdx/merge";
import { announceParentLinkage } from "../vhdx/mergeLinkage";
import { parentLinkages } from "../vhdx/chain";
import { VhdxWriter } from "../vhdx/write";
import { writerOf } from "./commit";
import { openFiles, sameEntry } from "./outputs";
import type { CallContext } from "./protocol";
import { editRefusal, runCommit, type Session } from "./session";
import { current, exclusive } from "./state";
import { WritableHandleBackend } from "./storage/writableHandleBackend";
import { progressOf, type JobResult } from "./toolbox";

export interface MergeJobResult extends JobResult, MergeResult {
  /** What became of the child: "unlinked" (told of the merge, then the name taken back), "untouched" (open read-only). */
  child: "unlinked" | "still linked" | "untouched";
}

/** The open differencing image's direct parent, when it was attached with a handle (picked, or in a granted folder). */
export async function attachedParent(): Promise<FileSystemFileHandle | null> {
  const s = current();
  return s.image.diskType === "differencing" && s.image.parent ? (s.directParentHandle ?? null) : null;
}

export function mergeOpen(ctx: CallContext, parentHandle: FileSystemFileHandle): Promise<MergeJobResult> {
  return exclusive(async () => {
    const s = current();
    const child = s.image;
    if (child.diskType !== "differencing")
      throw new VhdxError(
        "INVALID_ARGUMENT",
        `the open image is ${child.diskType}; only a differencing image merges`,
        "merge",
      );
    if (!child.parent)
      throw new VhdxError(
        "PARENT_NOT_FOUND",
        "attach the parent chain first (choose the parent file)",
        "parent locator",
      );
    // The parent is written on purpose; the child's own file never is (picking it twice would merge it into itself).
    for (const f of await openFiles()) {
      if (f.kind === "image" && (await sameEntry(f.handle, parentHandle))) {
        throw new VhdxError(
          "FILE_IN_USE",
          `${parentHandle.name} is the open differencing image itself, not its parent; choose the parent file`,
          "merge",
        );
      }
    }
    const tellChild = editRefusal(s) === null;
    let unlink: (() => Promise<void>) | null = null;
    const out = await WritableHandleBackend.open(parentHandle, { overlayBudget: 32 * 1024 * 1024 });
    try {
      const { value, atomic } = await out.batch(async () => {
        const image: VhdxImage = await openImage(out, { readOnly: false });
        const expected = parentLinkages(child);
        const currentGuid = image.header.dataWriteGuid;
        if (!expected.includes(currentGuid)) {
          throw new VhdxError(
            "PARENT_MISMATCH",
            `${parentHandle.name} has DataWriteGuid {${currentGuid}} but the child links to ${expected.map((g) => `{${g}}`).join(" or ")}`,
            "parent locator",
          );
        }
        const w = new VhdxWriter(image);
        const r = await mergeIntoParent(child, w, {
          signal: ctx.signal,
          onProgress: progressOf(ctx),
          beforeParentChanges: tellChild
            ? async (next) => {
                unlink = await announceOnChild(s, currentGuid, next);
              }
            : undefined,
        });
        await w.finish();
        return r;
      });
      // The merge has committed: the child's extra name for its parent is taken back. Failing
      // that leaves a child that opens over the merged parent and reads as it.
      let childState: MergeJobResult["child"] = "untouched";
      if (unlink) {
        const undo: () => Promise<void> = unlink;
        childState = await runCommit(s, async () => {
          await undo();
          await writerOf(s).finish();
        }).then(
          () => "unlinked" as const,
          () => "still linked" as const,
        );
      }
      const size = await out.size();
      const notes = [
        childState === "unlinked" ? `${s.name} is no longer linked to it` : "",
        childState === "still linked" ? `${s.name} still links to it` : "",
        // The engine's log keeps the parent consistent either way; the user should know whether
        // the file changed in one swap or in several (a merge that outgrew the staging budget).
        atomic ? "" : "the merge outgrew the browser's staging budget and reached the file in more than one step",
      ].filter(Boolean);
      return {
        ...value,
        child: childState,
        summary: `${value.blocksMerged} ${value.blocksMerged === 1 ? "block" : "blocks"} of ${s.name} merged into ${parentHandle.name}${notes.length ? `; ${notes.join("; ")}` : ""}`,
        fileSize: size,
        target: { kind: "handle", handle: parentHandle },
      };
    } finally {
      await out.close();
    }
  });
}

/** Names `next` beside `currentGuid` in the child's locator, as one commit on the child's storage; returns the undo. */
async function announceOnChild(s: Session, currentGuid: Guid, next: Guid): Promise<() => Promise<void>> {
  const { value } = await runCommit(s, async () => {
    const undo = await announceParentLinkage(writerOf(s), currentGuid, next);
    await writerOf(s).finish();
    return undo;
  });
  return value;
}
