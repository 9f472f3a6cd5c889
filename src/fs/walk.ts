/**
 * Generic walks over any mounted file system: a path resolved from the root, and a file's bytes
 * streamed in file order with its holes skipped. Each driver supplies only the FileSystem contract.
 */
import { FsError } from "./errors";
import type { FileSystem, FsEntry } from "./types";

/** Path components of a "/"-separated path from the root; "" and "." parts dropped, ".." refused. */
export function splitPath(path: string): string[] {
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) {
    throw new FsError("FS_NOT_FOUND", `paths are taken from the root; ".." is not followed (${path})`, "path");
  }
  return parts;
}

/**
 * The entry at `path` (from the root), reading one directory per component; symlinks are not
 * followed. A name matches as the file system compares names (`foldName`: case ignored on FAT,
 * exFAT and NTFS); a name equal byte for byte wins over one equal only in another case.
 */
export async function resolvePath(fs: FileSystem, path: string): Promise<FsEntry> {
  let at = await fs.root();
  const fold = fs.foldName?.bind(fs);
  for (const name of splitPath(path)) {
    if (at.type !== "dir") {
      throw new FsError("FS_NOT_A_DIRECTORY", `${at.path || "/"} is not a directory`, "path");
    }
    const folded = fold ? fold(name) : null;
    let found: FsEntry | null = null;
    let caseMatch: FsEntry | null = null;
    for await (const e of fs.readDir(at)) {
      if (e.name === name) {
        found = e;
        break;
      }
      if (folded !== null && caseMatch === null && fold!(e.name) === folded) caseMatch = e;
    }
    found ??= caseMatch;
    if (!found) throw new FsError("FS_NOT_FOUND", `no such file or directory: ${joinPath(at.path, name)}`, "path");
    at = found;
  }
  return at;
}

/**
 * Upper case one UTF-16 code unit at a time (a unit whose upper case is not one unit, such as
 * "ß", stays): the rule of a case-insensitive name compare where the volume keeps no table (FAT).
 */
export function upcaseUnits(name: string): string {
  let out = "";
  for (let i = 0; i < name.length; i++) {
    const c = name[i];
    const u = c.toUpperCase();
    out += u.length === 1 ? u : c;
  }
  return out;
}

/** A directory's entries (`readDir`'s) a run at a time, as the file system gives them or one by one. */
export async function* dirRuns(fs: FileSystem, dir: FsEntry): AsyncGenerator<FsEntry[]> {
  if (fs.readDirRuns) {
    yield* fs.readDirRuns(dir);
    return;
  }
  let run: FsEntry[] = [];
  for await (const e of fs.readDir(dir)) {
    run.push(e);
    if (run.length >= 4096) {
      yield run;
      run = [];
    }
  }
  if (run.length) yield run;
}

export function joinPath(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

/** One run of a file's bytes, in file order; holes (runs that read as zeros) are not read and not yielded. */
export interface FileChunk {
  fileOffset: number;
  bytes: Uint8Array;
}

/**
 * A file's data in pieces of at most `chunkSize` bytes, in file order, skipping the runs its
 * extents say read as zeros. Memory stays at one piece whatever the file's size.
 */
export async function* fileChunks(
  fs: FileSystem,
  file: FsEntry,
  chunkSize = 4 * 1024 * 1024,
  signal?: AbortSignal,
): AsyncGenerator<FileChunk> {
  if (file.type !== "file") throw new FsError("FS_NOT_A_FILE", `${file.path || "/"} is not a regular file`, "path");
  let expected = 0;
  for await (const x of fs.extents(file)) {
    if (x.fileOffset !== expected || x.length <= 0 || x.fileOffset + x.length > file.size) {
      throw new FsError(
        "FS_CORRUPT",
        `${file.path}: its extents do not cover the file in order (a run at ${x.fileOffset} of ${x.length} bytes, expected ${expected})`,
        "extents",
      );
    }
    expected = x.fileOffset + x.length;
    if (x.deviceOffset === null && !x.encoded) continue;
    for (let at = x.fileOffset; at < expected; at += chunkSize) {
      signal?.throwIfAborted();
      const n = Math.min(chunkSize, expected - at);
      yield { fileOffset: at, bytes: await fs.read(file, at, n) };
    }
  }
  if (expected !== file.size) {
    throw new FsError(
      "FS_CORRUPT",
      `${file.path}: its extents end at ${expected}, short of its ${file.size} bytes`,
      "extents",
    );
  }
}
