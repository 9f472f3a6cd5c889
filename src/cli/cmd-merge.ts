import { closeChain } from "../vhdx/chain";
import { mergeIntoParent } from "../vhdx/merge";
import { announceParentLinkage } from "../vhdx/mergeLinkage";
import { openImage } from "../vhdx/image";
import { VhdxWriter } from "../vhdx/write";
import { NodeFileBackend } from "../node/fileBackend";
import { openWithParents } from "../node/resolveParent";
import { oneImage, ParsedArgs, UsageError } from "./args";
import type { Io } from "./commands";
import { formatSize } from "./format";

async function openWriter(path: string): Promise<VhdxWriter> {
  const w = new VhdxWriter(
    await openImage(await NodeFileBackend.open(path, { readOnly: false, lock: "exclusive" }), {
      readOnly: false,
    }),
  );
  // What the writer does on its own (the log grown to fit the merge) is said where diagnostics go.
  w.notice = (m) => process.stderr.write(`vhdx: ${path}: ${m}\n`);
  return w;
}

/** Why the child cannot be opened for writing, when that is the reason `e` says; "" otherwise. */
function writeRefusal(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code === "EACCES") return "permission denied";
  if (code === "EPERM") return "operation not permitted";
  if (code === "EROFS") return "read-only file system";
  return "";
}

/**
 * `vhdx merge`: folds a differencing image into its parent as one commit (all or nothing across a
 * crash). Before the parent changes, the child is made to name the parent's next DataWriteGuid as
 * parent_linkage2, so it opens over its parent at every point until the merge has committed. After
 * the commit that name is taken back: the child is then no longer linked to the changed parent (a
 * crash just before that leaves it linked, reading exactly as the merged parent). A child that
 * cannot be written is merged without that step: only the parent changes, and a crash during the
 * merge can then leave a child that needs a forced open over the unchanged parent.
 */
export async function mergeCommand(a: ParsedArgs, io: Io): Promise<number> {
  const path = oneImage(a, "merge");
  const { image, chain } = await openWithParents(path, { lock: true });
  try {
    if (image.diskType !== "differencing")
      throw new UsageError(`${path} is a ${image.diskType} image; only a differencing image can be merged`);
    const parentFile = chain[1].file;
    if (!(parentFile instanceof NodeFileBackend)) throw new UsageError("the parent is not a local file");
    const parentPath = parentFile.path;
    const w = await openWriter(parentPath);
    const current = w.image.header.dataWriteGuid;
    let childWriter: VhdxWriter | undefined;
    let unlink: (() => Promise<void>) | undefined;
    let merging = false;
    let readOnlyChild = "";
    try {
      const r = await mergeIntoParent(image, w, {
        beforeParentChanges: async (next) => {
          merging = true;
          try {
            childWriter = await openWriter(path);
          } catch (e) {
            // A child this process may not write (read-only media, an immutable file) is merged
            // all the same; it is only not told of the merge (see the note below).
            readOnlyChild = writeRefusal(e);
            if (!readOnlyChild) throw e;
            return;
          }
          unlink = await announceParentLinkage(childWriter, current, next);
          await childWriter.finish();
        },
      });
      await w.finish();
      if (!merging) {
        io.out(`nothing to merge: ${path} holds no sectors or metadata of its own; ${parentPath} is unchanged\n`);
        return 0;
      }
      // The merge has committed; the child's extra linkage is only taken back now. Failing that
      // leaves a child that opens over the merged parent and reads as it: worth a word, not an error.
      let child = `${path} is no longer linked to it`;
      if (unlink) {
        try {
          await unlink();
          await childWriter!.finish();
        } catch (e) {
          child = `${path} still links to it (${e instanceof Error ? e.message : String(e)})`;
        }
      } else {
        child = `${path} could not be written (${readOnlyChild}) and was left as it was; it no longer opens over the merged parent`;
      }
      io.out(
        `merged ${path} into ${parentPath}: ${r.blocksMerged} blocks, ${formatSize(r.bytesCopied)}${r.metadataChanged ? ", metadata updated" : ""}; ${child}\n`,
      );
    } finally {
      await w.close();
      if (childWriter) await childWriter.close();
    }
  } finally {
    await closeChain(chain);
  }
  return 0;
}
