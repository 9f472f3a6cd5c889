/**
 * The file report as Markdown, for a person: what `vhdx report` prints and what the editor's
 * Report export saves beside the JSON. Every value comes from the FileReport; nothing is read again.
 */
import { hex } from "./errors";
import type { FileReport } from "./report";

/** Table cells keep their pipes and line breaks out of the table's syntax. */
function cell(v: unknown): string {
  return String(v ?? "—")
    .replace(/\|/g, "\\|")
    .replace(/\n/g, " ");
}

function table(head: string[], rows: unknown[][]): string {
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => " --- ").join("|")}|`];
  for (const r of rows) lines.push(`| ${r.map(cell).join(" | ")} |`);
  return lines.join("\n");
}

export function reportMarkdown(r: FileReport): string {
  const i = r.image;
  const out: string[] = [];
  out.push(`# ${cell(r.file.name)}`, "");
  out.push(`Report generated ${r.generatedAt} (${r.format} version ${r.version}).`, "");
  out.push(
    table(
      ["", ""],
      [
        ["File size", `${r.file.size} bytes`],
        ["SHA-256", "`" + r.file.sha256 + "`"],
        ["Disk type", i.diskType],
        ["Virtual size", `${i.virtualSize} bytes`],
        ["Block size", `${i.blockSize} bytes`],
        ["Sector sizes", `${i.logicalSectorSize} logical, ${i.physicalSectorSize} physical`],
        ["Virtual disk ID", i.virtualDiskId],
        ["Creator", i.creator],
      ],
    ),
    "",
  );
  out.push("## Headers", "");
  out.push(
    table(
      ["#", "Offset", "Valid", "Current", "SequenceNumber", "FileWriteGuid", "DataWriteGuid", "LogGuid", "Problems"],
      i.headers.map((h) => [
        h.index + 1,
        hex(h.fileOffset),
        h.valid ? "yes" : "no",
        h.current ? "yes" : "",
        h.sequenceNumber,
        h.fileWriteGuid,
        h.dataWriteGuid,
        h.logGuid,
        h.problems.join("; "),
      ]),
    ),
    "",
  );
  out.push("## Regions", "");
  out.push(
    table(
      ["Region", "GUID", "Offset", "Length", "Required"],
      i.regions.map((g) => [g.name, g.guid, hex(g.fileOffset), hex(g.length), g.required ? "yes" : "no"]),
    ),
    "",
  );
  out.push("## Metadata", "");
  out.push(
    table(
      ["Item", "Offset", "Length", "User", "Virtual disk", "Required"],
      i.metadata.map((m) => [m.name, hex(m.offset), m.length, m.isUser, m.isVirtualDisk, m.isRequired]),
    ),
    "",
  );
  out.push("## BAT", "", `${i.bat.entries} entries at ${hex(i.bat.fileOffset)}.`, "");
  const counts = (k: string, o: Record<string, number>) => Object.entries(o).map(([s, n]) => [k, s, n]);
  out.push(
    table(
      ["Entries", "State", "Count"],
      [...counts("payload", i.bat.payload), ...counts("sector bitmap", i.bat.sectorBitmap)],
    ),
    "",
  );
  const l = r.log;
  out.push("## Log", "");
  out.push(`${l.logLength} bytes at ${hex(l.logOffset)}, LogGuid ${l.logGuid}${l.empty ? " (empty)" : ""}.`, "");
  if (l.warning) out.push(`Warning: ${l.warning}`, "");
  if (l.entries.length > 0) {
    out.push(
      table(
        ["Position", "Sequence", "Descriptors", "Verdict"],
        l.entries.map((e) => [
          hex(e.position),
          e.sequenceNumber,
          e.descriptorCount,
          e.active
            ? "active"
            : e.valid
              ? "valid, not active"
              : e.stale
                ? "stale (earlier LogGuid)"
                : `invalid: ${e.reason}`,
        ]),
      ),
      "",
    );
  }
  if (l.entriesNotListed > 0) out.push(`${l.entriesNotListed} more entries found, not listed.`, "");
  if (l.active) {
    out.push(
      `The log needs replay: ${l.active.entryCount} entries up to sequence ${l.active.headSequenceNumber}. A replay changes:`,
      "",
    );
    for (const c of l.changes.changes) out.push(`- ${c.text}`);
    if (l.changes.batChangesNotListed > 0) out.push(`- ${l.changes.batChangesNotListed} more BAT entries, not listed`);
    out.push("");
  } else out.push("No active sequence: nothing to replay.", "");
  out.push("## Check", "", r.check.ok ? "No errors." : "Errors found.", "");
  if (r.check.findings.length > 0) {
    out.push(
      table(
        ["Severity", "Code", "Structure", "Offset", "Message"],
        r.check.findings.map((f) => [f.severity, f.code, f.structure, hex(f.offset), f.message]),
      ),
      "",
    );
  }
  return out.join("\n");
}
