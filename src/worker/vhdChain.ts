/**
 * A differencing VHD's parents in the browser: the user picks the parent files (or grants a
 * folder), they are matched to the parent locators' names as a VHDX's are (worker/chain.ts),
 * each is checked against its child's Parent Unique Id, and once attached the hex and Files views
 * read through the chain. Nothing is written.
 */
import { attachVhdParents, closeVhdChain, type VhdParentResolver } from "../vhd/chain";
import type { VhdImage } from "../vhd/image";
import { VhdxError } from "../vhdx/errors";
import { resolverFor, type ParentSource } from "./chain";
import type { CallContext } from "./protocol";
import { getVhdSession } from "./state";

export interface VhdChainLink {
  name: string;
  diskType: string;
  uniqueId: string;
  virtualSize: number;
}

export interface VhdChainView {
  links: VhdChainLink[];
  warnings: string[];
}

/** The parents attached to each open VHD session (closed with the next attach or when it closes). */
const attached = new WeakMap<VhdImage, VhdImage[]>();

export function vhdChainView(img: VhdImage, names: readonly string[]): VhdChainView {
  const links: VhdChainLink[] = [];
  let at: VhdImage | null = img;
  for (let i = 0; at && i < names.length; i++) {
    links.push({ name: names[i], diskType: at.diskType, uniqueId: at.footer.uniqueId, virtualSize: at.virtualSize });
    const p: unknown = at.parent;
    at = p && typeof p === "object" && "footer" in p ? (p as VhdImage) : null;
  }
  return { links, warnings: img.warnings.filter((w) => w.code === "PARENT_MISMATCH").map((w) => w.message) };
}

/**
 * The VHD locators resolved among the files the user gave: relative locators (W2ru, Wi2r) as a
 * VHDX's relative_path, the others as its absolute path. Each file found is appended to `names`
 * (its location) and, when it has one, its handle to `handles`.
 */
export async function vhdParentResolver(
  source: ParentSource,
  names: string[],
  handles: FileSystemFileHandle[] = [],
): Promise<VhdParentResolver> {
  const resolve = await resolverFor(source);
  return async (c, childLocation) => {
    const relative = c.platformCode === "W2ru" || c.platformCode === "Wi2r";
    const r = await resolve(relative ? "relative_path" : "absolute_win32_path", c.value, childLocation);
    if (r) names.push(r.location);
    if (r?.handle) handles.push(r.handle);
    return r;
  };
}

/**
 * Attaches the open differencing VHD's parents from the files the user gave: a picked file
 * stands for the locator path (or Parent Unicode Name) whose file name it carries; in a granted
 * folder the relative locators (W2ru, Wi2r) are followed. A parent whose Unique Id is not the
 * child's Parent Unique Id is PARENT_MISMATCH, and nothing is attached.
 */
export async function vhdAttachParents(_ctx: CallContext, source: ParentSource): Promise<VhdChainView> {
  const s = getVhdSession();
  if (!s) throw new VhdxError("INVALID_ARGUMENT", "No VHD is open", "engine");
  const img = s.image;
  if (img.diskType !== "differencing")
    throw new VhdxError("INVALID_ARGUMENT", `${s.name} is a ${img.diskType} VHD; it has no parent`, "footer");
  const names = [s.name];
  const before = img.parent;
  let chain: VhdImage[];
  try {
    chain = await attachVhdParents(img, s.name, { resolve: await vhdParentResolver(source, names) });
  } catch (e) {
    img.parent = before;
    throw e;
  }
  const old = attached.get(img);
  attached.set(img, chain.slice(1));
  if (old) await closeVhdChain(old);
  return vhdChainView(img, names);
}

/** Closes the parents attached to `img` (when its session closes). */
export async function closeVhdParents(img: VhdImage): Promise<void> {
  const old = attached.get(img);
  attached.delete(img);
  if (old) await closeVhdChain(old);
}
