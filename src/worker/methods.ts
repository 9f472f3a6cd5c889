import { VhdxError } from "../vhdx/errors";
import type { FileMap, ImageInfo, MapWindow } from "../vhdx/info";
import { transfer, type CallContext, type MethodTable, type Transfer } from "./protocol";
import { current, exclusive, getSession, getVhdSession, setSession, setVhdSession } from "./state";
import { closeVhdSession, openVhdSession, vhdBat, vhdInfo } from "./vhdSession";
import { vhdAttachParents } from "./vhdChain";
import { vhdInfo as vhdInfoOf, type VhdInfo } from "../vhd/info";
import { commitPatch, patchCost, replay } from "./commit";
import { check, log, repair, repairPlan } from "./inspect";
import { report } from "./report";
import { readOnDisk, replayedRanges } from "./replayView";
import { attachChain, chain, layers, parentLocator, partialBlocks } from "./chain";
import { compact, convertOpenToRaw, convertOpenToVhd, convertRaw, createNew } from "./toolbox";
import { convertVhd, convertVhdKeepChain, vhdSourceInfo, vhdSourceParents } from "./vhdConvert";
import { attachedParent, mergeOpen } from "./mergeJob";
import { resizeCost, resizeOpen } from "./resize";
import { rememberOrigin, saveBack, workingCopyOrigin } from "./saveBack";
import { writeFile, writeFileCost } from "./writeFile";
import { partitionArea } from "./partitions";
import { fsList, fsListWhole, fsLocate, fsOwner, fsVolumes } from "./files/browse";
import { fsExtract } from "./files/extract";
import { fsLayerChanges } from "./files/layer";
import { forgetFiles } from "./files/state";
import {
  copyThroughput,
  outputCheck,
  storageFile,
  storageHandle,
  storageList,
  storageRemove,
  uniqueOpfsPath,
  workingCopyPath,
} from "./browserStorage";
import { refuseInUse } from "./outputs";
import { find } from "./find";
import { saveRange } from "./saveRange";
import {
  closeSession,
  editRefusal as refusalOf,
  openSession,
  CHUNK_CACHE_BUDGET,
  OVERLAY_BUDGET,
  type BackendKind,
  type OpenSource,
  type Session,
} from "./session";
import type { ChunkCacheStats } from "./storage/chunkCache";
import { copyToHandle, importToOpfs as importFile, type CopyResult, type CopySource } from "./storage/copy";
import { existingOpfsFile, listOpfs, normalizeOpfsPath, opfsFile, type OpfsEntry } from "./storage/opfs";
import type { IoStats } from "./storage/stats";
import { WritableHandleBackend, type CommitCost } from "./storage/writableHandleBackend";

/** Reads larger than this are refused: the UI asks page by page, and the worker's memory stays bounded. */
export const MAX_READ = 64 * 1024 * 1024;

/** What `openDisk` opened: a VHDX, or a VHD (v1) disk, which is always read-only. */
export type DiskOpenResult = (OpenResult & { format: "vhdx" }) | VhdOpenResult;

/** `info` is `vhdx info --json` of a VHD. */
export interface VhdOpenResult extends Omit<OpenResult, "info"> {
  format: "vhd";
  info: VhdInfo;
}

export interface OpenResult {
  name: string;
  backend: BackendKind;
  readOnly: boolean;
  readOnlyReason: string | null;
  /** Read-only only because the log awaits replay: `replay()` makes the image editable. */
  logAwaitsReplay: boolean;
  info: ImageInfo;
  /** For a user's file opened for writing: what one commit costs (the browser copies the file). */
  commitCost: CommitCost | null;
}

export interface EngineStats {
  io: IoStats;
  cache: ChunkCacheStats | null;
  /** Bytes the worker holds for this image: the BAT, and the caches bounded by the budget. */
  memory: { batBytes: number; cacheBytes: number; stagedWriteBytes: number; budgetBeyondBat: number };
  commitCost: CommitCost | null;
}

export type SaveTarget = { kind: "handle"; handle: FileSystemFileHandle } | { kind: "download" };
export type SaveResult =
  (CopyResult & { kind: "handle" }) | { kind: "download"; blob: Blob; name: string; bytes: number };

async function closeAll(): Promise<void> {
  const old = getSession();
  const oldVhd = getVhdSession();
  setSession(null);
  setVhdSession(null);
  if (old) await closeSession(old);
  if (oldVhd) await closeVhdSession(oldVhd);
}

/** Opens a VHDX (as `open` does) or, found by its signatures, a VHD read-only from a snapshot of the file. */
async function openDisk(ctx: CallContext, source: OpenSource): Promise<DiskOpenResult> {
  return exclusive(async () => {
    await closeAll();
    const v = await openVhdSession(source);
    if (v) {
      if (ctx.signal.aborted) {
        await closeVhdSession(v);
        throw new VhdxError("CANCELLED", "Opening was cancelled", "open");
      }
      setVhdSession(v);
      return {
        format: "vhd",
        name: v.name,
        backend: "blob",
        readOnly: true,
        readOnlyReason: v.readOnlyReason,
        logAwaitsReplay: false,
        info: await vhdInfoOf(v.image),
        commitCost: null,
      };
    }
    return { format: "vhdx", ...(await openVhdx(ctx, source)) };
  });
}

async function open(ctx: CallContext, source: OpenSource): Promise<OpenResult> {
  return exclusive(async () => {
    await closeAll();
    return openVhdx(ctx, source);
  });
}

async function openVhdx(ctx: CallContext, source: OpenSource): Promise<OpenResult> {
  const s = await openSession(source, ctx.signal);
  setSession(s);
  return {
    name: s.name,
    backend: s.backendKind,
    readOnly: s.readOnly,
    readOnlyReason: s.readOnlyReason,
    logAwaitsReplay: s.logAwaitsReplay,
    info: s.image.info(),
    commitCost: s.backend instanceof WritableHandleBackend ? s.backend.commitCost() : null,
  };
}

async function info(): Promise<ImageInfo> {
  return current().image.info();
}

/** The file's layout; with a window, only that range, runs of blocks merged below its granularity. */
async function map(_ctx: CallContext, window?: MapWindow): Promise<FileMap> {
  return current().image.map(window);
}

/** Virtual disk bytes or raw file bytes, transferred to the caller (one copy, never two). */
async function read(
  _ctx: CallContext,
  space: "virtual" | "file",
  offset: number,
  length: number,
): Promise<Transfer<Uint8Array>> {
  if (length > MAX_READ) {
    throw new VhdxError(
      "INVALID_ARGUMENT",
      `Reads are limited to ${MAX_READ} bytes per call (asked ${length})`,
      "read",
      offset,
    );
  }
  if (space !== "virtual" && space !== "file") {
    throw new VhdxError("INVALID_ARGUMENT", `Unknown address space "${String(space)}"`, "read");
  }
  const v = getVhdSession();
  if (v) {
    const img = v.image;
    const bytes =
      space === "virtual"
        ? await img.read(offset, length)
        : await img.readFile(offset, Math.max(0, Math.min(length, img.fileSize - offset)));
    const copy = bytes.slice();
    return transfer(copy, [copy.buffer]);
  }
  const s = current();
  const readNow = (): Promise<Uint8Array> => {
    const img = s.image;
    return space === "virtual"
      ? img.read(offset, length)
      : img.readFile(offset, Math.max(0, Math.min(length, img.fileSize - offset)));
  };
  // While a writer exists, its gate keeps reads from seeing half a commit.
  const bytes = s.writer ? await s.writer.gate.read(readNow) : await readNow();
  // The engine may hand out a view of a buffer it keeps (a cache); the copy is what crosses.
  const out = bytes.slice();
  return transfer(out, [out.buffer]);
}

/** The BAT as its raw (lo, hi) little-endian word pairs, for canvas rendering of the block map. */
async function batWords(): Promise<Transfer<Uint32Array>> {
  const words = current().image.bat.words.slice();
  return transfer(words, [words.buffer]);
}

async function stats(): Promise<EngineStats> {
  const s = current();
  const b = s.backend;
  const staged = b instanceof WritableHandleBackend ? b.stagedBytes : 0;
  const cache = s.cache ? s.cache.stats() : null;
  return {
    io: b.stats.snapshot(),
    cache,
    memory: {
      batBytes: s.image.bat.words.byteLength,
      cacheBytes: cache ? cache.bytes : 0,
      stagedWriteBytes: staged,
      budgetBeyondBat: 8 * 1024 * 1024 + CHUNK_CACHE_BUDGET + OVERLAY_BUDGET,
    },
    commitCost: b instanceof WritableHandleBackend ? b.commitCost() : null,
  };
}

type ImportSource = { kind: "file"; file: File } | { kind: "handle"; handle: FileSystemFileHandle };

/**
 * Streams a user's file into an OPFS working copy, with progress; the quota is checked first. A
 * file already at `path` is kept (FILE_EXISTS) unless `replace`; with `unique` the copy takes the
 * first free name beside it instead ("disk (2).vhdx"). The open image, its parents and the
 * source itself are never written (FILE_IN_USE).
 */
async function importToOpfs(
  ctx: CallContext,
  source: ImportSource,
  path: string,
  opts: { replace?: boolean; unique?: boolean } = {},
): Promise<CopyResult & { path: string }> {
  return exclusive(async () => {
    const file = source.kind === "file" ? source.file : await source.handle.getFile();
    const norm = opts.unique ? await uniqueOpfsPath(path) : normalizeOpfsPath(path);
    const old = await existingOpfsFile(norm);
    if (old) await refuseInUse(old, norm, source.kind === "handle" ? [source] : []);
    const r = await importFile(file, norm, {
      signal: ctx.signal,
      replace: opts.replace,
      onProgress: (done, total) => ctx.progress(total ? done / total : 1, done),
    });
    return { ...r, path: norm };
  });
}

/** The open image's current bytes as a copy source; staged writes are flushed first. */
async function saveSource(s: Session): Promise<CopySource> {
  await s.backend.flush();
  return { kind: "io", io: s.backend, size: await s.backend.size() };
}

/** Saves the open image's bytes to a new file (a save-picker handle) or as a Blob to download. */
async function saveAs(ctx: CallContext, target: SaveTarget): Promise<SaveResult> {
  return exclusive(async () => {
    const s = current();
    if (target.kind === "handle") {
      await refuseInUse(target.handle, target.handle.name);
      const r = await copyToHandle(await saveSource(s), target.handle, {
        signal: ctx.signal,
        onProgress: (d, t) => ctx.progress(t ? d / t : 1, d),
      });
      return { ...r, kind: "handle" };
    }
    return { kind: "download", ...(await downloadBlob(s)) };
  });
}

/** A Blob of the image: the File itself where one exists (no copy), else built chunk by chunk. */
async function downloadBlob(s: Session): Promise<{ blob: Blob; name: string; bytes: number }> {
  const name = s.name.split("/").pop() ?? s.name;
  await s.backend.flush();
  if (s.source.kind === "file") return { blob: s.source.file, name, bytes: s.source.file.size };
  if (s.source.kind === "handle") {
    const f = await s.source.handle.getFile();
    return { blob: f, name, bytes: f.size };
  }
  try {
    const f = await (await opfsFile(s.source.path)).getFile();
    return { blob: f, name, bytes: f.size };
  } catch {
    // The sync access handle may keep getFile() from working; read through it instead.
    const size = await s.backend.size();
    const parts: Uint8Array<ArrayBuffer>[] = [];
    for (let at = 0; at < size; at += 8 * 1024 * 1024) {
      parts.push((await s.backend.read(at, Math.min(8 * 1024 * 1024, size - at))) as Uint8Array<ArrayBuffer>);
    }
    return { blob: new Blob(parts), name, bytes: size };
  }
}

async function opfsList(_ctx: CallContext, prefix?: string): Promise<OpfsEntry[]> {
  return listOpfs(prefix ?? "");
}

/** Removes an OPFS file; the open image and its parents are refused (FILE_IN_USE). */
async function opfsRemove(ctx: CallContext, path: string): Promise<void> {
  return storageRemove(ctx, path);
}

export interface Capabilities {
  /** Origin-private file system (working copies). */
  opfs: boolean;
  /** FileSystemSyncAccessHandle in this worker: in-place edits with real flushes. */
  syncAccessHandle: boolean;
  /** Web Locks: exclusive editing across tabs. */
  webLocks: boolean;
  /** createWritable() on file handles: saving to the user's files and "save back". */
  writableStreams: boolean;
}

/** What this browser's worker can do, so the UI offers only what works (Firefox, Safari differ). */
async function capabilities(): Promise<Capabilities> {
  const proto = typeof FileSystemFileHandle === "undefined" ? null : FileSystemFileHandle.prototype;
  return {
    opfs: typeof navigator.storage?.getDirectory === "function",
    syncAccessHandle: !!proto && "createSyncAccessHandle" in proto,
    webLocks: !!navigator.locks,
    writableStreams: !!proto && "createWritable" in proto,
  };
}

/** What the next commit on the open image costs (a writable copies the user's whole file); null elsewhere. */
async function commitCost(): Promise<CommitCost | null> {
  const b = current().backend;
  return b instanceof WritableHandleBackend ? b.commitCost() : null;
}

/** How the open image is open now: after a parent is attached (a mismatch forces read-only), a repair or a replay. */
async function access(): Promise<{ readOnly: boolean; readOnlyReason: string | null; logAwaitsReplay: boolean }> {
  const s = current();
  return { readOnly: s.readOnly, readOnlyReason: s.readOnlyReason, logAwaitsReplay: s.logAwaitsReplay };
}

/**
 * Why the open image cannot be edited now (read-only storage, or a differencing image without its
 * parent), as the error a commit would raise; null when edits can be committed.
 */
async function editRefusal(): Promise<{ code: string; message: string; structure: string } | null> {
  const r = refusalOf(current());
  return r ? { code: r.code, message: r.message, structure: r.structure } : null;
}

async function close(): Promise<void> {
  return exclusive(closeAll);
}

/** A method that changes the open image's bytes, or which image is open: the Files view's mounts are dropped after it. */
function changes<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return (...args: A) => fn(...args).finally(forgetFiles);
}

/**
 * The engine worker's methods. Add one with a line here and a function of the shape
 * `(ctx: CallContext, ...args) => Promise<result>`; the client's typings follow.
 */
export const methods = {
  open: changes(open),
  openDisk: changes(openDisk),
  info,
  map,
  read,
  batWords,
  stats,
  capabilities,
  commitCost,
  access,
  editRefusal,
  patchCost,
  commitPatch: changes(commitPatch),
  writeFileCost,
  writeFile: changes(writeFile),
  replay: changes(replay),
  log,
  check,
  repairPlan,
  repair: changes(repair),
  parentLocator,
  attachChain: changes(attachChain),
  chain,
  layers,
  partialBlocks,
  createNew,
  convertRaw,
  convertVhd,
  convertVhdKeepChain,
  vhdSourceInfo,
  vhdSourceParents,
  convertOpenToVhd,
  convertOpenToRaw,
  compact,
  mergeOpen: changes(mergeOpen),
  resizeCost,
  resizeOpen: changes(resizeOpen),
  attachedParent,
  importToOpfs,
  saveBack,
  rememberOrigin,
  workingCopyOrigin,
  saveAs,
  opfsList,
  opfsRemove,
  close: changes(close),
  partitionArea,
  fsVolumes,
  fsList,
  fsListWhole,
  fsLocate,
  fsOwner,
  fsLayerChanges,
  fsExtract,
  storageList,
  storageHandle,
  storageFile,
  storageRemove,
  outputCheck,
  copyThroughput,
  vhdInfo,
  vhdBat,
  vhdAttachParents: changes(vhdAttachParents),
  workingCopyPath: (_ctx: CallContext, name: string) => workingCopyPath(name),
  find,
  saveRange,
  report,
  replayedRanges,
  readOnDisk,
} satisfies MethodTable;

export type EngineMethods = typeof methods;

/** For methods added elsewhere (check, log): the open session, or a VhdxError. */
export { current as currentSession };
