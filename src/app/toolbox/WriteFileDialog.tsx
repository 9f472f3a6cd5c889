/**
 * "Write file…": a local file (chosen or dropped on the dialog) written into the virtual disk at an
 * offset as one atomic patch. Before anything is written the dialog shows the file, the target
 * range, the engine's cost and every reason the write would be refused; then progress and cancel.
 */
import { useEffect, useState, type DragEvent } from "react";
import { PatchCostRows, StorageCostRows } from "../components/CostRows";
import { Dialog, DoneActions } from "../components/Dialog";
import { formatCount, formatSize, hex, plural } from "../lib/format";
import { toPatch } from "../lib/editStage";
import { parseOffset } from "../lib/offset";
import { stagedConflict } from "../lib/stagedConflict";
import { useApp } from "../store/store";
import { JobRunning } from "./JobParts";
import { useWriteFile, type WriteFileCost } from "./writeFileStore";

function CostList({ cost }: { cost: WriteFileCost }) {
  const c = cost.cost;
  if (!c) return null;
  return (
    <dl className="kv" aria-label="Cost">
      <PatchCostRows cost={c} />
      {cost.storage && <StorageCostRows storage={cost.storage} />}
    </dl>
  );
}

export function WriteFileDialog() {
  const { open, file, offsetText, estimate, run, hide, setFile, setOffsetText, refreshCost, start, cancel } =
    useWriteFile();
  const info = useApp((s) => s.info);
  const stage = useApp((s) => s.stage);
  const setTab = useApp((s) => s.setTab);
  const goTo = useApp((s) => s.goTo);
  const [dropping, setDropping] = useState(false);
  const size = info?.virtualSize ?? 0;
  const parsed = parseOffset(offsetText, info?.logicalSectorSize ?? 512, size);
  const offset = parsed.ok ? parsed.offset : null;
  const running = run.phase === "running";

  // The cost follows the file and the offset; the worker answers from the size alone.
  useEffect(() => {
    if (open && file && offset !== null && run.phase !== "running" && run.phase !== "done") void refreshCost(offset);
  }, [open, file, offset, run.phase, refreshCost, estimate]);

  const conflict = file && offset !== null ? stagedConflict(toPatch(stage), offset, file.size) : null;
  const ready = estimate.state === "ready" ? estimate.cost : null;
  const refusal = ready?.refusal ?? null;
  const why = !file
    ? "choose a file"
    : file.size === 0
      ? "the file is empty: nothing to write"
      : !parsed.ok
        ? null
        : estimate.state !== "ready"
          ? "wait for the cost"
          : null;
  const canWrite = !why && parsed.ok && !refusal && !conflict && !running && run.phase !== "done";

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDropping(false);
    const f = e.dataTransfer.files[0];
    if (f && !running) setFile(f);
  };

  return (
    <Dialog title="Write file into the disk" open={open} onClose={running ? cancel : hide}>
      <div
        className={`dialog-body write-file${dropping ? " dropping" : ""}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDropping(true);
        }}
        onDragLeave={() => setDropping(false)}
        onDrop={onDrop}
      >
        <form
          className="tool-form"
          aria-label="Write file"
          onSubmit={(e) => {
            e.preventDefault();
            if (canWrite && offset !== null) void start(offset);
          }}
        >
          <label htmlFor="wf-file">File</label>
          <span className="row-actions">
            <input id="wf-file" type="file" disabled={running} onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
          </span>
          <span className="hint">
            Or drop a file on this dialog. Its bytes replace the disk's bytes from the offset on.
          </span>
          <label htmlFor="wf-offset">Offset</label>
          <input
            id="wf-offset"
            value={offsetText}
            disabled={running}
            onChange={(e) => setOffsetText(e.target.value)}
            placeholder="4096, 0x1000, 1M, LBA 8"
            aria-invalid={parsed.ok ? undefined : true}
            spellCheck={false}
          />
          {!parsed.ok && <span className="field-error">{parsed.error}</span>}
          {file && (
            <>
              <span>Chosen</span>
              <span aria-label="Chosen file">
                <strong>{file.name}</strong>, {formatSize(file.size)} ({formatCount(file.size)} bytes)
              </span>
            </>
          )}
          {file && offset !== null && file.size > 0 && (
            <>
              <span>Target range</span>
              <span aria-label="Target range">
                <code>{hex(offset)}</code>–<code>{hex(offset + file.size - 1)}</code> (bytes {formatCount(offset)}–
                {formatCount(offset + file.size - 1)}, LBA {Math.floor(offset / (info?.logicalSectorSize ?? 512))}–
                {Math.floor((offset + file.size - 1) / (info?.logicalSectorSize ?? 512))})
              </span>
            </>
          )}
          <div className="full">
            {estimate.state === "costing" && <p role="status">Working out what the write will cost…</p>}
            {estimate.state === "failed" && (
              <p role="alert" className="danger">
                {estimate.message}
              </p>
            )}
            {ready && run.phase !== "done" && <CostList cost={ready} />}
            {refusal && (
              <div role="alert" className="danger" aria-label="Why the file cannot be written">
                <p>
                  <strong>Cannot write.</strong> {refusal.message}.
                </p>
              </div>
            )}
            {conflict && (
              <div role="alert" className="danger" aria-label="Staged edits in the way">
                <p>
                  <strong>Cannot write.</strong> {conflict}: the file would overwrite unsaved edits, or be written under
                  edits made against the image as it is now.
                </p>
              </div>
            )}
            {running && (
              <JobRunning
                label="Write progress"
                progress={run.progress}
                idle="Starting…"
                note="Cancelling before the last byte is staged leaves the image as it was. The commit itself is one log entry."
                onCancel={cancel}
                cancelLabel="Cancel write"
              />
            )}
            {run.phase === "done" && (
              <p role="status">
                Wrote {formatCount(run.result.bytes)} bytes of {run.name} at <code>{hex(run.offset)}</code> in one
                commit
                {run.result.blocksCopied ? `: ${plural(run.result.blocksCopied, "block")} copied on write` : ""}
                {run.result.blocksAllocated
                  ? `${run.result.blocksCopied ? "," : ":"} ${plural(run.result.blocksAllocated, "new payload block")}`
                  : ""}
                , {formatSize(run.result.bytesWritten)} written.
                {run.result.atomic
                  ? ""
                  : " The commit outgrew the browser's staging budget and reached the file in more than one step."}
                {run.lateCancel ? " The cancel came after the commit point: the write stands." : ""}
              </p>
            )}
            {run.phase === "done" &&
              run.result.notices?.map((n) => (
                <p key={n} role="note" className="notice">
                  Note: {n}.
                </p>
              ))}
            {run.phase === "error" && (
              <p role="alert" className="danger">
                {run.message}
              </p>
            )}
          </div>
          {!running && (
            <div className="dialog-actions full">
              {why && run.phase === "idle" && <span className="muted spacer">To write, {why}.</span>}
              {run.phase === "done" ? (
                <DoneActions
                  close={hide}
                  places={[
                    ["Show in hex", () => goTo("virtual", run.offset, run.result.bytes)],
                    ["Show BAT", () => setTab("BAT")],
                  ]}
                />
              ) : (
                <>
                  <button type="button" onClick={hide}>
                    Close
                  </button>
                  <button type="submit" className="primary" disabled={!canWrite}>
                    Write
                  </button>
                </>
              )}
            </div>
          )}
        </form>
      </div>
    </Dialog>
  );
}
