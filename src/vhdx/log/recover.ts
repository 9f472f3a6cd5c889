import { VhdxError } from "../errors";
import { Header } from "../header";
import { RandomAccess } from "../io";
import { HeaderUpdater } from "./headerUpdate";
import { OverlayBackend } from "./overlay";
import { replayLog, replayLogInPlace, ReplayResult } from "./replay";
import { LogScan, scanLog } from "./search";

export type ReplayMode = "overlay" | "in-place" | "refuse";

/** The log's state at open, and the backend every later read must go through. */
export interface LogRecovery {
  /** `file` itself, or a frozen OverlayBackend over it holding the replayed state. */
  io: RandomAccess;
  scan: LogScan;
  /** What was done: nothing to replay, replayed in memory, or replayed into the file. */
  replayed: "none" | "overlay" | "in-place";
  result: ReplayResult | null;
  /** LogGuid set but no valid sequence: the log was treated as empty (see LogScan.warning). */
  warning: string | null;
}

/**
 * §2.3.3 at open: the log is replayed before any I/O other than reading the headers and the log.
 * "overlay" replays in memory and never writes the file (§2.3.3 note <5>); "in-place" needs a
 * HeaderUpdater on the writable file and performs the full recovery (fresh FileWriteGuid, replay,
 * LogGuid zero); "refuse" throws LOG_NEEDS_REPLAY when there is something to replay.
 * A file shorter than the head entry's FlushedFileOffset throws LOG_FILE_TRUNCATED in every mode.
 */
export async function recoverLog(
  file: RandomAccess,
  header: Header,
  mode: ReplayMode,
  updater?: HeaderUpdater,
): Promise<LogRecovery> {
  // Nothing is listed at open: a clean log is not read at all, a dirty one only searched (§2.3.3).
  const scan = await scanLog(file, header, { listEntries: false });
  const base = { scan, warning: scan.warning, result: null };
  if (mode === "in-place" && (scan.needsReplay || scan.warning)) {
    if (!updater) throw new Error("recoverLog: in-place replay needs the file's HeaderUpdater");
    return {
      ...base,
      io: file,
      replayed: scan.needsReplay ? "in-place" : "none",
      result: await replayLogInPlace(updater, scan),
    };
  }
  if (!scan.needsReplay) return { ...base, io: file, replayed: "none" };
  if (mode === "refuse") {
    throw new VhdxError(
      "LOG_NEEDS_REPLAY",
      `the log holds ${scan.active!.entryCount} entries (head sequence ${scan.active!.headSequenceNumber}) that must be replayed before the image can be read`,
      "log",
      header.logOffset,
    );
  }
  const overlay = await OverlayBackend.over(file);
  const result = await replayLog(overlay, scan);
  overlay.freeze();
  return { ...base, io: overlay, replayed: "overlay", result };
}
