/**
 * What the store needs from the engine worker client, and the plain-JSON shapes it answers with.
 * The shapes mirror `vhdx info --json`, `vhdx map --json`, `vhdx log --json` and `vhdx check --json`;
 * the UI never parses VHDX structures itself, it only lays these answers out.
 */

import type { Finding as EngineFinding, Severity } from "../../vhdx/check/findings";
import type { FileMap as EngineFileMap, ImageInfo as EngineImageInfo, MapExtent as EngineMapExtent } from "../../vhdx/info";
import type { ExtentKind } from "../../vhdx/registry";

export type ByteSpace = "virtual" | "file";
export type { ExtentKind, Severity };

/** `vhdx info --json`, plus how the worker opened the file. */
export type ImageInfo = EngineImageInfo & {
  fileName?: string;
  readOnly: boolean;
  /** Why the image is read-only, in words for the user; null when editable. */
  readOnlyReason?: string | null;
};
export type HeaderInfo = ImageInfo["headers"][number];
export type RegionInfo = ImageInfo["regions"][number];
export type RegionTableCopyInfo = ImageInfo["regionTables"][number];
export type MetadataItemInfo = ImageInfo["metadata"][number];
export type EngineWarning = ImageInfo["warnings"][number];

/** `vhdx map --json`. */
export type FileMap = EngineFileMap;
export type MapExtent = EngineMapExtent;
export type MapOverlap = FileMap["overlaps"][number];

export interface LogDescriptorInfo {
  type: "data" | "zero";
  fileOffset: number;
  length: number;
  sequenceNumber: number | string;
  /** Which structure the target lands in, as the region registry names it. */
  target?: string;
  leadingBytes?: string;
  trailingBytes?: string;
}

export interface LogEntryInfo {
  /** Offset inside the log ring. */
  position: number;
  sequenceNumber: number | string;
  tail: number;
  entryLength: number;
  descriptorCount: number;
  logGuidMatches: boolean;
  checksum: number;
  checksumValid: boolean;
  flushedFileOffset: number;
  lastFileOffset: number;
  valid: boolean;
  /** Why the entry is not valid (stale, torn, checksum …). */
  reason?: string;
  inActiveSequence: boolean;
  descriptors: LogDescriptorInfo[];
}

export interface ReplayChange {
  fileOffset: number;
  length: number;
  structure: string;
  /** Hex text of the bytes before and after, shortened by the engine when long. */
  before: string;
  after: string;
}

export interface LogReport {
  logOffset: number;
  logLength: number;
  logGuid: string;
  needsReplay: boolean;
  /** Ring positions of the active sequence, when there is one. */
  active: { tail: number; head: number; firstSequence: number | string; lastSequence: number | string } | null;
  entries: LogEntryInfo[];
  replayPreview: ReplayChange[];
  warnings?: string[];
}

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

/** What a commit will cost, shown before the user agrees to it. */
export interface CommitCost {
  bytesStaged: number;
  sectorsTouched: number;
  blocksAllocated: number;
  logEntries: number;
  /** Bytes the backend copies (a writable's swap file copies the whole file). */
  bytesCopied: number;
  notes: string[];
}

export interface CommitResult {
  blocksAllocated: number;
  logSequenceNumber?: number | string;
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

export interface OpenOptions extends TaskOptions {
  readOnly?: boolean;
}

/** The engine client as the store uses it. Every call is async: the engine lives in a worker. */
export interface EngineApi {
  open(source: OpenSource, opts?: OpenOptions): Promise<void>;
  info(): Promise<ImageInfo>;
  map(): Promise<FileMap>;
  read(space: ByteSpace, offset: number, length: number): Promise<Uint8Array>;
  /** The BAT as raw little-endian entries: (lo, hi) u32 pairs. */
  batWords(): Promise<Uint32Array>;
  log(): Promise<LogReport>;
  check(opts?: TaskOptions): Promise<CheckReport>;
  replay(opts?: TaskOptions): Promise<void>;
  commitCost(patch: PatchWrite[]): Promise<CommitCost>;
  commitPatch(patch: PatchWrite[], opts?: TaskOptions): Promise<CommitResult>;
  close(): Promise<void>;
}
