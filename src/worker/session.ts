import { openImage, type VhdxImage } from "../vhdx/image";
import { VhdxError } from "../vhdx/errors";
import type { RandomAccess } from "../vhdx/io";
import { handleLockName, opfsLockName, tryExclusiveLock, type HeldLock } from "./locks";
import { BlobBackend } from "./storage/blobBackend";
import { ChunkCache } from "./storage/chunkCache";
import { permissionApi } from "./storage/fsa";
import { normalizeOpfsPath, opfsFile } from "./storage/opfs";
import { OpfsSyncBackend } from "./storage/opfsSyncBackend";
import { WritableHandleBackend } from "./storage/writableHandleBackend";
import type { VhdxWriter } from "../vhdx/write";

/** Where an image comes from. */
export type OpenSource =
  | { kind: "file"; file: File }
  | { kind: "handle"; handle: FileSystemFileHandle; writable: boolean }
  | { kind: "opfs"; path: string; writable?: boolean };

export type BackendKind = "blob" | "writable-handle" | "opfs-sync";

/**
 * The worker's memory budget beyond the BAT (64 MiB in all): the engine keeps up to 8 sector
 * bitmap blocks (8 MiB), the backends' chunk cache 16 MiB, staged writes of a writable-handle
 * commit 32 MiB.
 */
export const CHUNK_CACHE_BUDGET = 16 * 1024 * 1024;
export const OVERLAY_BUDGET = 32 * 1024 * 1024;

/** An open image and everything that belongs to it. */
export interface Session {
  source: OpenSource;
  name: string;
  backend: BlobBackend | WritableHandleBackend | OpfsSyncBackend;
  backendKind: BackendKind;
  image: VhdxImage;
  readOnly: boolean;
  /** Why the image is read-only, for the UI to say. null when writable. */
  readOnlyReason: string | null;
  lock: HeldLock | null;
  cache: ChunkCache | null;
  /** The engine's writer, made on the first commit of a writable session. */
  writer: VhdxWriter | null;
  /** Writable storage, read-only only because the log awaits replay: replay() makes it editable. */
  logAwaitsReplay: boolean;
  /** The attached parents' files where they came with a handle (picked, or in a granted folder). */
  parentHandles?: FileSystemFileHandle[];
  /** The direct parent's file when it came with a handle: what Merge into parent writes unless another is picked. */
  directParentHandle?: FileSystemFileHandle | null;
}

function newCache(): ChunkCache {
  return new ChunkCache({ chunkSize: 64 * 1024, budgetBytes: CHUNK_CACHE_BUDGET });
}

interface Storage {
  backend: Session["backend"];
  backendKind: BackendKind;
  readOnlyReason: string | null;
  lock: HeldLock | null;
  cache: ChunkCache | null;
}

/** Every file opens read-only; writing starts only when the user asks for it. */
const UNTIL_ENABLED = "files open read-only until you choose Enable editing, so nothing is written unasked";

const ANOTHER_TAB =
  "another tab or window is editing this file; it is open read-only here — close it there to edit here";

async function openStorage(source: OpenSource): Promise<Storage> {
  if (source.kind === "file") {
    const cache = newCache();
    const reason = "opened from a dropped or chosen file, which the browser gives without write access";
    return {
      backend: new BlobBackend(source.file, { cache }),
      backendKind: "blob",
      readOnlyReason: reason,
      lock: null,
      cache,
    };
  }
  if (source.kind === "handle") {
    const h = source.handle;
    const readOnlyBlob = async (reason: string): Promise<Storage> => {
      const cache = newCache();
      const backend = new BlobBackend(await h.getFile(), { cache, name: h.name });
      return { backend, backendKind: "blob", readOnlyReason: reason, lock: null, cache };
    };
    if (!source.writable) return readOnlyBlob(UNTIL_ENABLED);
    const perm = permissionApi(h);
    const state = perm.queryPermission ? await perm.queryPermission({ mode: "readwrite" }) : "granted";
    if (state !== "granted") return readOnlyBlob("permission to write this file was not granted");
    const lock = await tryExclusiveLock(await handleLockName(h));
    if (!lock) return readOnlyBlob(ANOTHER_TAB);
    const cache = newCache();
    const backend = await WritableHandleBackend.open(h, { cache, overlayBudget: OVERLAY_BUDGET });
    return { backend, backendKind: "writable-handle", readOnlyReason: null, lock, cache };
  }
  const path = normalizeOpfsPath(source.path);
  const handle = await opfsFile(path);
  const readOnlyOpfs = async (reason: string): Promise<Storage> => {
    try {
      const backend = await OpfsSyncBackend.open(handle, path, { readOnly: true });
      return { backend, backendKind: "opfs-sync", readOnlyReason: reason, lock: null, cache: null };
    } catch {
      // A read-write handle elsewhere excludes read-only handles too; a File snapshot still reads.
      const cache = newCache();
      const backend = new BlobBackend(await handle.getFile(), { cache, name: path });
      return { backend, backendKind: "blob", readOnlyReason: reason, lock: null, cache };
    }
  };
  if (source.writable === false) return readOnlyOpfs(UNTIL_ENABLED);
  const lock = await tryExclusiveLock(opfsLockName(path));
  if (!lock) return readOnlyOpfs(ANOTHER_TAB);
  try {
    const backend = await OpfsSyncBackend.open(handle, path);
    return { backend, backendKind: "opfs-sync", readOnlyReason: null, lock, cache: null };
  } catch (e) {
    lock.release();
    // Another origin context (an older tab without the lock, a stuck worker) holds the file.
    const why = e instanceof VhdxError ? e.message : String(e);
    return readOnlyOpfs(`the working copy could not be opened for writing (${why})`);
  }
}

function sourceName(source: OpenSource): string {
  if (source.kind === "file") return source.file.name;
  if (source.kind === "handle") return source.handle.name;
  return normalizeOpfsPath(source.path);
}

/**
 * Opens storage and the image on it. A writable open that the engine refuses (for instance
 * blocks that overlap, where a write would spread damage) falls back to read-only with the reason.
 */
export async function openSession(source: OpenSource, signal: AbortSignal): Promise<Session> {
  const st = await openStorage(source);
  const release = async (): Promise<void> => {
    await st.backend.close().catch(() => undefined);
    st.lock?.release();
  };
  let image: VhdxImage;
  let readOnlyReason = st.readOnlyReason;
  let logAwaitsReplay = false;
  try {
    try {
      // Writable opens refuse to replay a pending log by themselves: opening never writes
      // unasked, and on a user's file a replay must run as one commit (runCommit).
      image = await openImage(
        st.backend as RandomAccess,
        readOnlyReason === null ? { readOnly: false, replay: "refuse" } : { readOnly: true },
      );
    } catch (e) {
      if (readOnlyReason !== null || !(e instanceof VhdxError) || e.code === "IO_ERROR") throw e;
      image = await openImage(st.backend as RandomAccess, { readOnly: true });
      logAwaitsReplay = e.code === "LOG_NEEDS_REPLAY";
      readOnlyReason = logAwaitsReplay ? LOG_REASON : `the engine refuses to edit this image: ${e.message}`;
    }
    if (signal.aborted) throw new VhdxError("CANCELLED", "Opening was cancelled", "open");
  } catch (e) {
    await release();
    throw e;
  }
  return {
    source,
    name: sourceName(source),
    backend: st.backend,
    backendKind: st.backendKind,
    image,
    readOnly: readOnlyReason !== null,
    readOnlyReason,
    lock: st.lock,
    cache: st.cache,
    writer: null,
    logAwaitsReplay,
  };
}

export const LOG_REASON =
  "the log holds changes not yet written into the file; they are shown applied in memory — replay the log to edit";

export async function closeSession(s: Session): Promise<void> {
  try {
    await s.image.close(); // closes the backend
  } finally {
    s.cache?.clear();
    s.lock?.release();
  }
}

/**
 * Runs one commit's writes on the session's storage. On a user's file (writable handle) the
 * whole commit goes through a single writable — one copy of the file, swapped in atomically, or
 * aborted when `fn` throws (a cancelled commit leaves the file as it was). On OPFS and in memory
 * the writes land in place and the engine's own flush ordering (the log) keeps them safe.
 * Methods that write (commitPatch, replay, convert) wrap their engine call in this.
 */
export async function runCommit<T>(s: Session, fn: () => Promise<T>): Promise<{ value: T; atomic: boolean }> {
  assertEditable(s);
  return commitOnStorage(s.backend, fn);
}

/**
 * Why the session's image cannot take edits now, or null. Read-only storage is one reason; a
 * differencing image without its parent is the other: its NOT_PRESENT sectors and the unset bits
 * of its sector bitmaps belong to the parent (§2.4, §2.5.1.1), so a sector-widened write or a
 * copy-on-write would read them as they are not (zeros, or an error half-way through a commit).
 */
export function editRefusal(s: Session): VhdxError | null {
  if (s.readOnly) return new VhdxError("READ_ONLY", `${s.name} is open read-only: ${s.readOnlyReason}`, s.name);
  if (s.image.diskType === "differencing" && s.image.parent === null) {
    return new VhdxError("PARENT_NOT_FOUND", `${s.name}: ${PARENT_MISSING_REASON}`, "parent locator");
  }
  return null;
}

/** Why an image whose parent was attached over a linkage mismatch stays read-only. */
export const MISMATCH_REASON =
  "its parent's DataWriteGuid does not match the child's parent_linkage (opened read-only anyway)";

export const PARENT_MISSING_REASON =
  "this differencing image is open without its parent; sectors it does not hold come from the parent, so edits are refused until the parent is attached";

/** Throws editRefusal(s) when there is one. */
export function assertEditable(s: Session): void {
  const refusal = editRefusal(s);
  if (refusal) throw refusal;
}

/**
 * After the image was opened again on the same storage (a failed commit, a replay, a repair): the
 * parents attached before are other files, unchanged, so they stay attached, with the linkage
 * warning a forced attach left.
 */
export function carryChain(from: VhdxImage, to: VhdxImage): void {
  if (to.diskType !== "differencing") return;
  to.parent = from.parent;
  for (const w of from.warnings) if (w.code === "PARENT_MISMATCH") to.warnings.push(w);
}

/** runCommit without the read-only check, for the replay that makes a session writable. */
export async function commitOnStorage<T>(
  backend: Session["backend"],
  fn: () => Promise<T>,
): Promise<{ value: T; atomic: boolean }> {
  if (backend instanceof WritableHandleBackend) return backend.batch(fn);
  const value = await fn();
  await backend.flush();
  return { value, atomic: !(backend instanceof BlobBackend) };
}
