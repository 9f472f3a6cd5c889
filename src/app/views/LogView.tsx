/** The log (§2.3): the ring, every entry found with its fields and verdict, descriptors, and the replay preview. */
import { createColumnHelper } from "@tanstack/react-table";
import { useState } from "react";
import { ConfirmDialog } from "../components/Dialog";
import { DataTable, columnList } from "../components/DataTable";
import { formatSize, hex } from "../lib/format";
import type { LogDescriptorInfo, LogEntryInfo, ReplayChange } from "../store/engineApi";
import { useApp } from "../store/store";
import { LogRing } from "./LogRing";

const ec = createColumnHelper<LogEntryInfo>();
const entryColumns = columnList(ec,
  ec.accessor("position", { header: "Position", cell: (c) => <code>{hex(c.getValue())}</code> }),
  ec.accessor((e) => String(e.sequenceNumber), { id: "seq", header: "SequenceNumber" }),
  ec.accessor("tail", { header: "Tail", cell: (c) => <code>{hex(c.getValue())}</code> }),
  ec.accessor("entryLength", { header: "EntryLength", cell: (c) => formatSize(c.getValue()) }),
  ec.accessor("descriptorCount", { header: "Descriptors" }),
  ec.accessor("logGuidMatches", { header: "LogGuid", cell: (c) => (c.getValue() ? "matches" : "differs") }),
  ec.accessor((e) => `0x${e.checksum.toString(16).padStart(8, "0")}${e.checksumValid ? "" : " (bad)"}`, { id: "crc", header: "Checksum", cell: (c) => <code>{c.getValue()}</code> }),
  ec.accessor("flushedFileOffset", { header: "FlushedFileOffset", cell: (c) => <code>{hex(c.getValue())}</code> }),
  ec.accessor("lastFileOffset", { header: "LastFileOffset", cell: (c) => <code>{hex(c.getValue())}</code> }),
  ec.accessor((e) => (e.inActiveSequence ? "active" : e.valid ? "valid" : `invalid: ${e.reason ?? "?"}`), { id: "verdict", header: "Verdict" }),
);

const dc = createColumnHelper<LogDescriptorInfo>();
const descColumns = columnList(dc,
  dc.accessor("type", { header: "Type" }),
  dc.accessor("fileOffset", { header: "Target file offset", cell: (c) => <code>{hex(c.getValue())}</code> }),
  dc.accessor("length", { header: "Length", cell: (c) => formatSize(c.getValue()) }),
  dc.accessor((d) => d.target ?? "—", { id: "target", header: "Lands in" }),
  dc.accessor((d) => String(d.sequenceNumber), { id: "seq", header: "SequenceNumber" }),
  dc.accessor((d) => d.leadingBytes ?? "—", { id: "lead", header: "LeadingBytes", cell: (c) => <code>{c.getValue()}</code> }),
  dc.accessor((d) => d.trailingBytes ?? "—", { id: "trail", header: "TrailingBytes", cell: (c) => <code>{c.getValue()}</code> }),
);

const rc = createColumnHelper<ReplayChange>();
const replayColumns = columnList(rc,
  rc.accessor("fileOffset", { header: "File offset", cell: (c) => <code>{hex(c.getValue())}</code> }),
  rc.accessor("length", { header: "Length", cell: (c) => formatSize(c.getValue()) }),
  rc.accessor("structure", { header: "Structure" }),
  rc.accessor("before", { header: "Before", cell: (c) => <code className="diff-old">{c.getValue()}</code> }),
  rc.accessor("after", { header: "After", cell: (c) => <code className="diff-new">{c.getValue()}</code> }),
);

export function LogView() {
  const { log, info, replayLog, replaying, goTo } = useApp();
  const [selected, setSelected] = useState<number | null>(null);
  const [confirm, setConfirm] = useState(false);
  if (!info) return null;
  if (!log) return <p className="view muted">The engine did not report the log for this image.</p>;
  const sel = selected !== null ? log.entries[selected] : null;
  return (
    <div className="view log">
      <div className="log-top">
        <LogRing log={log} selected={selected} />
        <dl className="kv">
          <dt>Log</dt>
          <dd>
            <code>{hex(log.logOffset)}</code>, {formatSize(log.logLength)}
          </dd>
          <dt>LogGuid</dt>
          <dd>
            <code>{log.logGuid}</code>
          </dd>
          <dt>State</dt>
          <dd>{log.needsReplay ? <strong className="warn-text">needs replay</strong> : "empty or fully applied"}</dd>
          <dt>Active sequence</dt>
          <dd>
            {log.active ? (
              <>
                sequence {String(log.active.firstSequence)}–{String(log.active.lastSequence)}, tail <code>{hex(log.active.tail)}</code>, head <code>{hex(log.active.head)}</code>
              </>
            ) : (
              "none"
            )}
          </dd>
          {log.warnings?.map((w, i) => (
            <dd key={i} className="warn-text">
              {w}
            </dd>
          ))}
        </dl>
        <div className="row-actions">
          <button type="button" onClick={() => goTo("file", log.logOffset, log.logLength)}>
            Log in hex
          </button>
          {log.needsReplay && (
            <button type="button" className="primary" onClick={() => setConfirm(true)} disabled={info.readOnly || replaying} title={info.readOnly ? "The image is open read-only" : undefined}>
              {replaying ? "Replaying…" : "Replay now"}
            </button>
          )}
        </div>
      </div>
      <section aria-labelledby="le-h">
        <h2 id="le-h">Entries found</h2>
        <DataTable
          label="Log entries"
          data={log.entries}
          columns={entryColumns}
          rowClass={(e) => (e.inActiveSequence ? "active" : e.valid ? undefined : "invalid")}
          selected={(e) => sel === e}
          onRowActivate={(e) => setSelected(log.entries.indexOf(e))}
          empty="No log entries in the ring."
        />
      </section>
      {sel && (
        <section aria-labelledby="ld-h">
          <h2 id="ld-h">
            Descriptors of the entry at {hex(sel.position)} (sequence {String(sel.sequenceNumber)})
          </h2>
          <DataTable label="Descriptors" data={sel.descriptors} columns={descColumns} onRowActivate={(d) => goTo("file", d.fileOffset, d.length)} empty="No descriptors." />
        </section>
      )}
      <section aria-labelledby="rp-h">
        <h2 id="rp-h">Replay preview</h2>
        <DataTable label="Replay preview" data={log.replayPreview} columns={replayColumns} onRowActivate={(r) => goTo("file", r.fileOffset, r.length)} empty="Replay would write nothing." />
      </section>
      <ConfirmDialog title="Replay the log" open={confirm} confirmLabel="Replay now" onConfirm={() => void replayLog()} onClose={() => setConfirm(false)}>
        <p>
          Replay writes the {log.replayPreview.length} changes above into the file in place (MS-VHDX §2.3.3), then marks the log empty. This changes the file on disk.
        </p>
      </ConfirmDialog>
    </div>
  );
}
