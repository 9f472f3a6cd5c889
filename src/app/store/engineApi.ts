/**
 * What the store needs from the engine worker client, and the plain-JSON shapes it answers with.
 * The shapes mirror `vhdx info --json`, `vhdx map --json`, `vhdx log --json` and `vhdx check --json`;
 * the UI never parses VHDX structures itself, it only lays these answers out.
 */

import type { VhdInfo } from "../../vhd/info";
import type { Finding as EngineFinding, Severity } from "../../vhdx/check/findings";
import type {
  FileMap as EngineFileMap,
  ImageInfo as EngineImageInfo,
  MapExtent as EngineMapExtent,
  MapWindow as EngineMapWindow,
} from "../../vhdx/info";
import type { LogReport as EngineLogReport } from "../../vhdx/logReport";
import type { PatchCost } from "../../vhdx/patch";
import type { CommitCost as StorageCommitCost } from "../../worker/storage/writableHandleBackend";
import type { ExtentKind } from "../../vhdx/registry";

export type ByteSpace = "virtual" | "file";
export type { ExtentKind, PatchCost, Severity, StorageCommitCost };

/** `vhdx info --json`, plus how the worker opened the file. */
export type ImageInfo = EngineImageInfo & Access & { fileName?: string };
export type HeaderInfo = ImageInfo["headers"][number];
export type RegionInfo = ImageInfo["regions"][number];
export type RegionTableCopyInfo = ImageInfo["regionTables"][number];
export type MetadataItemInfo = ImageInfo["metadata"][number];
export type EngineWarning = ImageInfo["warnings"][number];

/** `vhdx map --json`. */
export type FileMap = EngineFileMap;
export type MapExtent = EngineMapExtent;
export type MapWindow = EngineMapWindow;
export type MapOverlap = FileMap["overlaps"][number];

/** `vhdx log --json`: every entry in the ring, the active sequence, the replay preview. */
export type LogReport = EngineLogReport;
export type LogEntryInfo = LogReport["entries"][number];
export type LogDescriptorInfo = LogEntryInfo["descriptors"][number];
export type ReplayChange = LogReport["preview"][number];

/** `vhdx check --json`. */
export type Finding = EngineFinding;

export interface CheckReport {
  ok: boolean;
  findings: Finding[];
}

/** One staged write: bytes to place at an offset of the virtual disk or of the file. */
export interface PatchWrite {
  space: ByteSpace;
  offset: number;
  data: Uint8Array;
}

/**
 * What a commit will cost, shown before the user agrees to it: the engine's estimate for the
 * virtual-disk edits (estimatePatch), the structure sectors the raw-file edits send through the
 * log (checkStructurePatch), and what the storage copies per commit (a writable's swap file).
 */
export interface CommitCost {
  /** null when no virtual-disk bytes are staged. */
  virtual: PatchCost | null;
  /** 4 KiB structure sectors the raw-file edits write through one log entry. */
  structureSectors: number;
  /** Why the patch cannot be committed as it stands; empty when it can. */
  problems: string[];
  /** null where commits land in place (OPFS working copies). */
  storage: StorageCommitCost | null;
}

export interface CommitResult {
  /** True when the whole commit went through one writable (swapped in atomically), or landed in place. */
  atomic: boolean;
  blocksAllocated: number;
  blocksCopied: number;
  bytesWritten: number;
  ms: number;
  /** What the engine did on its own to let the commit through (the log grown). */
  notices?: string[];
}

export interface Progress {
  phase: string;
  done: number;
  total: number;
}

export interface TaskOptions {
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
}

/** What can be opened: a File (input, drop, fetched sample) or a File System Access handle. */
export type OpenSource = File | FileSystemFileHandle;

/** How the worker opened the file. */
export interface Access {
  readOnly: boolean;
  /** Why the image is read-only, in words for the user; null when editable. */
  readOnlyReason: string | null;
  /** Read-only only because the log awaits replay: replaying makes the image editable. */
  logAwaitsReplay: boolean;
  /** A VHD (v1) disk was opened (read-only): `vhdx info --json` of it. */
  vhd?: VhdInfo | null;
}

export interface OpenOptions extends TaskOptions {
  /** Ask for write access (a handle whose readwrite permission was granted). */
  writable?: boolean;
}

/**
 * The engine client as the store uses it. Every call is async: the engine lives in a worker.
 * Optional methods are capabilities a build may lack; the UI says so instead of offering them.
 */
export interface EngineApi {
  open(source: OpenSource, opts?: OpenOptions): Promise<Access>;
  info(): Promise<EngineImageInfo>;
  /** The file's layout; with a window, that range only (the region view's visible cells). */
  map(window?: MapWindow): Promise<FileMap>;
  read(space: ByteSpace, offset: number, length: number): Promise<Uint8Array>;
  /** The BAT as raw little-endian entries: (lo, hi) u32 pairs. */
  batWords(): Promise<Uint32Array>;
  log?(): Promise<LogReport>;
  check?(opts?: TaskOptions): Promise<CheckReport>;
  replay?(opts?: TaskOptions): Promise<{ replayed: boolean }>;
  /** Why the open image cannot take edits now (e.g. a differencing image without its parent); null when it can. */
  editRefusal?(): Promise<string | null>;
  commitCost?(patch: PatchWrite[]): Promise<CommitCost>;
  commitPatch?(patch: PatchWrite[], opts?: TaskOptions): Promise<CommitResult>;
  /** Copies a File (no write access in browsers) into browser storage and opens the copy writable. */
  openWorkingCopy?(file: File, opts?: TaskOptions): Promise<Access>;
  /** Saves the open image to a file the user picks, or as a download; false when dismissed. */
  saveCopy?(suggestedName: string, opts?: TaskOptions): Promise<boolean>;
  close(): Promise<void>;
}
