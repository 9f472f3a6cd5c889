import { hex, VhdxError } from "../errors";
import { isZeroGuid } from "../guid";
import { Header, HEADER_OFFSETS } from "../header";
import { LogScan, OverlayBackend, replayLog, scanLog } from "../log";
import { CheckContext } from "./findings";

export interface LogState {
  /** LogGuid is set and the log holds an active sequence that must be replayed. */
  needsReplay: boolean;
  /** LogGuid is set but no valid sequence exists: the log only needs marking empty. */
  guidWithoutSequence: boolean;
  /** The active sequence cannot be replayed because the file is shorter than it recorded. */
  truncated: boolean;
}

/**
 * §2.2.2 LogGuid, §2.3: whether the log must be replayed, and whether it can be. When it can,
 * the rest of the check runs on the file as the replay leaves it, replayed in memory only.
 */
export async function checkLog(ctx: CheckContext, header: Header, currentIndex: 0 | 1): Promise<LogState> {
  const state: LogState = { needsReplay: false, guidWithoutSequence: false, truncated: false };
  const headerAt = HEADER_OFFSETS[currentIndex];
  if (header.logLength > 0 && header.logOffset + header.logLength > ctx.fileSize) {
    ctx.add(
      "error",
      "LOG_BEYOND_EOF",
      `the log [${hex(header.logOffset)}, ${hex(header.logOffset + header.logLength)}) runs past the end of the file (${hex(ctx.fileSize)})`,
      "log",
      header.logOffset,
      header.logLength,
    );
  }
  if (isZeroGuid(header.logGuid)) return state;
  if (header.logLength === 0) {
    ctx.add(
      "error",
      "LOG_INVALID",
      `LogGuid is ${header.logGuid} but the log has length 0`,
      `header ${currentIndex + 1}`,
      headerAt + 48,
      16,
    );
    return state;
  }
  let scan: LogScan;
  try {
    scan = await scanLog(ctx.io, header, { listEntries: false });
  } catch (e) {
    if (!(e instanceof VhdxError)) throw e;
    ctx.add("error", "LOG_INVALID", e.message, e.structure, e.offset ?? header.logOffset, header.logLength);
    return state;
  }
  const a = scan.active;
  if (!a) {
    state.guidWithoutSequence = true;
    ctx.add(
      "warning",
      "LOG_NO_VALID_SEQUENCE",
      scan.warning ?? `LogGuid ${header.logGuid} is set but the log holds no valid sequence`,
      "log",
      header.logOffset,
      header.logLength,
    );
    return state;
  }
  state.needsReplay = true;
  const headAt = header.logOffset + a.head;
  if (ctx.fileSize < a.flushedFileOffset) {
    state.truncated = true;
    ctx.add(
      "error",
      "LOG_FILE_TRUNCATED",
      `the file is ${hex(ctx.fileSize)} bytes but the log's head entry (sequence ${a.headSequenceNumber}) recorded a stable size of ${hex(a.flushedFileOffset)}: the file was truncated and the log must not be replayed (§2.3.3)`,
      "log entry",
      headAt,
      4096,
    );
    return state;
  }
  ctx.add(
    "error",
    "LOG_NEEDS_REPLAY",
    `the log holds ${a.entryCount} entr${a.entryCount === 1 ? "y" : "ies"} (head sequence ${a.headSequenceNumber}) that must be replayed before the file is used (§2.3.3); the rest of this check sees the file as replayed`,
    "log",
    header.logOffset,
    header.logLength,
  );
  const overlay = await OverlayBackend.over(ctx.io);
  try {
    await replayLog(overlay, scan);
  } catch (e) {
    if (!(e instanceof VhdxError)) throw e;
    ctx.add(
      "error",
      "LOG_INVALID",
      `the log cannot be replayed: ${e.message}`,
      e.structure,
      e.offset ?? header.logOffset,
      0,
    );
    return state;
  }
  overlay.freeze();
  // Growth to LastFileOffset reads as zeros: only the base file and the replayed sectors hold data.
  const written = overlay.changedRanges().reduce((m, r) => Math.max(m, r.start + r.length), 0);
  ctx.useReplayed(overlay, await overlay.size(), Math.max(Math.min(ctx.fileSize, await overlay.size()), written));
  return state;
}
