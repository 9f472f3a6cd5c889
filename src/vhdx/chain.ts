import { VhdxError } from "./errors";
import { normalizeGuid, type Guid } from "./guid";
import { openImage, VhdxImage } from "./image";
import { RandomAccess } from "./io";
import { locatorValue, VHDX_PARENT_LOCATOR_TYPE } from "./parentLocator";

/** §2.6.2.6.3: the order in which an implementation evaluates the paths to the parent. */
export const PARENT_PATH_KEYS = ["relative_path", "volume_path", "absolute_win32_path"] as const;
export type ParentPathKey = (typeof PARENT_PATH_KEYS)[number];

/**
 * Finds the file a locator path names. `childLocation` is where the child was found (a path,
 * a handle name: whatever the resolver understands). Returns null when there is nothing there.
 */
export type ParentResolver = (
  key: ParentPathKey,
  value: string,
  childLocation: string,
) => Promise<{ io: RandomAccess; location: string } | null>;

export interface ChainOptions {
  resolve: ParentResolver;
  /** Open even when the parent's DataWriteGuid matches neither linkage (a warning is kept instead). */
  force?: boolean;
  /** Longest chain of parents followed; deeper is refused as CHAIN_INVALID. */
  maxDepth?: number;
}

/**
 * Chains are followed as deep as the files go: Hyper-V keeps up to 50 checkpoints a machine, and
 * each level costs only its own structures (its BAT and a bounded sector bitmap cache). A cycle is
 * refused as soon as a file comes round again; this bound only keeps the loop finite when a
 * resolver keeps finding new files, far past any real chain (and past the open-file limit of most
 * systems, which refuses first with the system's own error).
 */
export const DEFAULT_MAX_DEPTH = 4096;

/**
 * Attaches the parent chain of a differencing image: for each child, tries relative_path, then
 * volume_path, then absolute_win32_path (§2.6.2.6.3), checks the parent's DataWriteGuid against
 * parent_linkage / parent_linkage2, and sets `child.parent`. Parents open read-only.
 * Returns the chain from `img` down to the base image. Refuses cycles and over-deep chains.
 */
export async function attachParents(img: VhdxImage, location: string, opts: ChainOptions): Promise<VhdxImage[]> {
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  const chain: VhdxImage[] = [img];
  const seen = new Set<string>([location]);
  let child = img;
  let childLocation = location;
  try {
    while (child.diskType === "differencing") {
      if (chain.length > maxDepth) {
        throw new VhdxError("CHAIN_INVALID", `the parent chain is deeper than ${maxDepth} images`, "parent locator");
      }
      const { parent, parentLocation } = await openParent(child, childLocation, opts);
      chain.push(parent);
      if (seen.has(parentLocation)) {
        throw new VhdxError("CHAIN_INVALID", `the parent chain loops back to ${parentLocation}`, "parent locator");
      }
      seen.add(parentLocation);
      child.parent = parent;
      child = parent;
      childLocation = parentLocation;
    }
  } catch (e) {
    for (const p of chain.slice(1)) await p.close();
    img.parent = null;
    throw e;
  }
  return chain;
}

async function openParent(
  child: VhdxImage,
  childLocation: string,
  opts: ChainOptions,
): Promise<{ parent: VhdxImage; parentLocation: string }> {
  const pl = child.params.parentLocator;
  if (!pl) throw new VhdxError("PARENT_NOT_FOUND", "the image has a parent but no parent locator", "parent locator");
  if (pl.locatorType !== VHDX_PARENT_LOCATOR_TYPE) {
    throw new VhdxError(
      "PARENT_LOCATOR_INVALID",
      `parent locator type ${pl.locatorType} is not the VHDX locator type`,
      "parent locator",
    );
  }
  const tried: string[] = [];
  for (const key of PARENT_PATH_KEYS) {
    const value = locatorValue(pl, key);
    if (!value) continue;
    tried.push(`${key} ${JSON.stringify(value)}`);
    const found = await opts.resolve(key, value, childLocation);
    if (!found) continue;
    let parent: VhdxImage;
    try {
      parent = await openImage(found.io, { readOnly: true });
    } catch (e) {
      await found.io.close();
      throw e;
    }
    try {
      checkLinkage(child, parent, found.location, opts.force ?? false);
    } catch (e) {
      await parent.close();
      throw e;
    }
    return { parent, parentLocation: found.location };
  }
  throw new VhdxError(
    "PARENT_NOT_FOUND",
    tried.length ? `parent not found (tried ${tried.join(", ")})` : "the parent locator holds no path to the parent",
    "parent locator",
  );
}

/**
 * The DataWriteGuids a differencing image accepts in its parent (§2.6.2.6.3): parent_linkage and
 * parent_linkage2, in canonical form; a malformed value links to nothing.
 */
export function parentLinkages(child: VhdxImage): Guid[] {
  const pl = child.params.parentLocator;
  if (!pl) return [];
  const out: Guid[] = [];
  for (const key of ["parent_linkage", "parent_linkage2"]) {
    const v = locatorValue(pl, key);
    try {
      if (v) out.push(normalizeGuid(v));
    } catch {
      // malformed: links to nothing
    }
  }
  return out;
}

/** §2.6.2.6.3: the parent's DataWriteGuid must equal parent_linkage or parent_linkage2. */
function checkLinkage(child: VhdxImage, parent: VhdxImage, where: string, force: boolean): void {
  const linkages = parentLinkages(child);
  const actual = parent.header.dataWriteGuid;
  if (!linkages.includes(actual)) {
    const msg = `parent ${where} has DataWriteGuid {${actual}} but the child expects ${linkages.map((g) => `{${g}}`).join(" or ") || "(no parent_linkage)"}: the parent changed since the child was created`;
    if (!force) throw new VhdxError("PARENT_MISMATCH", msg, "parent locator");
    child.warnings.push({ code: "PARENT_MISMATCH", message: msg + " (opened anyway)", structure: "parent locator" });
  }
  // §2.6.2.2: VirtualDiskSize is the child's own (a resized child keeps its parent); the parent
  // supplies what it has, and sectors past its end read as zeros (VhdxImage.readParent).
  if (parent.params.logicalSectorSize !== child.params.logicalSectorSize) {
    throw new VhdxError(
      "CHAIN_INVALID",
      `parent ${where} has ${parent.params.logicalSectorSize}-byte sectors but the child ${child.params.logicalSectorSize}-byte`,
      "parent locator",
    );
  }
}

/** Closes every image of a chain. */
export async function closeChain(chain: readonly VhdxImage[]): Promise<void> {
  for (const img of chain) await img.close();
}
