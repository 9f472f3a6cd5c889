import { openImage } from "../vhdx/image";
import { logReport } from "../vhdx/logReport";
import { isZeroGuid } from "../vhdx/guid";
import { HeaderUpdater, replayLogInPlace, scanLog } from "../vhdx/log";
import { NodeFileBackend } from "../node/fileBackend";
import { resizeLog } from "../vhdx/logResize";
import { VhdxWriter } from "../vhdx/write";
import { flagString, oneImage, ParsedArgs, parseSize } from "./args";
import { Io, openForViewing } from "./commands";
import { formatSize, hexOffset, table, toJson } from "./format";

/** `vhdx log`: every entry in the ring, the active sequence, and what a replay would write. */
export async function logCommand(a: ParsedArgs, io: Io): Promise<number> {
  if (a.flags.has("resize")) return resizeCommand(a, io);
  const img = await openForViewing(oneImage(a, "log"));
  try {
    const r = await logReport(img, { previewBytes: a.flags.has("json") ? 4096 : 16 });
    if (a.flags.has("json")) {
      io.out(toJson(r) + "\n");
      return 0;
    }
    io.out(
      `log: ${formatSize(r.logLength)} at ${hexOffset(r.logOffset)}, LogGuid ${r.logGuid}${r.empty ? " (empty)" : ""}\n`,
    );
    if (r.warning) io.out(`warning: ${r.warning}\n`);
    if (r.entries.length === 0) io.out("no log entries in the ring\n");
    if (r.entriesNotListed > 0) io.out(`${r.entriesNotListed} more entries found, not listed\n`);
    else {
      const rows = [["position", "sequence", "tail", "length", "descs", "guid", "crc", "flushed", "last", "status"]];
      for (const e of r.entries) {
        rows.push([
          hexOffset(e.position),
          e.sequenceNumber,
          hexOffset(e.tail),
          formatSize(e.entryLength),
          String(e.descriptorCount),
          e.logGuidMatch ? "match" : "other",
          e.checksumOk ? "ok" : "bad",
          hexOffset(e.flushedFileOffset),
          hexOffset(e.lastFileOffset),
          e.active
            ? "ACTIVE"
            : e.valid
              ? "valid, not active"
              : e.stale
                ? "stale (earlier LogGuid)"
                : `invalid: ${e.reason}`,
        ]);
      }
      io.out(table(rows) + "\n");
    }
    if (r.active) {
      io.out(
        `active sequence: ${r.active.entryCount} entries, tail ${hexOffset(r.active.tail)}, head ${hexOffset(r.active.head)} (sequence ${r.active.headSequenceNumber})\n`,
      );
      io.out(`replay would write:\n`);
      for (const p of r.preview) {
        io.out(
          p.kind === "grow"
            ? `  grow the file by ${formatSize(p.length)} from ${hexOffset(p.fileOffset)}\n`
            : `  ${hexOffset(p.fileOffset)} ${formatSize(p.length)} in ${p.structure}\n`,
        );
      }
      io.out(`what changes:\n`);
      for (const c of r.changes.changes) if (c.kind !== "grow") io.out(`  ${c.text}\n`);
      if (r.changes.batChangesNotListed > 0)
        io.out(`  ${r.changes.batChangesNotListed} more BAT entries change, not listed\n`);
    } else io.out("no active sequence: nothing to replay\n");
    return 0;
  } finally {
    await img.close();
  }
}

/**
 * `vhdx replay`: replays the log into the file (§2.3.3) and marks it empty. Only the headers and
 * the log are read before the replay, as the spec asks; the image is opened afterwards to prove
 * the result is whole.
 */
export async function replayCommand(a: ParsedArgs, io: Io): Promise<number> {
  const path = oneImage(a, "replay");
  const file = await NodeFileBackend.open(path, { readOnly: false, lock: "exclusive" });
  try {
    const updater = await HeaderUpdater.load(file);
    if (isZeroGuid(updater.current.logGuid)) {
      io.out("the log is empty: nothing to replay\n");
      return 0;
    }
    const scan = await scanLog(file, updater.current);
    const result = await replayLogInPlace(updater, scan);
    await openImage(file, { readOnly: true });
    if (scan.active) {
      io.out(`replayed ${result.entries} log entries (${result.descriptors} descriptors); the log is now empty\n`);
    } else io.out("the log had no valid sequence; marked empty\n");
    return 0;
  } finally {
    await file.close();
  }
}

/**
 * `vhdx log --resize SIZE`: gives the log SIZE bytes (a multiple of 1 MiB, 1 MiB–4095 MiB), in its
 * place or moved to free space or the end of the file, through the header update protocol (resizeLog).
 */
async function resizeCommand(a: ParsedArgs, io: Io): Promise<number> {
  const path = oneImage(a, "log");
  const size = parseSize(flagString(a, "resize")!, "--resize");
  const file = await NodeFileBackend.open(path, { readOnly: false, lock: "exclusive" });
  try {
    const w = new VhdxWriter(await openImage(file, { readOnly: false }));
    const r = await resizeLog(w, size);
    await w.finish();
    if (r.to.length === r.from.length) io.out(`the log is already ${formatSize(r.to.length)}: nothing changed\n`);
    else
      io.out(
        `log: ${formatSize(r.from.length)} at ${hexOffset(r.from.offset)} -> ${formatSize(r.to.length)} at ${hexOffset(r.to.offset)}${r.moved ? " (moved)" : ""}\n`,
      );
    return 0;
  } finally {
    await file.close();
  }
}
