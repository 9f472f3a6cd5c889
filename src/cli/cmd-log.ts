import { openImage } from "../vhdx/image";
import { logReport } from "../vhdx/logReport";
import { NodeFileBackend } from "../node/fileBackend";
import { oneImage, ParsedArgs } from "./args";
import { Io, openForViewing } from "./commands";
import { formatSize, hexOffset, table, toJson } from "./format";

/** `vhdx log`: every entry in the ring, the active sequence, and what a replay would write. */
export async function logCommand(a: ParsedArgs, io: Io): Promise<number> {
  const img = await openForViewing(oneImage(a, "log"));
  try {
    const r = await logReport(img, { previewBytes: a.flags.has("json") ? 4096 : 16 });
    if (a.flags.has("json")) {
      io.out(toJson(r) + "\n");
      return 0;
    }
    io.out(`log: ${formatSize(r.logLength)} at ${hexOffset(r.logOffset)}, LogGuid ${r.logGuid}${r.empty ? " (empty)" : ""}\n`);
    if (r.warning) io.out(`warning: ${r.warning}\n`);
    if (r.entries.length === 0) io.out("no log entries in the ring\n");
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
          e.active ? "ACTIVE" : e.valid ? "valid, not active" : `invalid: ${e.reason}`,
        ]);
      }
      io.out(table(rows) + "\n");
    }
    if (r.active) {
      io.out(`active sequence: ${r.active.entryCount} entries, tail ${hexOffset(r.active.tail)}, head ${hexOffset(r.active.head)} (sequence ${r.active.headSequenceNumber})\n`);
      io.out(`replay would write:\n`);
      for (const p of r.preview) {
        io.out(p.kind === "grow" ? `  grow the file by ${formatSize(p.length)} from ${hexOffset(p.fileOffset)}\n` : `  ${hexOffset(p.fileOffset)} ${formatSize(p.length)} in ${p.structure}\n`);
      }
    } else io.out("no active sequence: nothing to replay\n");
    return 0;
  } finally {
    await img.close();
  }
}

/** `vhdx replay`: replays the log into the file (§2.3.3) and marks it empty. */
export async function replayCommand(a: ParsedArgs, io: Io): Promise<number> {
  const path = oneImage(a, "replay");
  const view = await openForViewing(path);
  let report;
  try {
    report = await logReport(view, { previewBytes: 0 });
  } finally {
    await view.close();
  }
  if (!report.needsReplay && report.empty) {
    io.out("the log is empty: nothing to replay\n");
    return 0;
  }
  const file = await NodeFileBackend.open(path, { readOnly: false });
  try {
    await openImage(file, { readOnly: false, replay: "in-place" });
  } finally {
    await file.close();
  }
  if (report.active) {
    const writes = report.preview.filter((p) => p.kind === "write");
    io.out(`replayed ${report.active.entryCount} log entries (${writes.length} ranges written); the log is now empty\n`);
  } else io.out(`the log had no valid sequence; marked empty\n`);
  return 0;
}
