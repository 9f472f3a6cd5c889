/** Pieces the toolbox's job dialogs share: where the output goes, the running job, its result. */
import { formatSize } from "../lib/format";
import type { Progress } from "../store/engineApi";
import { useJob } from "./jobStore";
import type { OutputName } from "./outputName";
import { can, pickFiles, VHDX_TYPES } from "./pickers";
import { ProgressLine } from "./ProgressLine";

/** The output's name and where it goes; a name taken in browser storage is named, and replaced only when agreed. */
export function OutputFields({ out, idPrefix }: { out: OutputName; idPrefix: string }) {
  const { dest, setDest, name, setName, check } = out;
  const taken = dest === "opfs" ? check : null;
  return (
    <>
      <label htmlFor={`${idPrefix}-name`}>Output name</label>
      <input
        id={`${idPrefix}-name`}
        type="text"
        value={name}
        aria-describedby={taken ? `${idPrefix}-taken` : undefined}
        onChange={(e) => setName(e.target.value)}
      />
      {taken && (
        <span
          id={`${idPrefix}-taken`}
          className="output-taken"
          role="note"
          aria-label="Name already in browser storage"
        >
          {taken.inUse ? (
            <span className="danger">
              {taken.path} is in browser storage and {taken.inUse}: it cannot be written. Choose another name.
            </span>
          ) : (
            <label className="checkbox">
              <input type="checkbox" checked={out.replace} onChange={(e) => out.setReplace(e.target.checked)} />
              Replace the existing {taken.path}
              {taken.size >= 0 ? ` (${formatSize(taken.size)}` : " ("}
              {taken.lastModified ? `, modified ${new Date(taken.lastModified).toLocaleString()})` : ")"}
            </label>
          )}
        </span>
      )}
      <span id={`${idPrefix}-dest`}>Write to</span>
      <div className="segmented" role="radiogroup" aria-labelledby={`${idPrefix}-dest`}>
        <button
          type="button"
          role="radio"
          aria-checked={dest === "file"}
          disabled={!can.save()}
          onClick={() => setDest("file")}
        >
          A file I choose…
        </button>
        <button type="button" role="radio" aria-checked={dest === "opfs"} onClick={() => setDest("opfs")}>
          Browser storage, then download
        </button>
      </div>
      {!can.save() && (
        <span className="disabled-reason full" role="note">
          This browser has no save picker, so outputs go to its storage for download.
        </span>
      )}
    </>
  );
}

/**
 * A dialog's operation while it runs: its progress, what cancelling leaves (when the dialog says),
 * and the Cancel button, the only action then.
 */
export function JobRunning(p: {
  label: string;
  progress: Progress | null;
  idle: string;
  note?: string;
  onCancel: () => void;
  cancelLabel?: string;
  className?: string;
}) {
  return (
    <div className={p.className}>
      <ProgressLine label={p.label} progress={p.progress} idle={p.idle} />
      {p.note && <p className="muted small">{p.note}</p>}
      <div className="dialog-actions">
        <button type="button" onClick={p.onCancel}>
          {p.cancelLabel ?? "Cancel"}
        </button>
      </div>
    </div>
  );
}

/** Progress and cancel while a job runs; its result (or error) after. */
export function JobStatus() {
  const { job, cancel, download } = useJob();
  if (job.phase === "running")
    return (
      <JobRunning label={`${job.title} progress`} progress={job.progress} idle={`${job.title}…`} onCancel={cancel} />
    );
  if (job.phase === "done") {
    const t = job.result.target;
    return (
      <div role="status" className="job-done">
        <p>
          <strong>{job.title}: done.</strong> {job.result.summary}; file {formatSize(job.result.fileSize)}
          {t.kind === "handle" ? ` in ${t.handle.name}` : ` in browser storage (${t.path})`}.
          {job.format === "vhdx"
            ? job.opened
              ? " It is open in the editor."
              : ""
            : job.format === "vhd"
              ? " A VHD does not open in the editor; convert it back to VHDX to edit it."
              : " A raw image does not open in the editor."}
        </p>
        {t.kind === "opfs" && (
          <button type="button" onClick={() => void download()}>
            Download
          </button>
        )}
      </div>
    );
  }
  if (job.phase === "error") {
    return (
      <p role="alert" className="danger">
        {job.title} failed: {job.message}
      </p>
    );
  }
  return null;
}

/** The "Parent" row of a dialog: a button that picks a VHDX file, and the name of the one chosen. */
export function ParentPicker({
  parent,
  setParent,
  attached = false,
}: {
  parent: FileSystemFileHandle | null;
  setParent: (h: FileSystemFileHandle) => void;
  /** The parent is the one attached to the open image: say so, and offer another only as a choice. */
  attached?: boolean;
}) {
  return (
    <>
      <span>Parent</span>
      <span className="row-actions">
        <button
          type="button"
          onClick={async () => {
            const h = await pickFiles(VHDX_TYPES);
            if (h?.[0]) setParent(h[0]);
          }}
        >
          {attached ? "Choose another…" : "Choose parent…"}
        </button>
        <span aria-label="Chosen parent">
          {parent ? parent.name : <span className="muted">none chosen</span>}
          {attached && <span className="muted"> (the attached parent)</span>}
        </span>
      </span>
    </>
  );
}
