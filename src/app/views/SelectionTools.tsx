/**
 * What the hex view does with a selection besides copying it: "Save selection…" streams its
 * bytes from the engine worker to a file chosen in the save picker (which asks before replacing
 * one) or, without a picker, to a download, with no size cap; "Fill…" stages a byte or a repeated
 * pattern over it as one edit, undone and committed like typed edits.
 */
import { useRef, useState } from "react";
import { stagedWritesIn } from "../lib/copyJob";
import type { EditStage, StagedWrite } from "../lib/editStage";
import { fillBytes } from "../lib/fill";
import { formatSize, hex } from "../lib/format";
import { rangeLength, type ByteRange } from "../lib/hexSelection";
import { downloadBlob } from "../engine/client";
import { engineClient } from "../store/engineConnection";
import type { ByteSpace } from "../store/engineApi";
import { errorText } from "../toolbox/checkStore";
import { pickSaveFile } from "../toolbox/pickers";

export interface SelectionToolsProps {
  space: ByteSpace;
  range: ByteRange;
  selected: boolean;
  stage: EditStage;
  onStage: (w: Omit<StagedWrite, "time">) => void;
}

type SaveState =
  | { phase: "idle" }
  | { phase: "running"; fraction: number }
  | { phase: "done"; text: string }
  | { phase: "error"; text: string };

export function SelectionTools(p: SelectionToolsProps) {
  const [save, setSave] = useState<SaveState>({ phase: "idle" });
  const [filling, setFilling] = useState(false);
  const [pattern, setPattern] = useState("00");
  const [fillError, setFillError] = useState<string | null>(null);
  const abort = useRef<AbortController | null>(null);
  const n = rangeLength(p.range);

  const saveSelection = async () => {
    const client = engineClient();
    if (!client || abort.current) return;
    const { space, range, stage } = p;
    const suggested = `${space === "virtual" ? "disk" : "file"}-${hex(range.start)}-${n}.bin`;
    // The save picker is asked from the click, and itself asks before replacing a file; a browser without it downloads.
    let handle: FileSystemFileHandle | null;
    try {
      handle = await pickSaveFile(suggested, []);
    } catch (e) {
      setSave({ phase: "error", text: errorText(e) });
      return;
    }
    const hasPicker = typeof (globalThis as { showSaveFilePicker?: unknown }).showSaveFilePicker === "function";
    if (hasPicker && !handle) return;
    const ctl = new AbortController();
    abort.current = ctl;
    setSave({ phase: "running", fraction: 0 });
    try {
      const writes = stagedWritesIn(stage, space, range.start, n);
      const r = await client.call(
        "saveRange",
        [space, range.start, n, handle ? { kind: "handle", handle } : { kind: "download" }, writes],
        { signal: ctl.signal, onProgress: (e) => setSave({ phase: "running", fraction: e.fraction }) },
      );
      if (r.blob) downloadBlob(r.blob, suggested);
      setSave({ phase: "done", text: `Saved ${formatSize(r.bytes)} to ${handle ? handle.name : suggested}.` });
    } catch (e) {
      setSave(ctl.signal.aborted ? { phase: "idle" } : { phase: "error", text: `Save failed: ${errorText(e)}` });
    } finally {
      abort.current = null;
    }
  };

  const fill = () => {
    const r = fillBytes(pattern, n);
    if (!r.ok) {
      setFillError(r.error);
      return;
    }
    setFillError(null);
    setFilling(false);
    p.onStage({ space: p.space, offset: p.range.start, data: r.data, kind: "paste" });
  };

  // Always shown, so the grid below never moves when a selection starts or ends (a drag measures it).
  return (
    <div className="selection-tools" role="group" aria-label="Selection tools">
      <button type="button" onClick={() => void saveSelection()} disabled={!p.selected || save.phase === "running"}>
        Save selection…
      </button>
      {save.phase === "running" && (
        <>
          <progress max={1} value={save.fraction} aria-label="Save progress" />
          <button type="button" onClick={() => abort.current?.abort()}>
            Cancel
          </button>
        </>
      )}
      {save.phase === "done" && (
        <span className="copy-note ok" role="status">
          {save.text}
        </span>
      )}
      {save.phase === "error" && (
        <span className="copy-note error" role="alert">
          {save.text}
        </span>
      )}
      {!filling || !p.selected ? (
        <button
          type="button"
          onClick={() => setFilling(true)}
          disabled={!p.selected}
          title="Stage a byte or a pattern over the selection"
        >
          Fill…
        </button>
      ) : (
        <form
          className="fill-form"
          onSubmit={(e) => {
            e.preventDefault();
            fill();
          }}
        >
          <label htmlFor="fill-input">Fill with</label>
          <input
            id="fill-input"
            value={pattern}
            onChange={(e) => setPattern(e.target.value)}
            spellCheck={false}
            placeholder="00 or DE AD BE EF"
            aria-invalid={fillError ? true : undefined}
            autoFocus
          />
          <button type="submit">Fill</button>
          <button type="button" onClick={() => setFilling(false)}>
            Cancel
          </button>
          {fillError && (
            <span className="copy-note error" role="alert">
              {fillError}
            </span>
          )}
        </form>
      )}
      {!p.selected && (
        <span className="disabled-reason">Select bytes (drag, or Shift+click) to save or fill them.</span>
      )}
    </div>
  );
}
