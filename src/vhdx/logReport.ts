import { isZeroGuid } from "./guid";
import type { VhdxImage } from "./image";
import { HeaderUpdater, LogScan, OverlayBackend, previewOfOverlay, replayLog, scanLog } from "./log";
import { ZERO_GUID } from "./guid";
import type { RandomAccess } from "./io";
import { decodeReplayChanges, described, type DescribedChange, type ReplayChanges } from "./replayChanges";

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
  /** The preview decoded: BAT entries, header, region table and metadata fields that change. */
  changes: ReplayChanges;
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
  const layout = {
    batOffset: img.batRegion.fileOffset,
    batLength: img.batRegion.length,
    metadataOffset: img.metadataRegion.fileOffset,
    metadataLength: img.metadataRegion.length,
    blockSize: img.blockSize,
    logicalSectorSize: img.params.logicalSectorSize,
    virtualDiskSize: img.virtualSize,
    hasParent: img.params.fileParameters.hasParent,
    structureAt: (o: number) => where(o) ?? "unallocated space",
  };
  // No active sequence: a replay writes no sector, so there is nothing to preview or decode.
  let preview: Awaited<ReturnType<typeof previewOfOverlay>> = [];
  let changes: ReplayChanges = { changes: [], batChangesNotListed: 0 };
  let replayed: RandomAccess = img.file;
  if (scan.active) {
    // A read-only open of a dirty image already replayed the log into memory: list that, not a second replay.
    let overlay: OverlayBackend;
    if (img.logNeedsReplay && img.io instanceof OverlayBackend) overlay = img.io;
    else {
      overlay = await OverlayBackend.over(img.file);
      await replayLog(overlay, scan);
    }
    preview = await previewOfOverlay(overlay, shown);
    changes = await decodeReplayChanges(img.file, overlay, overlay.changedRanges(), layout);
    replayed = overlay;
  }
  // replayLogInPlace updates the headers when there is a sequence to replay or a LogGuid to clear.
  if (!isZeroGuid(header.logGuid) && (scan.active || scan.warning))
    changes.changes.unshift(...(await headerChanges(img, replayed, layout)));
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
    changes,
  };
}

/**
 * The header updates an in-place replay makes around the replay (replayLogInPlace): a fresh
 * FileWriteGuid before the first write, then LogGuid set to zero, each update a new
 * SequenceNumber in the other slot (§2.2.2.1). Run over an overlay; new GUIDs are random, so
 * the preview says so rather than show one that will not be used.
 */
async function headerChanges(
  img: VhdxImage,
  replayed: RandomAccess,
  layout: Parameters<typeof decodeReplayChanges>[3],
): Promise<DescribedChange[]> {
  const over = await OverlayBackend.over(replayed);
  let updater: HeaderUpdater;
  try {
    updater = await HeaderUpdater.load(over);
  } catch {
    return []; // no valid header: the open already refused or reported it
  }
  await updater.beginFileWrite({ onePass: true });
  await updater.update({ logGuid: ZERO_GUID });
  const r = await decodeReplayChanges(img.file, over, over.changedRanges(), layout);
  return r.changes
    .filter((c) => c.kind === "header" && c.field !== "Checksum")
    .map((c) =>
      c.kind === "header" && c.field === "FileWriteGuid" ? described({ ...c, after: "a new random GUID" }) : c,
    );
}
