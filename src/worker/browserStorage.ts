/**
 * The app's files in the origin's storage (OPFS), for the Storage panel and for the dialogs that
 * name an output: what is there, how large, since when, whether it is open; the quota; opening,
 * downloading and removing a file; the name a new output gets so that it replaces nothing.
 */
import { VhdxError } from "../vhdx/errors";
import { inUse, openFiles, sameEntry } from "./outputs";
import type { CallContext } from "./protocol";
import { exclusive, getSession } from "./state";
import { COPY_CHUNK } from "./storage/copy";
import { createSyncAccessHandle } from "./storage/fsa";
import { isPartial, splitExtension, uniqueName } from "./storage/names";
import { existingOpfsFile, listOpfs, normalizeOpfsPath, opfsFile, removeOpfsFile, splitOpfsPath } from "./storage/opfs";
import { readBlobRange } from "./storage/blobRange";

export interface StoredFile {
  /** "/"-separated below the OPFS root, e.g. "toolbox/converted.vhdx". */
  path: string;
  /** Bytes; -1 when the browser would not say (a file another context holds open). */
  size: number;
  /** Milliseconds since 1970; 0 when unknown. */
  lastModified: number;
  /** Why the file may not be written or removed now ("it is open in the editor"), or null. */
  inUse: string | null;
  /** The unfinished output of a job that did not complete (a closed tab, a crash). */
  partial: boolean;
}

export interface StorageListing {
  files: StoredFile[];
  /** navigator.storage.estimate(): bytes this origin uses, and may use; null where unknown. */
  usage: number | null;
  quota: number | null;
}

/** Every file in the origin's storage, with the quota. */
export async function storageList(): Promise<StorageListing> {
  const entries = await listOpfs();
  const open = await openFiles();
  const s = getSession();
  const files: StoredFile[] = [];
  for (const e of entries) {
    const handle = await existingOpfsFile(e.path);
    let why: string | null = null;
    for (const f of open) if (handle && (await sameEntry(f.handle, handle))) why = f.role;
    let size = e.size;
    // A file open through a sync access handle refuses getFile(); the open backend knows its size.
    if (size < 0 && why && s && s.source.kind === "opfs") size = await s.backend.size();
    files.push({ path: e.path, size, lastModified: e.lastModified, inUse: why, partial: isPartial(e.path) });
  }
  const est = await navigator.storage.estimate().catch(() => ({}) as StorageEstimate);
  return { files, usage: est.usage ?? null, quota: est.quota ?? null };
}

/** The handle of a stored file, for opening it in the editor. */
export async function storageHandle(_ctx: CallContext, path: string): Promise<FileSystemFileHandle> {
  return opfsFile(normalizeOpfsPath(path));
}

/** A stored file's bytes to download: the File itself, or read through the open image's storage. */
export async function storageFile(_ctx: CallContext, path: string): Promise<Blob> {
  const norm = normalizeOpfsPath(path);
  const handle = await opfsFile(norm);
  try {
    return await handle.getFile();
  } catch (e) {
    const s = getSession();
    if (!s || s.source.kind !== "opfs" || normalizeOpfsPath(s.source.path) !== norm) throw e;
    // The open working copy's sync access handle keeps getFile() from working: read through it.
    await s.backend.flush();
    const size = await s.backend.size();
    const parts: Uint8Array<ArrayBuffer>[] = [];
    for (let at = 0; at < size; at += COPY_CHUNK) {
      parts.push((await s.backend.read(at, Math.min(COPY_CHUNK, size - at))) as Uint8Array<ArrayBuffer>);
    }
    return new Blob(parts);
  }
}

/** Removes a stored file; the open image and its parents are refused (FILE_IN_USE). */
export function storageRemove(_ctx: CallContext, path: string): Promise<void> {
  return exclusive(async () => {
    const norm = normalizeOpfsPath(path);
    const handle = await existingOpfsFile(norm);
    if (!handle) return;
    const why = await inUse(handle);
    if (why) throw new VhdxError("FILE_IN_USE", `${norm} cannot be removed: ${why}; close it first`, "OPFS path");
    await removeOpfsFile(norm);
  });
}

/** `path` itself when free, else the first "<stem> (n)<ext>" beside it that is. */
export async function uniqueOpfsPath(path: string): Promise<string> {
  const { dirs, name } = splitOpfsPath(path);
  const folder = dirs.join("/");
  let taken: string[] = [];
  try {
    taken = (await listOpfs(folder)).map((e) => e.path.slice(folder ? folder.length + 1 : 0));
  } catch {
    // No such folder yet: every name is free.
  }
  return [...dirs, uniqueName(name, taken)].join("/");
}

export interface OutputCheck {
  /** The path asked about, normalised. */
  path: string;
  exists: boolean;
  size: number;
  lastModified: number;
  /** Why nothing may be written there whatever the user agrees to, or null. */
  inUse: string | null;
  /** The first free name beside it ("converted (2).vhdx"): `path` itself when free. */
  suggestion: string;
}

/** What is at an output path in browser storage, before a job is asked to write there. */
export async function outputCheck(_ctx: CallContext, path: string): Promise<OutputCheck> {
  const norm = normalizeOpfsPath(path);
  const handle = await existingOpfsFile(norm);
  let size = -1;
  let lastModified = 0;
  if (handle) {
    try {
      const f = await handle.getFile();
      size = f.size;
      lastModified = f.lastModified;
    } catch {
      // Held by a sync access handle: it is open, which inUse says.
    }
  }
  return {
    path: norm,
    exists: handle !== null,
    size,
    lastModified,
    inUse: handle ? await inUse(handle) : null,
    suggestion: await uniqueOpfsPath(norm),
  };
}

/** How much of a file a throughput probe copies: enough to pass the first caches, short enough to wait for. */
export const PROBE_BYTES = 32 * 1024 * 1024;

/**
 * Measures how fast `file` copies into browser storage: up to PROBE_BYTES of it are read and
 * written into a scratch file, as importToOpfs does, and the scratch file removed. Bytes per
 * second, for the estimate shown before a working copy is made.
 */
export function copyThroughput(ctx: CallContext, file: Blob): Promise<{ bytes: number; ms: number }> {
  return exclusive(async () => {
    const path = `working-copies/.throughput-probe`;
    const bytes = Math.min(PROBE_BYTES, file.size);
    const access = await createSyncAccessHandle(await opfsFile(path, { create: true }), "readwrite");
    const t0 = performance.now();
    try {
      for (let at = 0; at < bytes; at += COPY_CHUNK) {
        if (ctx.signal.aborted) break;
        const chunk = await readBlobRange(file, at, Math.min(COPY_CHUNK, bytes - at), "source file");
        let done = 0;
        while (done < chunk.length) done += access.write(chunk.subarray(done), { at: at + done });
      }
      access.flush();
    } finally {
      access.close();
      await removeOpfsFile(path).catch(() => undefined);
    }
    return { bytes, ms: Math.max(1, performance.now() - t0) };
  });
}

/** The name a working copy of `name` gets in browser storage: its own name, numbered when taken. */
export function workingCopyPath(name: string): Promise<string> {
  const { stem, ext } = splitExtension(name.replace(/[\\/:*?"<>|]+/g, "_") || "disk.vhdx");
  return uniqueOpfsPath(`working-copies/${stem}${ext}`);
}
