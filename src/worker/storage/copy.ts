import type { RandomAccess } from "../../vhdx/io";
import { VhdxError, hex } from "../../vhdx/errors";
import { readBlobRange } from "./blobRange";
import { createSyncAccessHandle } from "./fsa";
import { PARTIAL_SUFFIX } from "./names";
import { existingOpfsFile, normalizeOpfsPath, opfsFile, placeOpfsFile, removeOpfsFile } from "./opfs";
import { ioError } from "./writableHandleBackend";

/** Bytes moved per step of a streamed copy: large enough to amortise the per-call cost, small for memory. */
export const COPY_CHUNK = 8 * 1024 * 1024;

export interface CopyOptions {
  signal?: AbortSignal;
  /** The user agreed to replace a file already at the path; without it an existing file is refused (FILE_EXISTS). */
  replace?: boolean;
  /** Called after every chunk with bytes done and total. */
  onProgress?: (done: number, total: number) => void;
}

export interface CopyResult {
  bytes: number;
  ms: number;
}

/** Reads from a Blob or a RandomAccess, chunk by chunk. */
type Source = { kind: "blob"; blob: Blob } | { kind: "io"; io: RandomAccess; size: number };

function sourceSize(s: Source): number {
  return s.kind === "blob" ? s.blob.size : s.size;
}

function readSource(s: Source, offset: number, length: number): Promise<Uint8Array> {
  return s.kind === "blob" ? readBlobRange(s.blob, offset, length, "source file") : s.io.read(offset, length);
}

export function throwIfCancelled(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new VhdxError("CANCELLED", `${what} was cancelled`, what);
}

/**
 * Checks navigator.storage.estimate() before a copy of `bytes` into OPFS, so a large import
 * fails at once with numbers instead of after gigabytes with QuotaExceededError.
 * `reclaimed` is what the copy will replace (an older copy at the same path).
 */
export async function checkQuota(bytes: number, reclaimed = 0): Promise<{ quota: number; usage: number }> {
  const { quota = Infinity, usage = 0 } = await navigator.storage.estimate();
  const available = quota - usage + reclaimed;
  if (bytes > available) {
    throw new VhdxError(
      "IO_ERROR",
      `Not enough browser storage for ${bytes} bytes (${hex(bytes)}): ${Math.max(0, available)} bytes available of a ${quota}-byte quota`,
      "origin-private file system",
    );
  }
  return { quota, usage };
}

/** FILE_EXISTS for a file already at `path` that the user did not agree to replace. */
export function fileExists(path: string): VhdxError {
  return new VhdxError(
    "FILE_EXISTS",
    `${path} already exists in browser storage; choose another name or agree to replace it`,
    "output file",
  );
}

/**
 * Streams `file` into the OPFS file at `path` through a sync access handle. The copy is written
 * to "<path>.partial" and renamed when complete, so an interrupted or cancelled import never
 * leaves something that looks like a finished working copy, and a file already at `path` (which
 * only `replace` allows) stays whole until the copy is.
 */
export async function importToOpfs(file: Blob, path: string, opts: CopyOptions = {}): Promise<CopyResult> {
  const t0 = performance.now();
  const norm = normalizeOpfsPath(path);
  const old = await existingOpfsFile(norm);
  if (old && !opts.replace) throw fileExists(norm);
  // The old file is removed only after the copy, so it does not count as reclaimed space.
  await checkQuota(file.size);
  const partialPath = `${norm}${PARTIAL_SUFFIX}`;
  const target = await opfsFile(partialPath, { create: true });
  const access = await createSyncAccessHandle(target, "readwrite");
  let ok = false;
  let next: Promise<Uint8Array> | null = null;
  try {
    access.truncate(0);
    const total = file.size;
    const readChunk = (at: number) => readBlobRange(file, at, Math.min(COPY_CHUNK, total - at), "source file");
    // Reading the next chunk overlaps writing this one: the source and OPFS are often different disks.
    next = total > 0 ? readChunk(0) : null;
    for (let at = 0; at < total; at += COPY_CHUNK) {
      throwIfCancelled(opts.signal, "Import");
      const chunk = await (next as Promise<Uint8Array>);
      next = at + COPY_CHUNK < total ? readChunk(at + COPY_CHUNK) : null;
      let done = 0;
      try {
        while (done < chunk.length) done += access.write(chunk.subarray(done), { at: at + done });
      } catch (e) {
        throw ioError(`Cannot write the working copy ${norm}`, e, norm, at + done);
      }
      opts.onProgress?.(at + chunk.length, total);
    }
    access.flush();
    ok = true;
  } finally {
    // A read still in flight after a cancel or a failed write must not surface as an unhandled rejection.
    (next as Promise<Uint8Array> | null)?.catch(() => undefined);
    access.close();
    if (!ok) await removeOpfsFile(partialPath);
  }
  await placeOpfsFile(partialPath, norm);
  return { bytes: file.size, ms: performance.now() - t0 };
}

/**
 * Streams `source` into `target` through a single writable. The browser swaps the new content in
 * on close, so a failure or cancellation (the stream is aborted) leaves the target as it was.
 * Used for "save back" (working copy → original file) and "save as" (→ a save-picker handle).
 */
export async function copyToHandle(
  source: Source,
  target: FileSystemFileHandle,
  opts: CopyOptions = {},
): Promise<CopyResult> {
  const t0 = performance.now();
  const total = sourceSize(source);
  let w: FileSystemWritableFileStream;
  try {
    w = await target.createWritable({ keepExistingData: false });
  } catch (e) {
    throw ioError(`Cannot write ${target.name}`, e, target.name, 0);
  }
  try {
    for (let at = 0; at < total; at += COPY_CHUNK) {
      throwIfCancelled(opts.signal, "Save");
      const chunk = await readSource(source, at, Math.min(COPY_CHUNK, total - at));
      await w.write({ type: "write", position: at, data: chunk as Uint8Array<ArrayBuffer> });
      opts.onProgress?.(at + chunk.length, total);
    }
    await w.close();
  } catch (e) {
    await w.abort().catch(() => undefined);
    if (e instanceof VhdxError) throw e;
    throw ioError(`Cannot save ${target.name}`, e, target.name, 0);
  }
  return { bytes: total, ms: performance.now() - t0 };
}

export type { Source as CopySource };
