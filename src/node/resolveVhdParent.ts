/** Opening a VHD and its differencing chain from the local file system. */
import { existsSync, realpathSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { attachVhdParents, type VhdParentCandidate, type VhdParentResolver } from "../vhd/chain";
import type { VhdImage } from "../vhd/image";
import { openVhd } from "../vhd/open";
import { NodeFileBackend } from "./fileBackend";
import { localParentPath } from "./resolveParent";

/** The local path a VHD parent locator (or the header's parent name) names, or null. */
export function vhdLocalParentPath(c: VhdParentCandidate, childPath: string): string | null {
  switch (c.platformCode) {
    case "W2ru":
    case "Wi2r":
      return localParentPath("relative_path", c.value, childPath);
    case "W2ku":
    case "Wi2k":
      return localParentPath("absolute_win32_path", c.value, childPath);
    case "MacX":
      try {
        return fileURLToPath(c.value);
      } catch {
        return null;
      }
    case "name": {
      // The name may carry a Windows path: only its last part is looked for beside the child.
      const last = c.value.split(/[\\/]/).pop() ?? "";
      return last ? resolve(dirname(childPath), basename(last)) : null;
    }
    default:
      return null;
  }
}

export function nodeVhdParentResolver(lock: boolean): VhdParentResolver {
  return async (c, childLocation) => {
    const p = vhdLocalParentPath(c, childLocation);
    if (!p || !existsSync(p)) return null;
    const io = await NodeFileBackend.open(p, { readOnly: true, lock: lock ? "shared" : undefined });
    return { io, location: realpathSync(p) };
  };
}

/**
 * Opens a VHD read-only and, for a differencing disk, its parents; the chain is child first, and
 * `locations` are the real paths of its links in the same order.
 * With `deferLock`, the file's own lock is taken alongside the open (see NodeFileOpenOptions):
 * `locked` settles once it is held, or rejects with FILE_LOCKED.
 */
export async function openVhdWithParents(
  path: string,
  opts: { force?: boolean; lock?: boolean; deferLock?: boolean; maxDepth?: number } = {},
): Promise<{ image: VhdImage; chain: VhdImage[]; locations: string[]; locked: Promise<void> }> {
  const file = await NodeFileBackend.open(path, {
    readOnly: true,
    lock: opts.lock ? "shared" : undefined,
    deferLock: opts.deferLock,
  });
  const locked = file.locked;
  let image: VhdImage;
  try {
    image = await openVhd(file);
  } catch (e) {
    await file.close();
    // Whatever failed while another program held the file, the refusal is what to report.
    await locked;
    throw e;
  }
  try {
    const locations = [realpathSync(path)];
    const resolveOne = nodeVhdParentResolver(opts.lock ?? false);
    const chain = await attachVhdParents(image, locations[0], {
      // Every file found becomes the next link (or the open fails): its location is the link's.
      resolve: async (c, childLocation) => {
        const found = await resolveOne(c, childLocation);
        if (found) locations.push(found.location);
        return found;
      },
      force: opts.force,
      maxDepth: opts.maxDepth,
    });
    return { image, chain, locations, locked };
  } catch (e) {
    await image.close();
    await locked;
    throw e;
  }
}
