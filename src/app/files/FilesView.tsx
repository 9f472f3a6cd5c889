/** The Files tab: the disk's partitions and file systems, then a folder view with Extract, Show in hex and Show in BAT. */
import { useEffect } from "react";
import { formatSize, hex, plural } from "../lib/format";
import { useApp } from "../store/store";
import { FileList } from "./FileList";
import { entryAt, useFiles, type VolumesView } from "./filesStore";

type Volume = VolumesView["volumes"][number];

function volumeTitle(v: Volume): string {
  const where = v.number === null ? "Whole disk" : `Partition ${v.number}`;
  const fs = v.fs
    ? `${v.fs.type}${v.fs.label ? ` “${v.fs.label}”` : ""}`
    : v.fsType
      ? v.fsType
      : "no file system found";
  return `${where}: ${fs}`;
}

function Volumes() {
  const { volumes, openVolume, volume } = useFiles();
  if (!volumes) return null;
  return (
    <section aria-label="Partitions" className="files-volumes">
      <table className="data" aria-label="Partitions and file systems">
        <thead>
          <tr>
            <th>#</th>
            <th>Start</th>
            <th>Size</th>
            <th>Type</th>
            <th>Name</th>
            <th>File system</th>
            <th>Label</th>
          </tr>
        </thead>
        <tbody>
          {volumes.volumes.map((v) => (
            <tr
              key={v.index}
              className={`clickable${volume === v.index ? " selected" : ""}`}
              aria-selected={volume === v.index}
              tabIndex={0}
              onClick={() => v.fs && void openVolume(v.index)}
              onKeyDown={(e) => e.key === "Enter" && v.fs && void openVolume(v.index)}
            >
              <td>{v.number ?? "—"}</td>
              <td>
                <code>{hex(v.start)}</code>
              </td>
              <td>{formatSize(v.size)}</td>
              <td title={v.type}>{v.typeName}</td>
              <td>{v.name}</td>
              <td>
                {v.fs ? (
                  v.fs.type
                ) : v.error ? (
                  <span className="danger">{v.error}</span>
                ) : (
                  <span className="muted">none found</span>
                )}
              </td>
              <td>{v.fs?.label ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {volumes.volumes.length === 0 && <p className="muted">No partition and no file system found on this disk.</p>}
      {volumes.findings.map((f, i) => (
        <p key={i} className={f.severity === "error" ? "danger" : "warning"}>
          {f.message}
        </p>
      ))}
    </section>
  );
}

function Breadcrumbs({ v }: { v: Volume }) {
  const { path, openDir, up } = useFiles();
  const parts = path === "" ? [] : path.split("/");
  return (
    <nav aria-label="Folder path" className="files-crumbs">
      <button
        type="button"
        className="link"
        onClick={() => void up()}
        disabled={false}
        title="Up one level (Backspace)"
      >
        ↑
      </button>
      <ol>
        <li>
          <button type="button" className="link" onClick={() => void openDir("")}>
            {volumeTitle(v)}
          </button>
        </li>
        {parts.map((p, i) => (
          <li key={i}>
            {i === parts.length - 1 ? (
              <span aria-current="location">{p}</span>
            ) : (
              <button type="button" className="link" onClick={() => void openDir(parts.slice(0, i + 1).join("/"))}>
                {p}
              </button>
            )}
          </li>
        ))}
      </ol>
    </nav>
  );
}

function Actions() {
  const state = useFiles();
  const { selected, extract, cancelExtract, showInHex, showInBat, total, listing, details } = state;
  const e = selected !== null ? entryAt(state, selected) : undefined;
  const isFile = e?.type === "file";
  const running = state.extraction.phase === "running";
  return (
    <div className="files-actions" role="toolbar" aria-label="File actions">
      <button
        type="button"
        className="primary"
        disabled={running || (e !== undefined && e.type !== "file" && e.type !== "dir")}
        onClick={() => void extract()}
        title={e ? `Save ${e.name}${e.type === "dir" ? " as a .zip" : ""}` : "Save this folder as a .zip"}
      >
        Extract
      </button>
      <button type="button" disabled={!isFile || !e?.size} onClick={() => void showInHex()}>
        Show in hex
      </button>
      <button type="button" disabled={!isFile || !e?.size} onClick={() => void showInBat()}>
        Show blocks in BAT
      </button>
      <span className="muted small" aria-live="polite">
        {listing ? "Reading the folder…" : `${total.toLocaleString()} ${total === 1 ? "entry" : "entries"}`}
        {!listing && details !== null && ` · reading each entry's record… ${Math.round(details * 100)} %`}
        {e ? ` · selected: ${e.name}` : ""}
      </span>
      {state.extraction.phase === "running" && (
        <span role="status">
          Extracting {state.extraction.name}: {Math.round(state.extraction.fraction * 100)}% (
          {formatSize(state.extraction.bytes)}){" "}
          <button type="button" onClick={cancelExtract}>
            Cancel
          </button>
        </span>
      )}
      {state.extraction.phase === "done" && (
        <span role="status">
          Extracted {state.extraction.target}: {formatSize(state.extraction.result.bytes)}
          {state.extraction.result.folders + state.extraction.result.files > 1
            ? `, ${plural(state.extraction.result.files, "file")} in ${plural(state.extraction.result.folders, "folder")}`
            : ""}
          {state.extraction.result.skipped.length > 0 &&
            `; left out (a zip cannot hold them): ${state.extraction.result.skipped.slice(0, 3).join(", ")}${state.extraction.result.skipped.length > 3 ? ` and ${state.extraction.result.skipped.length - 3} more` : ""}`}
        </span>
      )}
      {state.extraction.phase === "error" && (
        <span role="alert" className="danger">
          Extract failed: {state.extraction.message}
        </span>
      )}
    </div>
  );
}

export function FilesView() {
  const info = useApp((s) => s.info ?? s.vhd);
  const { volumes, volume, load, loading, error } = useFiles();
  // The store forgets the volumes when the image changes; they are read again when shown.
  useEffect(() => {
    if (info && !volumes && !error) void load();
  }, [info, volumes, error, load]);
  const v = volume !== null ? volumes?.volumes[volume] : undefined;
  return (
    <div className="view files-view" aria-label="Files">
      {loading && !volumes && <p role="status">Reading the partition table and file systems…</p>}
      {error && (
        <p role="alert" className="danger">
          {error}
        </p>
      )}
      <Volumes />
      {v && (
        <>
          <Breadcrumbs v={v} />
          {v.fs && v.fs.findings.length > 0 && (
            <ul className="files-findings" aria-label="File system findings">
              {v.fs.findings.map((f, i) => (
                <li
                  key={i}
                  className={f.severity === "error" ? "danger" : f.severity === "warning" ? "warning" : "muted"}
                >
                  {f.message}
                </li>
              ))}
            </ul>
          )}
          <Actions />
          <FileList />
        </>
      )}
    </div>
  );
}
