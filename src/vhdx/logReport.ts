import { isZeroGuid } from "./guid";
import type { VhdxImage } from "./image";
import { LogScan, OverlayBackend, previewOfOverlay, replayPreview, scanLog } from "./log";

/** One log entry as the CLI and the editor show it. */
export interface LogEntrySummary {
  position: number;
  fileOffset: number;
  sequenceNumber: string;
  tail: number;
  entryLength: number;
  descriptorCount: number;
  logGuidMatch: boolean;
  checksumOk: boolean;
  flushedFileOffset: number;
  lastFileOffset: number;
  valid: boolean;
  /**
   * Left by an earlier session: intact (checksum and every other rule hold) but written under
   * another LogGuid, which §2.3.1.1 says must not be taken as valid. Not damage.
   */
  stale: boolean;
  reason: string | null;
  active: boolean;
  descriptors: {
    index: number;
    type: string;
    fileOffset: number | null;
    length: number;
    structure: string | null;
    leadingBytes: Uint8Array | null;
    trailingBytes: Uint8Array | null;
  }[];
}

export interface ReplayPreviewSummary {
  kind: "write" | "grow";
  fileOffset: number;
  length: number;
  /** The structure the range lands in, from the overlap registry. */
  structure: string;
  before: Uint8Array;
  after: Uint8Array;
}

/** The JSON of `vhdx log --json`, and the editor's Log view. */
export interface LogReport {
  logGuid: string;
  logOffset: number;
  logLength: number;
  empty: boolean;
  needsReplay: boolean;
  warning: string | null;
  entries: LogEntrySummary[];
  /** Entries found past the listing limit (MAX_LISTED_ENTRIES): counted, not listed. */
  entriesNotListed: number;
  active: {
    tail: number;
    head: number;
    headSequenceNumber: string;
    entryCount: number;
    flushedFileOffset: number;
    lastFileOffset: number;
  } | null;
  preview: ReplayPreviewSummary[];
}

/**
 * Scans the file's log (as it is on disk, before any in-memory replay) and describes every entry,
 * the active sequence and what a replay would write, naming the structure each write lands in.
 */
export async function logReport(img: VhdxImage, opts: { previewBytes?: number } = {}): Promise<LogReport> {
  const header = img.header;
  const scan: LogScan = img.logScan?.listed ? img.logScan : await scanLog(img.file, header);
  const activePositions = new Set(scan.active?.entries.map((e) => e.position) ?? []);
  const where = (offset: number | null): string | null =>
    offset === null ? null : (img.registry.find(offset)?.name ?? "unallocated space");
  const shown = opts.previewBytes ?? 4096;
  // A read-only open of a dirty image already replayed the log into memory: list that, not a second replay.
  const preview =
    img.logNeedsReplay && img.io instanceof OverlayBackend
      ? await previewOfOverlay(img.io, shown)
      : await replayPreview(img.file, scan, shown);
  return {
    logGuid: header.logGuid,
    logOffset: header.logOffset,
    logLength: header.logLength,
    empty: isZeroGuid(header.logGuid),
    needsReplay: scan.needsReplay,
    warning: scan.warning,
    entriesNotListed: scan.entriesNotListed,
    entries: scan.entries.map((e) => ({
      position: e.position,
      fileOffset: header.logOffset + e.position,
      sequenceNumber: e.sequenceNumber.toString(),
      tail: e.tail,
      entryLength: e.entryLength,
      descriptorCount: e.descriptorCount,
      logGuidMatch: e.logGuidMatch,
      checksumOk: e.checksumOk,
      flushedFileOffset: e.flushedFileOffset,
      lastFileOffset: e.lastFileOffset,
      valid: e.valid,
      // The LogGuid mismatch is then the entry's one and only problem.
      stale: !e.logGuidMatch && e.checksumOk && e.problems.length === 1,
      reason: e.reason,
      active: activePositions.has(e.position),
      descriptors: e.descriptors.map((d) => ({
        index: d.index,
        type: d.type,
        fileOffset: d.fileOffset,
        length: d.length,
        structure: where(d.fileOffset),
        leadingBytes: d.leadingBytes ?? null,
        trailingBytes: d.trailingBytes ?? null,
      })),
    })),
    active: scan.active
      ? {
          tail: scan.active.tail,
          head: scan.active.head,
          headSequenceNumber: scan.active.headSequenceNumber.toString(),
          entryCount: scan.active.entryCount,
          flushedFileOffset: scan.active.flushedFileOffset,
          lastFileOffset: scan.active.lastFileOffset,
        }
      : null,
    preview: preview.map((p) => ({
      kind: p.kind,
      fileOffset: p.fileOffset,
      length: p.length,
      structure: p.kind === "grow" ? "file growth" : (where(p.fileOffset) ?? "unallocated space"),
      before: p.before,
      after: p.after,
    })),
  };
}
