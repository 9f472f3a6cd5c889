import { MiB } from "../bytes";
import { hex, VhdxError } from "../errors";
import { ZERO_GUID } from "../guid";
import { RandomAccess } from "../io";
import { HeaderUpdater } from "./headerUpdate";
import { OverlayBackend } from "./overlay";
import { LOG_SECTOR_SIZE } from "./entry";
import { LogScan } from "./search";
import { entryUpdates } from "./updates";
import { writeZeros } from "./zeros";

/** Data sectors a replay gathers into one write: 1 MiB. */
const RUN_SECTORS = 256;

export interface ReplayResult {
  /** Entries replayed. */
  entries: number;
  /** Descriptors replayed (data and zero). */
  descriptors: number;
  /** File size before and after. */
  sizeBefore: number;
  sizeAfter: number;
}

/** One file range a replay writes ("write"), or the growth of the file past its end ("grow"). */
export interface ReplayPreviewItem {
  kind: "write" | "grow";
  fileOffset: number;
  length: number;
  /** The first `shownLength` bytes of the range now. */
  before: Uint8Array;
  /** The same bytes after the replay. */
  after: Uint8Array;
  /** Bytes held in before/after: the whole range unless it exceeds the preview limit. */
  shownLength: number;
}

/**
 * §2.3.3: writes every descriptor of the active sequence, tail entry first, growing the file
 * where a descriptor lies past its end, then grows the file to the head's LastFileOffset and
 * flushes. Header updates are the caller's (see replayLogInPlace). Works on any RandomAccess,
 * including an OverlayBackend for a read-only view.
 */
export async function replayLog(io: RandomAccess, scan: LogScan): Promise<ReplayResult> {
  const sizeBefore = await io.size();
  const a = scan.active;
  if (!a) return { entries: 0, descriptors: 0, sizeBefore, sizeAfter: sizeBefore };
  // §2.3.3: a file smaller than the head's FlushedFileOffset was truncated; replay MUST NOT proceed.
  if (sizeBefore < a.flushedFileOffset) {
    throw new VhdxError(
      "LOG_FILE_TRUNCATED",
      `the file is ${hex(sizeBefore)} bytes but the log's head entry (sequence ${a.headSequenceNumber}) recorded a stable size of ${hex(a.flushedFileOffset)}: the file was truncated`,
      "log entry",
      scan.logOffset + a.head,
    );
  }
  const ring = scan.ring;
  if (!ring) throw new Error("replayLog: the scan holds an active sequence but no ring");
  let descriptors = 0;
  // Data sectors that follow one another in the file go out as one write (at most RUN_SECTORS at a
  // time, so memory stays bounded); the order of writes is kept.
  let runStart = -1;
  let run: Uint8Array[] = [];
  const flushRun = async (): Promise<void> => {
    if (run.length === 0) return;
    const buf = new Uint8Array(run.length * LOG_SECTOR_SIZE);
    run.forEach((d, i) => buf.set(d, i * LOG_SECTOR_SIZE));
    await io.write(runStart, buf);
    run = [];
  };
  for (let i = 0; i < a.positions.length; i++) {
    const seq = a.tailSequenceNumber + BigInt(i);
    for await (const u of entryUpdates(ring, a.positions[i], seq, scan.logOffset)) {
      if (u.kind === "data") {
        if (run.length > 0 && (u.fileOffset !== runStart + run.length * LOG_SECTOR_SIZE || run.length >= RUN_SECTORS))
          await flushRun();
        if (run.length === 0) runStart = u.fileOffset;
        run.push(u.data);
      } else {
        await flushRun();
        await writeZeros(io, u.fileOffset, u.length);
      }
      descriptors++;
    }
  }
  await flushRun();
  // §2.3.3: afterwards the file is at least LastFileOffset long, so every structure lies inside it.
  if ((await io.size()) < a.lastFileOffset) await io.truncate(a.lastFileOffset);
  await io.flush();
  return { entries: a.entryCount, descriptors, sizeBefore, sizeAfter: await io.size() };
}

/**
 * The whole in-place recovery for a writable open: a header update with a fresh FileWriteGuid
 * before anything else is modified (§2.2.2 FileWriteGuid, "including log playback"), the replay,
 * then LogGuid set to zero so the log is empty (§2.2.2 LogGuid). A log whose LogGuid is set but
 * that holds no valid sequence is only marked empty.
 */
export async function replayLogInPlace(updater: HeaderUpdater, scan: LogScan): Promise<ReplayResult> {
  const size = await updater.io.size();
  if (!scan.active && !scan.warning) return { entries: 0, descriptors: 0, sizeBefore: size, sizeAfter: size };
  // Refuse a truncated file before any write.
  if (scan.active && size < scan.active.flushedFileOffset) return replayLog(updater.io, scan);
  // One pass suffices here: the update marking the log empty follows and writes both slots.
  await updater.beginFileWrite({ onePass: true });
  const result = await replayLog(updater.io, scan);
  await updater.update({ logGuid: ZERO_GUID });
  return result;
}

/**
 * What a replay would change, without writing: the sector runs that differ afterwards, with
 * their bytes before and after (at most `maxShown` bytes of each). Runs are coalesced, so a
 * sector written by several entries shows once with its final content.
 */
export async function replayPreview(io: RandomAccess, scan: LogScan, maxShown = MiB): Promise<ReplayPreviewItem[]> {
  if (!scan.active) return [];
  const overlay = await OverlayBackend.over(io);
  await replayLog(overlay, scan);
  return previewOfOverlay(overlay, maxShown);
}

/** The same listing for an overlay that already holds the replay (a read-only open made one). */
export async function previewOfOverlay(overlay: OverlayBackend, maxShown = MiB): Promise<ReplayPreviewItem[]> {
  const io = overlay.base;
  const items: ReplayPreviewItem[] = [];
  for (const r of overlay.changedRanges()) {
    const shownLength = Math.min(r.length, maxShown);
    items.push({
      kind: "write",
      fileOffset: r.start,
      length: r.length,
      before: await io.read(r.start, shownLength),
      after: await overlay.read(r.start, shownLength),
      shownLength,
    });
  }
  const [baseSize, newSize] = [await io.size(), await overlay.size()];
  if (newSize > baseSize) {
    // Bytes past the old end that were not written read as zeros; only the range is listed.
    items.push({
      kind: "grow",
      fileOffset: baseSize,
      length: newSize - baseSize,
      before: new Uint8Array(0),
      after: new Uint8Array(0),
      shownLength: 0,
    });
  }
  return items;
}
