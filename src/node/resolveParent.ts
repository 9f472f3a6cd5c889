import { existsSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { attachParents, type ParentPathKey, type ParentResolver } from "../vhdx/chain";
import { openImage, type VhdxImage } from "../vhdx/image";
import { NodeFileBackend } from "./fileBackend";

const WIN32_PREFIX = "\\\\?\\";
const onWindows = sep === "\\";

/** The local path a locator value names, or null when it cannot be used on this system. */
export function localParentPath(key: ParentPathKey, value: string, childPath: string): string | null {
  if (key === "relative_path") {
    // §2.6.2.6.3: "\" separators, ".." for the parent directory, relative to the child's folder.
    const parts = value.split(/[\\/]/).filter((p) => p !== "" && p !== ".");
    return resolve(dirname(childPath), ...parts);
  }
  if (key === "volume_path") {
    // Volume GUID paths name Windows volumes; only Windows can open them.
    return onWindows ? value : null;
  }
  const bare = value.startsWith(WIN32_PREFIX) ? value.slice(WIN32_PREFIX.length) : value;
  if (onWindows) return bare;
  // A drive letter means nothing here; a path written by a POSIX system ("\\?\\tmp\x") maps back.
  if (/^[A-Za-z]:/.test(bare) || bare.startsWith("UNC\\")) return null;
  const posix = bare.replace(/\\/g, "/");
  return posix.startsWith("/") ? posix : "/" + posix;
}

/** Opens parents from the local file system, read-only. */
export const nodeParentResolver: ParentResolver = async (key, value, childLocation) => {
  const p = localParentPath(key, value, childLocation);
  if (!p || !existsSync(p)) return null;
  return { io: await NodeFileBackend.open(p, { readOnly: true }), location: resolve(p) };
};

/** The locator paths a new differencing image at `childPath` stores for `parentPath`. */
export function parentLocatorPaths(
  childPath: string,
  parentPath: string,
): { relativePath: string; absoluteWin32Path: string } {
  const abs = resolve(parentPath);
  const rel = relative(dirname(resolve(childPath)), abs);
  const relativePath = (isAbsolute(rel) ? abs : rel).split(sep).join("\\");
  const absoluteWin32Path = WIN32_PREFIX + (onWindows ? abs : abs.split("/").join("\\"));
  return { relativePath, absoluteWin32Path };
}

/** Opens an image file and, for a differencing image, its parent chain from the file system. */
export async function openWithParents(
  path: string,
  opts: { readOnly?: boolean; force?: boolean; maxDepth?: number } = {},
): Promise<{ image: VhdxImage; chain: VhdxImage[] }> {
  const readOnly = opts.readOnly ?? true;
  const file = await NodeFileBackend.open(path, { readOnly });
  // Writable: a log left by an interrupted session is replayed into the file first (§2.3.3).
  let image: VhdxImage;
  try {
    image = await openImage(file, { readOnly });
  } catch (e) {
    await file.close();
    throw e;
  }
  try {
    const chain = await attachParents(image, resolve(path), {
      resolve: nodeParentResolver,
      force: opts.force,
      maxDepth: opts.maxDepth,
    });
    return { image, chain };
  } catch (e) {
    await image.close();
    throw e;
  }
}
