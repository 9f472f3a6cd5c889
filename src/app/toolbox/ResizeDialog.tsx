/**
 * "Resize…": a new virtual size (the same suffixes as everywhere: 64G, 500M), its cost before
 * anything is written, what a shrink would cut inside the disk, then progress and cancel up to the
 * commit. The partitions and file systems inside the disk are not touched.
 */
import { useState } from "react";
import { Dialog } from "../components/Dialog";
import { formatCount, formatSize, hex } from "../lib/format";
import { useApp } from "../store/store";
import { JobRunning } from "./JobParts";
import { useResize } from "./resizeStore";
import { MAX_VIRTUAL_SIZE, parseSize } from "./sizeInput";

/** What is wrong with the typed size, or null. */
function sizeProblem(size: number | null, sectorSize: number): string | null {
  if (size === null) return "a size such as 64G, 500M or 1T";
  if (size < sectorSize || size > MAX_VIRTUAL_SIZE) return `from one sector (${sectorSize} bytes) up to 64 TiB`;
  if (size % sectorSize !== 0) return `a multiple of the logical sector size, ${sectorSize} bytes (§2.6.2.2)`;
  return null;
}

export function ResizeDialog() {
  const { open, state, hide, cost, resize, cancel } = useResize();
  const info = useApp((s) => s.info);
  const [text, setText] = useState("");
  const [force, setForce] = useState(false);
  const sectorSize = info?.logicalSectorSize ?? 512;
  const size = parseSize(text);
  const problem = text ? sizeProblem(size, sectorSize) : null;
  const running = state.phase === "resizing";
  const c = state.phase === "cost" ? state.cost : null;
  const plan = c?.plan ?? null;
  const shrink = plan !== null && plan.to < plan.from;

  return (
    <Dialog title="Resize the virtual disk" open={open} onClose={running ? cancel : hide}>
      <div className="dialog-body">
        <form
          className="tool-form"
          aria-label="Resize"
          onSubmit={(e) => {
            e.preventDefault();
            if (size !== null && !problem && !running) void cost(size);
          }}
        >
          <span>Now</span>
          <span aria-label="Current size">
            {info ? `${formatSize(info.virtualSize)} (${formatCount(info.virtualSize)} bytes)` : "—"}
          </span>
          <label htmlFor="rs-size">New size</label>
          <input
            id="rs-size"
            value={text}
            disabled={running}
            onChange={(e) => setText(e.target.value)}
            placeholder="64G, 500M, 1T"
            aria-invalid={problem ? true : undefined}
            spellCheck={false}
          />
          {problem && <span className="field-error">{problem}</span>}
          <label htmlFor="rs-force">Drop data past a shrunk end</label>
          <input
            id="rs-force"
            type="checkbox"
            checked={force}
            disabled={running}
            onChange={(e) => setForce(e.target.checked)}
          />
          <p className="hint full">
            Only the disk's size changes. The partitions and file systems inside are not touched: shrink a file system
            before shrinking the disk, and grow it after growing the disk.
          </p>
          <div className="full">
            {state.phase === "costing" && <p role="status">Working out what the resize will change…</p>}
            {c && c.problems.length > 0 && (
              <div role="alert" className="danger" aria-label="Why the disk cannot be resized">
                <p>
                  <strong>Cannot resize.</strong> {c.problems.join("; ")}
                </p>
              </div>
            )}
            {plan && (
              <dl className="kv" aria-label="Cost">
                <dt>Size</dt>
                <dd>
                  {formatSize(plan.from)} → {formatSize(plan.to)}
                </dd>
                <dt>BAT entries changed</dt>
                <dd>{formatCount(plan.batEntriesChanged)}</dd>
                <dt>BAT region</dt>
                <dd>
                  {plan.bat.moved
                    ? `moves to ${hex(plan.bat.to.offset)} (${formatSize(plan.bat.to.length)}); the region table changes`
                    : plan.bat.to.length !== plan.bat.from.length
                      ? `grows in place to ${formatSize(plan.bat.to.length)}; the region table changes`
                      : "unchanged"}
                </dd>
                <dt>Log entry</dt>
                <dd>{formatCount(plan.logSectors)} sectors of 4 KiB, one commit</dd>
                <dt>Written outside the log</dt>
                <dd>{formatSize(plan.directBytes)}</dd>
                {plan.blocksAllocated > 0 && (
                  <>
                    <dt>New blocks</dt>
                    <dd>{formatCount(plan.blocksAllocated)} (zeros)</dd>
                  </>
                )}
                {plan.blocksDropped > 0 && (
                  <>
                    <dt>Blocks dropped</dt>
                    <dd>{formatCount(plan.blocksDropped)} past the new end</dd>
                  </>
                )}
                <dt>File size after</dt>
                <dd>{formatSize(plan.fileSize)}</dd>
              </dl>
            )}
            {shrink && c && c.cuts.length > 0 && (
              <div role="alert" className="danger" aria-label="Cut by the shrink">
                <p>
                  <strong>Warning:</strong> the shrink cuts what the disk holds; resizing changes no partition or file
                  system.
                </p>
                <ul>
                  {c.cuts.map((v) => (
                    <li key={`${v.number}-${v.start}`}>
                      {v.what} ends at <code>{hex(v.end)}</code>, past the new end <code>{hex(plan.to)}</code>
                    </li>
                  ))}
                </ul>
              </div>
            )}
            {running && (
              <JobRunning
                label="Resize progress"
                progress={state.progress}
                idle="Starting…"
                note="Cancelling before the commit leaves the image as it was."
                onCancel={cancel}
              />
            )}
            {state.phase === "done" && (
              <p role="status">
                Resized to {formatSize(state.report.plan.to)} ({formatCount(state.report.plan.to)} bytes) in one commit.
                {state.report.atomic
                  ? ""
                  : " The commit outgrew the browser's staging budget and reached the file in more than one step."}
              </p>
            )}
            {state.phase === "error" && (
              <p role="alert" className="danger">
                {state.message}
              </p>
            )}
          </div>
          {!running && (
            <div className="dialog-actions full">
              {state.phase === "done" ? (
                <button type="button" className="primary" onClick={hide} autoFocus>
                  Close
                </button>
              ) : (
                <>
                  <button type="submit" disabled={size === null || problem !== null || state.phase === "costing"}>
                    Show the cost
                  </button>
                  <button
                    type="button"
                    className="primary"
                    disabled={!plan || c!.problems.length > 0 || plan.to !== size}
                    onClick={() => void resize(force)}
                  >
                    Resize
                  </button>
                  <button type="button" onClick={hide}>
                    Close
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
