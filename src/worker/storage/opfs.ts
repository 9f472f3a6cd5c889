import { VhdxError } from "../../vhdx/errors";
import { describeDomError } from "./blobRange";

/**
 * Paths in the origin-private file system: "/"-separated names below the OPFS root, e.g.
 * "working/disk.vhdx". No "." or ".." segments, no empty names.
 */
export function splitOpfsPath(path: string): { dirs: string[]; name: string } {
  const parts = path.split("/").filter((p) => p.length > 0);
  if (parts.length === 0 || parts.some((p) => p === "." || p === ".." || p.includes("\\"))) {
    throw new VhdxError("INVALID_ARGUMENT", `Not a valid origin-private file path: "${path}"`, "OPFS path");
  }
  const name = parts.pop() as string;
  return { dirs: parts, name };
}

export function normalizeOpfsPath(path: string): string {
  const { dirs, name } = splitOpfsPath(path);
  return [...dirs, name].join("/");
}

async function opfsDirectory(dirs: string[], create: boolean): Promise<FileSystemDirectoryHandle> {
  let dir = await navigator.storage.getDirectory();
  for (const d of dirs) dir = await dir.getDirectoryHandle(d, { create });
  return dir;
}

/** The handle of an OPFS file; with `create`, missing directories and the file are made. */
export async function opfsFile(path: string, opts: { create?: boolean } = {}): Promise<FileSystemFileHandle> {
  const { dirs, name } = splitOpfsPath(path);
  try {
    const dir = await opfsDirectory(dirs, opts.create ?? false);
    return await dir.getFileHandle(name, { create: opts.create ?? false });
  } catch (e) {
    if (e instanceof Error && e.name === "NotFoundError") {
      throw new VhdxError(
        "IO_ERROR",
        `No file "${normalizeOpfsPath(path)}" in the origin-private file system`,
        "OPFS path",
      );
    }
    throw new VhdxError(
      "IO_ERROR",
      `Cannot open "${path}" in the origin-private file system: ${describeDomError(e)}`,
      "OPFS path",
    );
  }
}

export async function removeOpfsFile(path: string): Promise<void> {
  const { dirs, name } = splitOpfsPath(path);
  try {
    const dir = await opfsDirectory(dirs, false);
    await dir.removeEntry(name);
  } catch (e) {
    if (e instanceof Error && e.name === "NotFoundError") return;
    throw new VhdxError("IO_ERROR", `Cannot remove "${path}": ${describeDomError(e)}`, "OPFS path");
  }
}

/** The handle of an existing OPFS file, or null when there is none at `path`. */
export async function existingOpfsFile(path: string): Promise<FileSystemFileHandle | null> {
  const { dirs, name } = splitOpfsPath(path);
  try {
    return await (await opfsDirectory(dirs, false)).getFileHandle(name);
  } catch (e) {
    if (e instanceof Error && (e.name === "NotFoundError" || e.name === "TypeMismatchError")) return null;
    throw new VhdxError("IO_ERROR", `Cannot look up "${path}": ${describeDomError(e)}`, "OPFS path");
  }
}

interface MovableHandle {
  move?(name: string): Promise<void>;
}

/** Renames an OPFS file inside its folder: move() where the engine has it, else a copy then a removal. */
export async function renameOpfsFile(from: string, to: string): Promise<void> {
  const a = splitOpfsPath(from);
  const b = splitOpfsPath(to);
  if (a.dirs.join("/") !== b.dirs.join("/")) {
    throw new VhdxError("INVALID_ARGUMENT", `"${from}" and "${to}" are in different folders`, "OPFS path");
  }
  const handle = await opfsFile(from);
  const m = handle as unknown as MovableHandle;
  try {
    if (typeof m.move === "function") {
      await m.move(b.name);
      return;
    }
    const dst = await opfsFile(to, { create: true });
    const w = await dst.createWritable({ keepExistingData: false });
    await (await handle.getFile()).stream().pipeTo(w);
  } catch (e) {
    throw new VhdxError("IO_ERROR", `Cannot rename "${from}" to "${to}": ${describeDomError(e)}`, "OPFS path");
  }
  await removeOpfsFile(from);
}

/**
 * Puts the finished file `partial` at `path`. When a file is there (the user agreed to replace
 * it), it is first renamed aside and removed only once the new file has its name, so a failure
 * at any step leaves one of the two complete files at `path`.
 */
export async function placeOpfsFile(partial: string, path: string): Promise<void> {
  const old = await existingOpfsFile(path);
  if (!old) {
    await renameOpfsFile(partial, path);
    return;
  }
  const aside = `${path}.replaced`;
  await removeOpfsFile(aside);
  await renameOpfsFile(path, aside);
  try {
    await renameOpfsFile(partial, path);
  } catch (e) {
    await renameOpfsFile(aside, path).catch(() => undefined);
    throw e;
  }
  await removeOpfsFile(aside);
}

export interface OpfsEntry {
  path: string;
  size: number;
  lastModified: number;
}

/** Every file under `prefix` (default: the whole origin-private file system). */
export async function listOpfs(prefix = ""): Promise<OpfsEntry[]> {
  const out: OpfsEntry[] = [];
  const start = prefix
    ? await opfsDirectory(prefix.split("/").filter(Boolean), false)
    : await navigator.storage.getDirectory();
  const walk = async (dir: FileSystemDirectoryHandle, base: string): Promise<void> => {
    // entries() is not in TypeScript's DOM library yet; values() of the async iterator is.
    const iterable = dir as unknown as AsyncIterable<[string, FileSystemHandle]>;
    for await (const [name, h] of iterable) {
      const path = base ? `${base}/${name}` : name;
      if (h.kind === "directory") await walk(h as FileSystemDirectoryHandle, path);
      else {
        try {
          const f = await (h as FileSystemFileHandle).getFile();
          out.push({ path, size: f.size, lastModified: f.lastModified });
        } catch {
          // A file held by a read-write sync access handle may refuse getFile(); list it without details.
          out.push({ path, size: -1, lastModified: 0 });
        }
      }
    }
  };
  await walk(start, prefix.split("/").filter(Boolean).join("/"));
  return out.sort((a, b) => a.path.localeCompare(b.path));
}
