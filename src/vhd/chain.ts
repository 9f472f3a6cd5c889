/**
 * A differencing VHD's parents: the parent locators' paths tried in order, each parent checked
 * against the child's Parent Unique Id, loops and runaway depth refused.
 */
import { VhdxError } from "../vhdx/errors";
import type { RandomAccess } from "../vhdx/io";
import type { VhdImage } from "./image";
import { openVhd } from "./open";
import { decodeLocatorData, PLATFORM_NONE } from "./parentLocator";
import { PARENT_LOCATORS_AT } from "./dynamicHeader";
import { vhdTimeToIso } from "./bytes";

export interface VhdParentCandidate {
  /** The platform code ("W2ru", "W2ku", "MacX", …), or "name" for the header's Parent Unicode Name. */
  platformCode: string;
  value: string;
}

/** Opens the file a candidate names, or null when there is none. */
export type VhdParentResolver = (
  candidate: VhdParentCandidate,
  childLocation: string,
) => Promise<{ io: RandomAccess; location: string } | null>;

export const VHD_MAX_DEPTH = 256;

/** The locators' decoded values in the order they are tried: relative first, then absolute, then the name. */
export async function parentCandidates(img: VhdImage): Promise<VhdParentCandidate[]> {
  const h = img.dynamicHeader;
  if (!h || img.diskType !== "differencing") return [];
  const out: VhdParentCandidate[] = [];
  for (const e of h.parentLocatorEntries) {
    if (e.platformCode === PLATFORM_NONE) continue;
    if (
      e.platformDataLength > 65536 ||
      e.platformDataOffset < 0 ||
      e.platformDataOffset + e.platformDataLength > img.fileSize
    )
      continue; // reported by open as a warning
    const value = decodeLocatorData(e.platformCode, await img.readFile(e.platformDataOffset, e.platformDataLength));
    if (value !== null && value !== "") out.push({ platformCode: e.platformCode, value });
  }
  const rank = (c: string) => ["W2ru", "Wi2r", "W2ku", "Wi2k", "MacX"].indexOf(c);
  out.sort((a, b) => rank(a.platformCode) - rank(b.platformCode));
  if (h.parentUnicodeName) out.push({ platformCode: "name", value: h.parentUnicodeName });
  return out;
}

/**
 * Attaches the parents of `img` (at `location`) until a disk that is not differencing; returns
 * the chain, child first. Each parent's footer Unique Id must be the child's Parent Unique Id
 * (`force` accepts a mismatch with a warning). A parent seen twice is a loop.
 */
export async function attachVhdParents(
  img: VhdImage,
  location: string,
  opts: { resolve: VhdParentResolver; force?: boolean; maxDepth?: number },
): Promise<VhdImage[]> {
  const chain: VhdImage[] = [img];
  const seen = new Set<string>([location]);
  const ids = new Set<string>([img.footer.uniqueId]);
  let child = img;
  let childLocation = location;
  const maxDepth = opts.maxDepth ?? VHD_MAX_DEPTH;
  try {
    while (child.diskType === "differencing") {
      if (chain.length > maxDepth)
        throw new VhdxError(
          "CHAIN_INVALID",
          `the parent chain is deeper than ${maxDepth} disks`,
          "dynamic disk header",
        );
      const candidates = await parentCandidates(child);
      let found: { io: RandomAccess; location: string } | null = null;
      for (const c of candidates) {
        found = await opts.resolve(c, childLocation);
        if (found) break;
      }
      const headerAt = child.footer.dataOffset;
      if (!found)
        throw new VhdxError(
          "PARENT_NOT_FOUND",
          `the parent of ${childLocation} was not found (tried ${candidates.map((c) => `${c.platformCode} ${JSON.stringify(c.value)}`).join(", ") || "no locator"})`,
          "parent locator entry",
          headerAt + PARENT_LOCATORS_AT,
        );
      if (seen.has(found.location)) {
        await found.io.close();
        throw new VhdxError(
          "CHAIN_INVALID",
          `the parent chain loops: ${found.location} is already in it`,
          "parent locator entry",
          headerAt + PARENT_LOCATORS_AT,
        );
      }
      let parent: VhdImage;
      try {
        parent = await openVhd(found.io);
      } catch (e) {
        await found.io.close();
        throw e;
      }
      chain.push(parent);
      const want = child.dynamicHeader!.parentUniqueId;
      if (parent.footer.uniqueId !== want) {
        const msg = `the parent ${found.location} has unique id ${parent.footer.uniqueId}; the child names ${want}`;
        if (!opts.force) throw new VhdxError("PARENT_MISMATCH", msg, "dynamic disk header", headerAt + 40);
        child.warnings.push({
          code: "PARENT_MISMATCH",
          message: msg,
          structure: "dynamic disk header",
          offset: headerAt + 40,
        });
      } else if (parent.footer.timeStamp !== child.dynamicHeader!.parentTimeStamp) {
        child.warnings.push({
          code: "PARENT_MISMATCH",
          message: `the parent was modified at ${vhdTimeToIso(parent.footer.timeStamp)}; the child expects ${vhdTimeToIso(child.dynamicHeader!.parentTimeStamp)}`,
          structure: "dynamic disk header",
          offset: headerAt + 56,
        });
      }
      if (ids.has(parent.footer.uniqueId))
        throw new VhdxError(
          "CHAIN_INVALID",
          `the parent chain loops: unique id ${parent.footer.uniqueId} appears twice`,
          "footer",
          parent.footerOffset + 68,
        );
      ids.add(parent.footer.uniqueId);
      seen.add(found.location);
      child.parent = parent;
      child = parent;
      childLocation = found.location;
    }
    return chain;
  } catch (e) {
    for (const p of chain.slice(1)) await p.close();
    throw e;
  }
}

export async function closeVhdChain(chain: readonly VhdImage[]): Promise<void> {
  for (const img of chain) await img.close();
}
