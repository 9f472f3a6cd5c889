/**
 * "Edit a working copy" of a large file: its size, how long the copy will take (measured) and
 * the room in browser storage before anything is copied; then the copy's progress with the time
 * left at its own pace, and Cancel, which keeps no copy.
 */
import { Dialog } from "../components/Dialog";
import { formatDuration } from "../lib/duration";
import { formatSize } from "../lib/format";
import { useWorkingCopy } from "./workingCopyStore";

const rate = (bps: number) => `${formatSize(Math.round(bps))}/s`;

export function WorkingCopyDialog() {
  const { job, start, cancel, close } = useWorkingCopy();
  const open = job.phase !== "idle";
  return (
    <Dialog title="Working copy" open={open} onClose={job.phase === "copying" ? cancel : close}>
      <div className="dialog-body">
        {job.phase === "measuring" && (
          <p role="status">
            {job.name} is {formatSize(job.bytes)}. Measuring how fast it copies into browser storage…
          </p>
        )}
        {job.phase === "confirm" && (
          <>
            <p>
              The browser gives {job.name} without write access, so edits go to a copy in the browser's storage. The
              file is <strong>{formatSize(job.bytes)}</strong> ({job.bytes.toLocaleString("en-US")} bytes).
            </p>
            <p role="status" aria-label="Working copy estimate">
              Copying it takes about <strong>{formatDuration(job.bytes / job.bytesPerSecond)}</strong> (measured:{" "}
              {rate(job.bytesPerSecond)} on its first {formatSize(Math.min(job.bytes, 32 * 1024 * 1024))}).
            </p>
            {job.available !== null && (
              <p className={job.available < job.bytes ? "danger" : "muted"}>
                Browser storage available: {formatSize(Math.max(0, job.available))}
                {job.available < job.bytes ? " — not enough for this copy." : "."}
              </p>
            )}
          </>
        )}
        {job.phase === "copying" && (
          <div className="progress-line">
            <progress aria-label="Working copy progress" max={job.bytes} value={job.done} />
            <p role="status" aria-label="Working copy time left">
              Copying {job.name}: {formatSize(job.done)} of {formatSize(job.bytes)} — about{" "}
              {formatDuration((job.bytes - job.done) / job.bytesPerSecond)} left at {rate(job.bytesPerSecond)}
            </p>
          </div>
        )}
        {job.phase === "cancelled" && <p role="status">Cancelled; no copy was kept. {job.name} is open as before.</p>}
        {job.phase === "error" && (
          <p role="alert" className="danger">
            Could not make a working copy of {job.name}: {job.message}
          </p>
        )}
      </div>
      <div className="dialog-actions">
        {job.phase === "measuring" || job.phase === "confirm" || job.phase === "copying" ? (
          <button type="button" onClick={cancel}>
            Cancel
          </button>
        ) : (
          <button type="button" onClick={close}>
            Close
          </button>
        )}
        {job.phase === "confirm" && (
          <button
            type="button"
            className="primary"
            disabled={job.available !== null && job.available < job.bytes}
            onClick={() => void start()}
          >
            Make working copy
          </button>
        )}
      </div>
    </Dialog>
  );
}
