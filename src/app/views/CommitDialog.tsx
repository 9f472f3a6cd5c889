/** Commit: the cost first, then progress, then the result; cancel leaves the image as it was. */
import { Dialog } from "../components/Dialog";
import { formatSize } from "../lib/format";
import { useApp } from "../store/store";

export function CommitDialog() {
  const { commit, confirmCommit, cancelCommit, closeCommit, setTab } = useApp();
  const open = commit.phase !== "idle";
  return (
    <Dialog title="Commit staged edits" open={open} onClose={commit.phase === "running" ? cancelCommit : closeCommit}>
      {commit.phase === "costing" && <p role="status">Working out what the commit will write…</p>}
      {commit.phase === "confirm" && (
        <>
          <dl className="kv">
            <dt>Bytes staged</dt>
            <dd>{formatSize(commit.cost.bytesStaged)}</dd>
            <dt>Sectors touched</dt>
            <dd>{commit.cost.sectorsTouched}</dd>
            <dt>New payload blocks</dt>
            <dd>{commit.cost.blocksAllocated}</dd>
            <dt>Log entries</dt>
            <dd>{commit.cost.logEntries}</dd>
            <dt>Bytes copied by the browser</dt>
            <dd>{formatSize(commit.cost.bytesCopied)}</dd>
          </dl>
          {commit.cost.notes.length > 0 && (
            <ul>
              {commit.cost.notes.map((n, i) => (
                <li key={i}>{n}</li>
              ))}
            </ul>
          )}
          <div className="dialog-actions">
            <button type="button" onClick={closeCommit} autoFocus>
              Cancel
            </button>
            <button type="button" className="primary" onClick={() => void confirmCommit()}>
              Commit
            </button>
          </div>
        </>
      )}
      {commit.phase === "running" && (
        <>
          <progress
            aria-label="Commit progress"
            max={commit.progress?.total || 1}
            value={commit.progress ? commit.progress.done : undefined}
          />
          <p role="status">
            {commit.progress
              ? `${commit.progress.phase}: ${formatSize(commit.progress.done)} of ${formatSize(commit.progress.total)}`
              : "Starting…"}
          </p>
          <div className="dialog-actions">
            <button type="button" onClick={cancelCommit}>
              Cancel commit
            </button>
          </div>
        </>
      )}
      {commit.phase === "done" && (
        <>
          <p role="status">
            Committed.{commit.result.blocksAllocated > 0 && ` ${commit.result.blocksAllocated} new payload blocks.`}
            {commit.result.logSequenceNumber !== undefined &&
              ` Log entry sequence ${String(commit.result.logSequenceNumber)}.`}
          </p>
          <div className="dialog-actions">
            <button
              type="button"
              onClick={() => {
                closeCommit();
                setTab("Log");
              }}
            >
              Show log
            </button>
            <button
              type="button"
              onClick={() => {
                closeCommit();
                setTab("BAT");
              }}
            >
              Show BAT
            </button>
            <button type="button" className="primary" onClick={closeCommit} autoFocus>
              Close
            </button>
          </div>
        </>
      )}
      {commit.phase === "error" && (
        <>
          <p role="alert" className="danger">
            {commit.message}
          </p>
          <div className="dialog-actions">
            <button type="button" onClick={closeCommit} autoFocus>
              Close
            </button>
          </div>
        </>
      )}
    </Dialog>
  );
}
