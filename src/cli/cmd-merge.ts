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
  return new VhdxWriter(await openImage(await NodeFileBackend.open(path, { readOnly: false }), { readOnly: false }));
}

/**
 * `vhdx merge`: folds a differencing image into its parent as one commit (all or nothing across a
 * crash). Before the parent changes, the child is made to name the parent's next DataWriteGuid as
 * parent_linkage2, so it opens over its parent at every point until the merge has committed. After
 * the commit that name is taken back: the child is then no longer linked to the changed parent (a
 * crash just before that leaves it linked, reading exactly as the merged parent).
 */
export async function mergeCommand(a: ParsedArgs, io: Io): Promise<number> {
  const path = oneImage(a, "merge");
  const { image, chain } = await openWithParents(path);
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
    try {
      const r = await mergeIntoParent(image, w, {
        beforeParentChanges: async (next) => {
          childWriter = await openWriter(path);
          unlink = await announceParentLinkage(childWriter, current, next);
          await childWriter.finish();
        },
      });
      await w.finish();
      if (!unlink) {
        io.out(`nothing to merge: ${path} holds no sectors or metadata of its own; ${parentPath} is unchanged\n`);
        return 0;
      }
      // The merge has committed; the child's extra linkage is only taken back now. Failing that
      // leaves a child that opens over the merged parent and reads as it: worth a word, not an error.
      let child = `${path} is no longer linked to it`;
      try {
        await unlink();
        await childWriter!.finish();
      } catch (e) {
        child = `${path} still links to it (${e instanceof Error ? e.message : String(e)})`;
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
