/** The log (§2.3): the ring, every entry found with its fields and verdict, descriptors, and the replay preview. */
import { createColumnHelper } from "@tanstack/react-table";
import { useState } from "react";
import { replayBlocker } from "../components/Banners";
import { ReplayConfirm } from "../components/ReplayConfirm";
import { ReplayChangesList } from "../components/ReplayChanges";
import { DataTable, columnList } from "../components/DataTable";
import { formatSize, hex } from "../lib/format";
import { bytesText, diffBytes } from "../lib/byteDiff";
import type { LogDescriptorInfo, LogEntryInfo, ReplayChange } from "../store/engineApi";
import { useApp } from "../store/store";
import { LogRing } from "./LogRing";

const ec = createColumnHelper<LogEntryInfo>();
const entryColumns = columnList(
  ec,
  ec.accessor("position", { header: "Position", cell: (c) => <code>{hex(c.getValue())}</code> }),
  ec.accessor("sequenceNumber", { header: "SequenceNumber" }),
  ec.accessor("tail", { header: "Tail", cell: (c) => <code>{hex(c.getValue())}</code> }),
  ec.accessor("entryLength", { header: "EntryLength", cell: (c) => formatSize(c.getValue()) }),
  ec.accessor("descriptorCount", { header: "Descriptors" }),
  ec.accessor((e) => (e.logGuidMatch ? "matches" : "differs"), { id: "guid", header: "LogGuid" }),
  ec.accessor((e) => (e.checksumOk ? "ok" : "bad"), { id: "crc", header: "Checksum" }),
  ec.accessor("flushedFileOffset", { header: "FlushedFileOffset", cell: (c) => <code>{hex(c.getValue())}</code> }),
  ec.accessor("lastFileOffset", { header: "LastFileOffset", cell: (c) => <code>{hex(c.getValue())}</code> }),
  ec.accessor(
    (e) =>
      e.active
        ? "active"
        : e.valid
          ? "valid, not in the active sequence"
          : e.stale
            ? "stale: written under an earlier LogGuid"
            : `invalid: ${e.reason ?? "?"}`,
    { id: "verdict", header: "Verdict" },
  ),
);

const dc = createColumnHelper<LogDescriptorInfo>();
const descColumns = columnList(
  dc,
  dc.accessor("index", { header: "#" }),
  dc.accessor("type", { header: "Type" }),
  dc.accessor((d) => (d.fileOffset === null ? "—" : hex(d.fileOffset)), {
    id: "target",
    header: "Target file offset",
    cell: (c) => <code>{c.getValue()}</code>,
  }),
  dc.accessor("length", { header: "Length", cell: (c) => formatSize(c.getValue()) }),
  dc.accessor((d) => d.structure ?? "—", { id: "lands", header: "Lands in" }),
  dc.accessor((d) => bytesText(d.leadingBytes), {
    id: "lead",
    header: "LeadingBytes",
    cell: (c) => <code>{c.getValue()}</code>,
  }),
  dc.accessor((d) => bytesText(d.trailingBytes), {
    id: "trail",
    header: "TrailingBytes",
    cell: (c) => <code>{c.getValue()}</code>,
  }),
);

function DiffCell({ change }: { change: ReplayChange }) {
  const d = diffBytes(change.before, change.after);
  if (d.compared === 0) return <span className="muted">—</span>;
  return (
    <span className="diff">
      <code className="diff-row">
        <span className="diff-label">−</span>
        {d.cells.map((c, i) => (
          <span key={i} className={c.changed ? "diff-old" : undefined}>
            {c.before}
          </span>
        ))}
      </code>
      <code className="diff-row">
        <span className="diff-label">+</span>
        {d.cells.map((c, i) => (
          <span key={i} className={c.changed ? "diff-new" : undefined}>
            {c.after}
          </span>
        ))}
      </code>
      <span className="muted small">
        {d.changed} of {d.compared} bytes change{d.firstChange >= 0 ? `, first at +${hex(d.firstChange)}` : ""}
      </span>
    </span>
  );
}

const rc = createColumnHelper<ReplayChange>();
const replayColumns = columnList(
  rc,
  rc.accessor("kind", { header: "Kind" }),
  rc.accessor("fileOffset", { header: "File offset", cell: (c) => <code>{hex(c.getValue())}</code> }),
  rc.accessor("length", { header: "Length", cell: (c) => formatSize(c.getValue()) }),
  rc.accessor("structure", { header: "Lands in" }),
  rc.accessor("before", {
    header: "Before → after",
    enableSorting: false,
    cell: (c) => <DiffCell change={c.row.original} />,
  }),
);

export function LogView() {
  const { log, info, replaying, goTo, caps } = useApp();
  const [selected, setSelected] = useState<number | null>(null);
  const [confirm, setConfirm] = useState(false);
  if (!info) return null;
  if (!log) {
    return (
      <p className="view muted">
        {caps.log
          ? "The engine could not read the log of this image."
          : "This build's engine worker does not report the log."}
        {info.log.needsReplay ? " The log needs replay." : ""} Log at {hex(info.log.offset)},{" "}
        {formatSize(info.log.length)}.
      </p>
    );
  }
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
                {log.active.entryCount} {log.active.entryCount === 1 ? "entry" : "entries"} up to sequence{" "}
                {log.active.headSequenceNumber}, tail <code>{hex(log.active.tail)}</code>, head{" "}
                <code>{hex(log.active.head)}</code>
              </>
            ) : (
              "none"
            )}
          </dd>
          {log.warning && (
            <>
              <dt>Warning</dt>
              <dd className="warn-text">{log.warning}</dd>
            </>
          )}
        </dl>
        <div className="row-actions">
          <button type="button" onClick={() => goTo("file", log.logOffset, log.logLength)}>
            Log in hex
          </button>
          {log.needsReplay && (
            <button
              type="button"
              className="primary"
              onClick={() => setConfirm(true)}
              disabled={!!replayBlocker(caps.replay, info) || replaying}
            >
              {replaying ? "Replaying…" : "Replay now"}
            </button>
          )}
          {log.needsReplay && replayBlocker(caps.replay, info) && (
            <span className="disabled-reason" role="note">
              {replayBlocker(caps.replay, info)}.
            </span>
          )}
        </div>
      </div>
      <section aria-labelledby="le-h">
        <h2 id="le-h">Entries found</h2>
        <DataTable
          label="Log entries"
          data={log.entries}
          columns={entryColumns}
          rowClass={(e) => (e.active ? "active" : e.valid ? undefined : e.stale ? "stale" : "invalid")}
          selected={(e) => sel === e}
          onRowActivate={(e) => setSelected(log.entries.indexOf(e))}
          empty="No log entries in the ring."
        />
      </section>
      {sel && (
        <section aria-labelledby="ld-h">
          <h2 id="ld-h">
            Descriptors of the entry at {hex(sel.position)} (sequence {sel.sequenceNumber})
          </h2>
          <DataTable
            label="Descriptors"
            data={sel.descriptors}
            columns={descColumns}
            onRowActivate={(d) => d.fileOffset !== null && goTo("file", d.fileOffset, d.length)}
            empty="No descriptors."
          />
        </section>
      )}
      <section aria-labelledby="rp-h">
        <h2 id="rp-h">Replay preview</h2>
        <DataTable
          label="Replay preview"
          data={log.preview}
          columns={replayColumns}
          onRowActivate={(r) => goTo("file", r.fileOffset, r.length)}
          empty="Replay would write nothing."
        />
      </section>
      <section aria-labelledby="rc-h">
        <h2 id="rc-h">What the replay changes</h2>
        <ReplayChangesList log={log} />
      </section>
      <ReplayConfirm open={confirm} onClose={() => setConfirm(false)} changes={log.preview.length} />
    </div>
  );
}
