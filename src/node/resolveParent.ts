import { existsSync, statSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { attachParents, closeChain, PARENT_PATH_KEYS, type ParentPathKey, type ParentResolver } from "../vhdx/chain";
import { openImage, type VhdxImage } from "../vhdx/image";
import { locatorValue, type ParentLocator } from "../vhdx/parentLocator";
import { rewriteParentPaths, type ParentPathChange } from "../vhdx/parentLocatorUpdate";
import { VhdxWriter } from "../vhdx/write";
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
  if (onWindows) return bare.startsWith("UNC\\") ? "\\" + bare.slice(4) : bare;
  // A drive letter means nothing here; a path written by a POSIX system maps back, in the form
  // written now ("\\?\tmp\x") and in the one earlier versions wrote ("\\?\\tmp\x").
  if (/^[A-Za-z]:/.test(bare) || bare.startsWith("UNC\\")) return null;
  const posix = bare.replace(/\\/g, "/");
  return posix.startsWith("/") ? posix : "/" + posix;
}

/** Opens parents from the local file system, read-only (with a shared lock when `lock`). */
export function nodeParentResolverWith(lock: boolean): ParentResolver {
  return async (key, value, childLocation) => {
    const p = localParentPath(key, value, childLocation);
    if (!p || !existsSync(p)) return null;
    const io = await NodeFileBackend.open(p, { readOnly: true, lock: lock ? "shared" : undefined });
    return { io, location: resolve(p) };
  };
}

/** Opens parents from the local file system, read-only. */
export const nodeParentResolver: ParentResolver = nodeParentResolverWith(false);

/**
 * The locator paths a new differencing image at `childPath` stores for `parentPath`.
 *
 * absolute_win32_path is an extended-length path (§2.6.2.6.3: "\\?\" then a drive letter or a
 * UNC share, then the path with "\" separators), as Hyper-V writes it: "\\?\C:\vms\p.vhdx",
 * "\\?\UNC\server\share\p.vhdx". A POSIX path has no drive: its components follow the prefix
 * with "\" separators, the root's slash dropped ("/tmp/p.vhdx" → "\\?\tmp\p.vhdx"), so no
 * separator is doubled; `localParentPath` maps it back.
 */
export function parentLocatorPaths(
  childPath: string,
  parentPath: string,
): { relativePath: string; absoluteWin32Path: string } {
  const abs = resolve(parentPath);
  const rel = relative(dirname(resolve(childPath)), abs);
  const relativePath = (isAbsolute(rel) ? abs : rel).split(sep).join("\\");
  const absoluteWin32Path =
    WIN32_PREFIX +
    (onWindows ? (abs.startsWith("\\\\") ? "UNC\\" + abs.slice(2) : abs) : abs.split("/").filter(Boolean).join("\\"));
  return { relativePath, absoluteWin32Path };
}

/** True when both paths name the same file (hard links and symbolic links included). */
function sameFile(a: string, b: string): boolean {
  try {
    const x = statSync(a, { bigint: true });
    const y = statSync(b, { bigint: true });
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/**
 * The path entries of `pl` that are stale now that the parent of `childPath` was found at
 * `parentPath` (§2.6.2.6.3), each with the value that names the parent as it is now: the forms
 * `parentLocatorPaths` writes for a new child, which `localParentPath` reads back.
 *
 * An entry is stale when it names, on this system, another file or nothing. An entry this system
 * cannot evaluate is left alone: a drive letter, a UNC share or a volume_path on a POSIX host may
 * well be right on the Windows host the image came from. volume_path is never rewritten: the
 * volume GUID of a folder is not known here.
 */
export function staleParentPaths(childPath: string, parentPath: string, pl: ParentLocator): ParentPathChange[] {
  const fresh = parentLocatorPaths(childPath, parentPath);
  const out: ParentPathChange[] = [];
  for (const key of PARENT_PATH_KEYS) {
    const value = locatorValue(pl, key);
    if (value === undefined || key === "volume_path") continue;
    const local = localParentPath(key, value, childPath);
    if (local === null || sameFile(local, parentPath)) continue;
    const to = key === "relative_path" ? fresh.relativePath : fresh.absoluteWin32Path;
    if (to !== value) out.push({ key, from: value, to });
  }
  return out;
}

export interface OpenedChain {
  image: VhdxImage;
  chain: VhdxImage[];
  /** Stale parent locator paths rewritten by a writable open (empty when none, and always when read-only). */
  locatorUpdates: ParentPathChange[];
  /** With `deferLock`: settles once the image's own lock is held; rejects with FILE_LOCKED. */
  locked: Promise<void>;
}

/**
 * Opens an image file and, for a differencing image, its parent chain from the file system.
 *
 * Opened writable, the chain once resolved also brings stale path entries of the image's parent
 * locator up to date (§2.6.2.6.3), as one log commit before this returns. That is done at the
 * open, not with the first write, because the spec ties it to the open of the chain and a
 * writable open is the caller's consent to change the file: a session that ends up writing
 * nothing else still leaves a locator that finds the parent. A read-only open never writes; the
 * parents, opened read-only, keep their locators as they are; and a parent accepted despite a
 * DataWriteGuid mismatch (force) is no successful open, so nothing is rewritten then.
 */
export async function openWithParents(
  path: string,
  opts: { readOnly?: boolean; force?: boolean; maxDepth?: number; lock?: boolean; deferLock?: boolean } = {},
): Promise<OpenedChain> {
  const readOnly = opts.readOnly ?? true;
  // Locked: the image itself shared or exclusive as it is opened, its parents shared. The image's
  // own lock may be taken alongside the open (deferLock, read-only only: see NodeFileOpenOptions).
  const lock = opts.lock ? (readOnly ? "shared" : "exclusive") : undefined;
  const file = await NodeFileBackend.open(path, { readOnly, lock, deferLock: readOnly && opts.deferLock });
  const locked = file.locked;
  try {
    return { ...(await openChain(path, file, readOnly, opts)), locked };
  } catch (e) {
    // Whatever failed while another program held the file, the refusal is what to report.
    await locked;
    throw e;
  }
}

async function openChain(
  path: string,
  file: NodeFileBackend,
  readOnly: boolean,
  opts: { force?: boolean; maxDepth?: number; lock?: boolean },
): Promise<Omit<OpenedChain, "locked">> {
  const parentResolver = nodeParentResolverWith(opts.lock ?? false);
  // Writable: a log left by an interrupted session is replayed into the file first (§2.3.3).
  let image: VhdxImage;
  try {
    image = await openImage(file, { readOnly });
  } catch (e) {
    await file.close();
    throw e;
  }
  const located: string[] = [];
  let chain: VhdxImage[];
  try {
    chain = await attachParents(image, resolve(path), {
      resolve: async (key, value, childLocation) => {
        const found = await parentResolver(key, value, childLocation);
        if (found) located.push(found.location);
        return found;
      },
      force: opts.force,
      maxDepth: opts.maxDepth,
    });
  } catch (e) {
    await image.close();
    throw e;
  }
  const pl = image.params.parentLocator;
  const linked = !image.warnings.some((w) => w.code === "PARENT_MISMATCH");
  if (readOnly || chain.length < 2 || !pl || !linked) return { image, chain, locatorUpdates: [] };
  try {
    // located[0] is where the image's own parent was found (the resolver runs child first).
    const locatorUpdates = staleParentPaths(resolve(path), located[0], pl);
    if (locatorUpdates.length > 0) {
      const w = new VhdxWriter(image);
      await rewriteParentPaths(w, locatorUpdates);
      await w.finish();
    }
    return { image, chain, locatorUpdates };
  } catch (e) {
    await closeChain(chain);
    throw e;
  }
}
