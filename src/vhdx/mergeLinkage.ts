import { VhdxError } from "./errors";
import type { Guid } from "./guid";
import { metadataRegionEdits } from "./metadataLayout";
import { serializeParentLocator } from "./parentLocator";
import { commitParentLocatorItem } from "./parentLocatorUpdate";
import { commitStructurePatch } from "./structurePatch";
import type { VhdxWriter } from "./write";

const braced = (g: Guid) => `{${g.toLowerCase()}}`;

/**
 * The child's side of an atomic merge. §2.6.2.6.3 lets a child name two possible parent
 * identities, parent_linkage and parent_linkage2, either of which the parent's DataWriteGuid may
 * match. Before the parent's DataWriteGuid changes, the child is made to name both the parent's
 * current DataWriteGuid and the one the merge will give it, in one log entry of its own. So at every
 * point of the merge, committed or not, the child still opens over its parent (and reads the same:
 * once its sectors are folded in, the child over the merged parent reads as the merged parent).
 *
 * The change is to the parent locator only, which no virtual disk read observes: the child keeps
 * its DataWriteGuid (§2.2.2), so its own children stay linked. Returns the undo: the locator as it
 * was, written back the same way (what a completed merge does, leaving the child unlinked).
 */
export async function announceParentLinkage(
  child: VhdxWriter,
  currentParent: Guid,
  nextParent: Guid,
): Promise<() => Promise<void>> {
  const img = child.image;
  const pl = img.params.parentLocator;
  if (!pl || img.diskType !== "differencing")
    throw new VhdxError("INVALID_ARGUMENT", "only a differencing image names its parent", "parent locator");
  const before = await img.io.read(img.metadataRegion.fileOffset, img.metadataRegion.length);
  const pairs: [string, string][] = pl.entries
    .filter((e) => e.key !== "parent_linkage" && e.key !== "parent_linkage2")
    .map((e) => [e.key, e.value]);
  pairs.unshift(["parent_linkage", braced(currentParent)], ["parent_linkage2", braced(nextParent)]);
  await commitParentLocatorItem(child, serializeParentLocator(pl.locatorType, pairs));
  return async () => {
    const undo = await metadataRegionEdits(child.image, before);
    if (undo.length > 0) await commitStructurePatch(child, undo, { virtualDiskChanges: false });
  };
}
