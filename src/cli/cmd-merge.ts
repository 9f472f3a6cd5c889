import { closeChain } from "../vhdx/chain";
import { mergeIntoParent } from "../vhdx/merge";
import { openImage } from "../vhdx/image";
import { VhdxWriter } from "../vhdx/write";
import { NodeFileBackend } from "../node/fileBackend";
import { openWithParents } from "../node/resolveParent";
import { oneImage, ParsedArgs, UsageError } from "./args";
import type { Io } from "./commands";
import { formatSize } from "./format";

/** `vhdx merge`: folds a differencing image into its parent; the child is obsolete afterwards. */
export async function mergeCommand(a: ParsedArgs, io: Io): Promise<number> {
  const path = oneImage(a, "merge");
  const { image, chain } = await openWithParents(path);
  try {
    if (image.diskType !== "differencing")
      throw new UsageError(`${path} is a ${image.diskType} image; only a differencing image can be merged`);
    const parentFile = chain[1].file;
    if (!(parentFile instanceof NodeFileBackend)) throw new UsageError("the parent is not a local file");
    const parentPath = parentFile.path;
    const w = new VhdxWriter(
      await openImage(await NodeFileBackend.open(parentPath, { readOnly: false }), { readOnly: false }),
    );
    try {
      const r = await mergeIntoParent(image, w);
      io.out(
        `merged ${path} into ${parentPath}: ${r.blocksMerged} blocks, ${formatSize(r.bytesCopied)}${r.metadataChanged ? ", metadata updated" : ""}; ${path} is no longer linked to it\n`,
      );
    } finally {
      await w.close();
    }
  } finally {
    await closeChain(chain);
  }
  return 0;
}
