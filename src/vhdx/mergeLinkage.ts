import { VhdxError } from "./errors";
import type { Guid } from "./guid";
import { metadataRegionEdits } from "./metadataLayout";
import { serializeParentLocator } from "./parentLocator";
import { commitParentLocatorItem, placeMetadataItem } from "./parentLocatorUpdate";
import { alignUp } from "./bytes";
import { SECTOR } from "./batUpdate";
import { METADATA_TABLE_SIZE, PARENT_LOCATOR_GUID } from "./metadata";
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
  const pairs: [string, string][] = pl.entries
    .filter((e) => e.key !== "parent_linkage" && e.key !== "parent_linkage2")
    .map((e) => [e.key, e.value]);
  pairs.unshift(["parent_linkage", braced(currentParent)], ["parent_linkage2", braced(nextParent)]);
  const item = serializeParentLocator(pl.locatorType, pairs);
  // What the change overwrites, kept for the undo: the table and the sectors the new item lands in
  // (never the whole region, whose length a file may put at gigabytes).
  const region = img.metadataRegion;
  const index = img.metadataTable.entries.findIndex((e) => e.itemId === PARENT_LOCATOR_GUID && !e.isUser);
  const at = index < 0 ? null : placeMetadataItem(img.metadataTable, index, item.length, region.length);
  const spans: [number, number][] = [[0, METADATA_TABLE_SIZE]];
  if (at !== null) spans.push([at - (at % SECTOR), Math.min(alignUp(at + item.length, SECTOR), region.length)]);
  const before: { start: number; bytes: Uint8Array }[] = [];
  for (const [s, t] of spans) before.push({ start: s, bytes: await img.io.read(region.fileOffset + s, t - s) });
  await commitParentLocatorItem(child, item);
  return async () => {
    const undo = [];
    for (const b of before) undo.push(...(await metadataRegionEdits(child.image, b.bytes, b.start)));
    if (undo.length > 0) await commitStructurePatch(child, undo, { virtualDiskChanges: false });
  };
}
