import { alignUp, MiB } from "./bytes";
import { hex, VhdxError } from "./errors";
import { isZeroGuid } from "./guid";
import { logEntryBytes, requireLogRoom } from "./patch";
import { reloadStructures } from "./structurePatch";
import type { VhdxWriter } from "./write";

/** §2.2.2 LogLength is a u32 multiple of 1 MiB: 4095 MiB is the largest log a header can name. */
export const MAX_LOG_LENGTH = 4095 * MiB;

export interface LogResizeResult {
  from: { offset: number; length: number };
  to: { offset: number; length: number };
  /** True when the log left its old place (its old region is free space now). */
  moved: boolean;
}

/**
 * Gives the log `length` bytes (§2.2.2 LogOffset/LogLength: multiples of 1 MiB; the region table
 * does not list the log, only the header does). The log is empty between commits, so the new place
 * goes in through the header update protocol (§2.2.2.1) alone:
 *
 * 1. every entry of the session is applied and LogGuid is set to zero (markLogEmpty);
 * 2. the place: the log's own offset when it shrinks or the space right after it is free, else the
 *    first free 1 MiB-aligned gap that holds it, else the end of the file;
 * 3. the file grows to hold it, and that size is flushed;
 * 4. the header update names the new region: written to the non-current slot and flushed, then to
 *    the other one. Until the first of those flushes the image is the old one; after it, the new one.
 *
 * Nothing in the new region needs clearing: the log is empty (LogGuid zero), and the next writer
 * takes a fresh LogGuid, under which no stale bytes there form a valid entry (§2.3.1.1).
 */
export async function resizeLog(writer: VhdxWriter, length: number): Promise<LogResizeResult> {
  if (!Number.isSafeInteger(length) || length < MiB || length % MiB !== 0 || length > MAX_LOG_LENGTH) {
    throw new VhdxError(
      "INVALID_ARGUMENT",
      `a log size must be a multiple of 1 MiB from 1 MiB to 4095 MiB, not ${length} bytes`,
      "log",
    );
  }
  return writer.mutex.run(() => resizeNow(writer, length));
}

/**
 * Grows the log in the middle of a staged commit (a streamed write from a pipe whose switch has
 * outgrown the log): as resizeLog, under the mutex the caller already holds, with the new log
 * placed past every block staged so far (they are in no structure yet, only handed out by the
 * allocator), and those blocks kept taken across the re-read of the file's structures. The grown
 * log is said through the writer's `notice`.
 */
export async function growLogWhileStaging(writer: VhdxWriter, sectors: number, what: string): Promise<void> {
  const have = writer.image.header.logLength;
  const need = logEntryBytes(sectors);
  if (need <= have) return;
  // Doubling keeps a long stream to a few header updates.
  const length = Math.min(MAX_LOG_LENGTH, Math.max(alignUp(need, MiB), 2 * have));
  if (need > length) requireLogRoom(writer.image, sectors, what);
  const staged = writer.allocator.pendingRanges();
  const place = writer.allocator.allocateAtEnd(length);
  let r: LogResizeResult;
  try {
    r = await resizeNow(writer, length, place.start);
  } finally {
    // The log is a structure of the re-read registry now (or was not moved): it is no longer pending.
    writer.allocator.keepPending(staged);
  }
  writer.notice?.(
    `the log was grown from ${r.from.length / MiB} MiB to ${r.to.length / MiB} MiB` +
      `${r.moved ? ` (moved to ${hex(r.to.offset)})` : ""} so that ${what} fits one log entry`,
  );
}

async function resizeNow(writer: VhdxWriter, length: number, at?: number): Promise<LogResizeResult> {
  const img = writer.image;
  await writer.log.markLogEmpty();
  const h = writer.updater.current;
  const from = { offset: h.logOffset, length: h.logLength };
  if (!isZeroGuid(h.logGuid)) {
    throw new VhdxError(
      "LOG_NEEDS_REPLAY",
      "the log holds an entry that was not applied; reopen the image to replay it before resizing the log",
      "log",
      h.logOffset,
    );
  }
  if (length === h.logLength) return { from, to: from, moved: false };
  const offset = at ?? placeFor(writer, from, length);
  // §2.2.2.1: the session's first header update (a fresh FileWriteGuid) before any other write.
  await writer.beginFileWrite();
  const end = offset + length;
  if ((await img.file.size()) < end) {
    await img.file.truncate(end);
    await img.file.flush();
  }
  await writer.updater.update({ logOffset: offset, logLength: length });
  writer.syncHeader();
  await reloadStructures(writer);
  return { from, to: { offset, length }, moved: offset !== from.offset };
}

/** Where a log of `length` bytes goes: see resizeLog step 2. */
function placeFor(writer: VhdxWriter, from: { offset: number; length: number }, length: number): number {
  const img = writer.image;
  if (length <= from.length && from.offset >= MiB) return from.offset;
  const fileEnd = alignUp(Math.max(img.fileSize, img.registry.end()), MiB);
  // Gaps up to past the end of the file, so space after the last structure counts as free.
  const gaps = img.registry.freeGaps(fileEnd + length, MiB);
  const tail = from.offset + from.length;
  if (from.length > 0 && gaps.some((g) => g.start === tail && g.length >= length - from.length)) return from.offset;
  const gap = gaps.find((g) => g.start >= MiB && g.length >= length);
  if (!gap) throw new VhdxError("INVALID_ARGUMENT", `no room for a ${hex(length)}-byte log`, "log", fileEnd);
  return gap.start;
}

/**
 * A commit that must switch `sectors` metadata sectors in one log entry: when the log is too
 * small, the log is grown (resizeLog) to the next whole MiB that holds the entry, and the writer's
 * `notice` says so. Only an entry larger than the largest log (4095 MiB) is refused (LOG_FULL).
 */
export async function ensureLogRoom(writer: VhdxWriter, sectors: number, what: string): Promise<void> {
  const need = logEntryBytes(sectors);
  const have = writer.image.header.logLength;
  if (need <= have) return;
  const length = alignUp(need, MiB);
  if (length > MAX_LOG_LENGTH) requireLogRoom(writer.image, sectors, what);
  const r = await resizeLog(writer, length);
  writer.notice?.(
    `the log was grown from ${r.from.length / MiB} MiB to ${r.to.length / MiB} MiB` +
      `${r.moved ? ` (moved to ${hex(r.to.offset)})` : ""} so that ${what} fits one log entry`,
  );
}
