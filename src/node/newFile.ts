/**
 * A new output file that appears under its name only once it is whole. It is written under a
 * hidden temporary name in the same folder (".name.partial-PID-RANDOM") and linked to its name at
 * the end; a failure, or Ctrl-C (SIGINT, SIGTERM, SIGHUP), removes the temporary file, so no
 * partial output is ever left where the user asked for it and a retry finds the name free.
 * The name is taken with link(), which fails if a file appeared there meanwhile: an existing file
 * is never replaced. (On file systems without hard links, rename() after a last check.)
 */
import { unlinkSync } from "node:fs";
import { link, open, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { NodeFileBackend } from "./fileBackend";
import type { LockMode } from "./fileLock";

/** Temporary files of this process not yet linked or removed. */
const pending = new Set<string>();
let handlersInstalled = false;

function removePendingAndExit(signal: NodeJS.Signals, code: number): void {
  for (const p of pending) {
    try {
      unlinkSync(p);
    } catch {
      // already gone
    }
  }
  pending.clear();
  process.stderr.write(`vhdx: interrupted (${signal}); no output was left behind\n`);
  process.exit(code);
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once("SIGINT", () => removePendingAndExit("SIGINT", 130));
  process.once("SIGTERM", () => removePendingAndExit("SIGTERM", 143));
  process.once("SIGHUP", () => removePendingAndExit("SIGHUP", 129));
}

export interface NewFile {
  /** The output, open for writing under its temporary name. */
  readonly file: NodeFileBackend;
  readonly tempPath: string;
  /** Closes the file and gives it its name; fails (removing it) if the name was taken meanwhile. */
  commit(): Promise<void>;
  /** Closes and removes the file: nothing is left. Safe after commit (then a no-op). */
  abandon(): Promise<void>;
}

export class OutputExistsError extends Error {
  constructor(readonly path: string) {
    super(`${path} already exists; it was not replaced`);
  }
}

export async function createNewFile(path: string, opts: { lock?: LockMode } = {}): Promise<NewFile> {
  const tempPath = join(dirname(path), `.${basename(path)}.partial-${process.pid}-${randomBytes(4).toString("hex")}`);
  installHandlers();
  pending.add(tempPath);
  let file: NodeFileBackend;
  try {
    file = await NodeFileBackend.open(tempPath, { create: "exclusive", lock: opts.lock });
  } catch (e) {
    pending.delete(tempPath);
    throw e;
  }
  let done = false;
  const abandon = async (): Promise<void> => {
    if (done) return;
    done = true;
    try {
      await file.close();
    } finally {
      await unlink(tempPath).catch(() => undefined);
      pending.delete(tempPath);
    }
  };
  const commit = async (): Promise<void> => {
    try {
      await file.close();
      await giveName(tempPath, path);
    } catch (e) {
      await abandon();
      throw e;
    }
    done = true;
    pending.delete(tempPath);
    await syncFolder(dirname(path));
  };
  return { file, tempPath, commit, abandon };
}

async function giveName(tempPath: string, path: string): Promise<void> {
  try {
    await link(tempPath, path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw new OutputExistsError(path);
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw e;
    // No hard links here (FAT, exFAT, some network shares): the last check, then rename.
    if (
      await stat(path).then(
        () => true,
        () => false,
      )
    )
      throw new OutputExistsError(path);
    await rename(tempPath, path);
    return;
  }
  await unlink(tempPath);
}

/** The folder's entries made durable (where the system allows a folder to be synced). */
async function syncFolder(dir: string): Promise<void> {
  try {
    const h = await open(dir, "r");
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  } catch {
    // not supported here (Windows): the rename is still done
  }
}
