/** Commit: the cost first, then progress, then the result; cancel leaves the image as it was. */
import { PatchCostRows, StorageCostRows } from "../components/CostRows";
import { Dialog, DoneActions } from "../components/Dialog";
import { formatSize, plural } from "../lib/format";
import type { CommitCost } from "../store/engineApi";
import { useApp } from "../store/store";

/** The cost, line by line, in the engine's and the storage's terms. */
function CostTable({ cost, bytesStaged }: { cost: CommitCost; bytesStaged: number }) {
  const p = cost.virtual;
  return (
    <dl className="kv">
      <dt>Bytes staged</dt>
      <dd>{formatSize(bytesStaged)}</dd>
      {p && <PatchCostRows cost={p} />}
      {cost.structureSectors > 0 && (
        <>
          <dt>Structure sectors through the log</dt>
          <dd>{cost.structureSectors}</dd>
        </>
      )}
      {cost.storage && <StorageCostRows storage={cost.storage} />}
    </dl>
  );
}

export function CommitDialog() {
  const { commit, confirmCommit, cancelCommit, closeCommit, setTab } = useApp();
  const open = commit.phase !== "idle";
  return (
    <Dialog title="Commit staged edits" open={open} onClose={commit.phase === "running" ? cancelCommit : closeCommit}>
      {commit.phase === "costing" && <p role="status">Working out what the commit will write…</p>}
      {commit.phase === "confirm" && (
        <>
          <CostTable cost={commit.cost} bytesStaged={commit.bytesStaged} />
          {commit.cost.problems.length > 0 && (
            <div role="alert" className="danger">
              <p>This patch cannot be committed as it stands:</p>
              <ul>
                {commit.cost.problems.map((p, i) => (
                  <li key={i}>{p}</li>
                ))}
              </ul>
            </div>
          )}
          <div className="dialog-actions">
            <button type="button" onClick={closeCommit} autoFocus>
              Cancel
            </button>
            <button
              type="button"
              className="primary"
              onClick={() => void confirmCommit()}
              disabled={commit.cost.problems.length > 0}
            >
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
            {commit.progress && commit.progress.total > 0
              ? `${commit.progress.phase}: ${Math.round((100 * commit.progress.done) / commit.progress.total)}%`
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
            Committed.
            {commit.result.blocksAllocated ? ` ${plural(commit.result.blocksAllocated, "new payload block")}.` : ""}
            {commit.result.blocksCopied ? ` ${plural(commit.result.blocksCopied, "block")} copied on write.` : ""}
            {commit.result.atomic
              ? ""
              : " The commit outgrew the browser's staging budget and reached the file in more than one step."}{" "}
            The BAT and Log views show the result.
          </p>
          {commit.result.notices?.map((n) => (
            <p key={n} role="note" className="notice">
              Note: {n}.
            </p>
          ))}
          <div className="dialog-actions">
            <DoneActions
              close={closeCommit}
              places={[
                ["Show log", () => setTab("Log")],
                ["Show BAT", () => setTab("BAT")],
              ]}
            />
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
