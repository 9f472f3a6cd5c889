/**
 * What the store needs from the engine worker client, and the plain-JSON shapes it answers with.
 * The shapes mirror `vhdx info --json`, `vhdx map --json`, `vhdx log --json` and `vhdx check --json`;
 * the UI never parses VHDX structures itself, it only lays these answers out.
 */

export type DiskType = "fixed" | "dynamic" | "differencing";
export type ByteSpace = "virtual" | "file";

export interface HeaderInfo {
  valid: boolean;
  current: boolean;
  /** File offset of this header slot (64 KiB or 128 KiB). */
  fileOffset?: number;
  signature?: string;
  checksum?: number;
  computedChecksum?: number;
  /** u64 as decimal text when it does not fit a double; a number otherwise. */
  sequenceNumber: number | string;
  fileWriteGuid: string;
  dataWriteGuid: string;
  logGuid: string;
  logOffset: number;
  logLength: number;
  version: number;
  logVersion: number;
  /** Why the slot is not valid, one line each. */
  problems?: string[];
}

export interface RegionInfo {
  guid: string;
  name: string;
  fileOffset: number;
  length: number;
  required: boolean | number;
}

/** One region table copy (§2.2.3): its entries, or why it could not be read. */
export interface RegionTableCopyInfo {
  index: 0 | 1;
  fileOffset: number;
  valid: boolean;
  checksum?: number;
  computedChecksum?: number;
  entries: RegionInfo[];
  error?: string;
}

export interface MetadataItemInfo {
  guid: string;
  name: string;
  offset: number;
  length: number;
  isUser: boolean;
  isVirtualDisk: boolean;
  isRequired: boolean;
  /** The decoded value as text (sizes, GUIDs, flags), when the item is known. */
  value?: string;
}

export interface EngineWarning {
  code: string;
  message: string;
  structure: string;
  offset?: number;
}

export interface ImageInfo {
  fileName?: string;
  fileSize: number;
  readOnly: boolean;
  diskType: DiskType;
  virtualSize: number;
  blockSize: number;
  logicalSectorSize: number;
  physicalSectorSize: number;
  virtualDiskId: string;
  hasParent: boolean;
  leaveBlockAllocated?: boolean;
  chunkRatio?: number;
  creator: string;
  fileIdentifierSignature?: string;
  headers: HeaderInfo[];
  regions: RegionInfo[];
  regionTables?: RegionTableCopyInfo[];
  metadata: MetadataItemInfo[];
  parentLocator?: { locatorType: string; entries: { key: string; value: string }[] } | null;
  bat: {
    entries: number;
    payload: Record<string, number>;
    sectorBitmap: Record<string, number>;
    fileOffset?: number;
  };
  log: { needsReplay: boolean };
  warnings?: EngineWarning[];
}

export type ExtentKind =
  | "header-section"
  | "region-table"
  | "log"
  | "bat"
  | "metadata"
  | "region"
  | "payload-block"
  | "sector-bitmap-block";

export interface MapExtent {
  start: number;
  length: number;
  kind: ExtentKind;
  name: string;
  index?: number;
}

export interface MapOverlap {
  a: MapExtent;
  b: MapExtent;
}

export interface FileMap {
  fileSize: number;
  extents: MapExtent[];
  gaps: { start: number; length: number }[];
  overlaps: MapOverlap[];
}

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

export type Severity = "error" | "warning" | "info";

export interface Finding {
  severity: Severity;
  code: string;
  message: string;
  structure: string;
  offset?: number;
  length?: number;
}

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
