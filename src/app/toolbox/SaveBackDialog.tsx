/**
 * "Save back…": the working copy's committed bytes written over the original file. The user picks
 * the original and then confirms by name; the worker writes only when that file is still the one
 * copied (size, last change, first and last MiB), through one writable the browser swaps in whole.
 */
import { useEffect, useState } from "react";
import { Dialog } from "../components/Dialog";
import { ensurePermission } from "../engine/client";
import { formatSize } from "../lib/format";
import { engineClient } from "../store/engineConnection";
import { useApp } from "../store/store";
import { errorText } from "./checkStore";
import { pickFiles, VHDX_TYPES } from "./pickers";

type Origin = { name: string; size: number; lastModified: number };
type Phase =
  | { phase: "idle" }
  | { phase: "saving" }
  | { phase: "done"; name: string; bytes: number }
  | { phase: "error"; message: string };

export function SaveBackDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const info = useApp((s) => s.info);
  const [origin, setOrigin] = useState<Origin | null>(null);
  const [target, setTarget] = useState<FileSystemFileHandle | null>(null);
  const [run, setRun] = useState<Phase>({ phase: "idle" });
  useEffect(() => {
    if (!open) return;
    setTarget(null);
    setRun({ phase: "idle" });
    void engineClient()
      ?.workingCopyOrigin()
      .then(setOrigin)
      .catch(() => setOrigin(null));
  }, [open]);

  const choose = async () => {
    const h = (await pickFiles(VHDX_TYPES))?.[0];
    if (!h) return;
    if ((await ensurePermission(h, "readwrite")) !== "granted") {
      setRun({ phase: "error", message: `Write access to ${h.name} was not granted.` });
      return;
    }
    setRun({ phase: "idle" });
    setTarget(h);
  };
  const save = async () => {
    const client = engineClient();
    if (!client || !target) return;
    setRun({ phase: "saving" });
    try {
      const r = await client.call("saveBack", [target], {});
      setRun({ phase: "done", name: target.name, bytes: r.bytes });
    } catch (e) {
      setRun({ phase: "error", message: errorText(e) });
    }
  };

  const why = !origin
    ? "this working copy has no original on record (it was made in an earlier visit); use Save a copy… instead"
    : !target
      ? "choose the original file"
      : null;
  return (
    <Dialog title="Save back to the original" open={open} onClose={() => run.phase !== "saving" && onClose()}>
      <div className="dialog-body">
        {origin && (
          <p>
            Writes the working copy ({info ? formatSize(info.fileSize) : "?"}, its committed edits) over{" "}
            <strong>{origin.name}</strong>, the file it was copied from ({formatSize(origin.size)}, modified{" "}
            {new Date(origin.lastModified).toLocaleString()}). Only that file, unchanged since the copy, is written: its
            size, last change and the SHA-256 of its first and last MiB are compared first. The browser replaces it
            whole when the write completes, so a failure leaves it as it was.
          </p>
        )}
        <p className="row-actions">
          <button type="button" onClick={() => void choose()} disabled={!origin || run.phase === "saving"}>
            Choose the original…
          </button>
          <span aria-label="Original chosen">{target ? target.name : <span className="muted">none chosen</span>}</span>
        </p>
        {run.phase === "saving" && <p role="status">Saving back…</p>}
        {run.phase === "done" && (
          <p role="status" aria-label="Save back result">
            Saved back: {run.name} now holds the working copy ({formatSize(run.bytes)}).
          </p>
        )}
        {run.phase === "error" && (
          <p role="alert" className="danger">
            Save back failed: {run.message}
          </p>
        )}
      </div>
      <div className="dialog-actions">
        {why && run.phase !== "done" && (
          <span className="disabled-reason spacer" role="note">
            To save back, {why}.
          </span>
        )}
        <button type="button" onClick={onClose} disabled={run.phase === "saving"}>
          Close
        </button>
        {run.phase !== "done" && (
          <button
            type="button"
            className="primary"
            onClick={() => void save()}
            disabled={!!why || run.phase === "saving"}
          >
            {target ? `Replace ${target.name}` : "Replace the original"}
          </button>
        )}
      </div>
    </Dialog>
  );
}
