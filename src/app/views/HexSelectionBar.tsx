/**
 * The hex view's selection bar: where the selection starts and ends and how long it is, "Select
 * all", and "Copy as" in each clipboard format. Copied bytes come from the engine (the grid only
 * holds what is on screen) with the staged edits laid over them, as the grid shows them; the
 * formatting worker lays them over and builds the text, so the page keeps drawing meanwhile.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { COPY_FORMATS, MAX_COPY_BYTES, type CopyFormat } from "../lib/copyFormat";
import { stagedWritesIn } from "../lib/copyJob";
import { formatInWorker, writeAsciiToClipboard } from "../lib/copyWorker";
import type { EditStage } from "../lib/editStage";
import { formatSize } from "../lib/format";
import { describeRange, rangeLength, type ByteRange } from "../lib/hexSelection";
import type { ByteSpace } from "../store/engineApi";

/** A copy's note, for the range it was made for: it goes when the selection moves on, and a success note after a while. */
export type CopyNote = { kind: "ok" | "error" | "busy"; text: string; range?: ByteRange } | null;

/** How long "Copied …" stays when nothing else happens. */
export const COPY_NOTE_MS = 6000;

/** Why `r` cannot be copied, or null when it can. */
export function copyBlocker(r: ByteRange): string | null {
  const n = rangeLength(r);
  if (n <= MAX_COPY_BYTES) return null;
  return `The selection is ${formatSize(n)}; copying is limited to ${formatSize(MAX_COPY_BYTES)}. Select a smaller range to copy it.`;
}

/** Copying a range of the open space to the clipboard, with a note saying what happened. */
export function useHexCopy(
  space: ByteSpace,
  stage: EditStage,
  read: (space: ByteSpace, offset: number, length: number) => Promise<Uint8Array>,
): { copy: (r: ByteRange, format: CopyFormat) => Promise<void>; note: CopyNote } {
  const [note, setNote] = useState<CopyNote>(null);
  // The latest stage, so a copy started before an edit still lays the edits made up to its start.
  const stageRef = useRef(stage);
  stageRef.current = stage;
  const copy = useCallback(
    async (r: ByteRange, format: CopyFormat) => {
      const blocked = copyBlocker(r);
      if (blocked) {
        setNote({ kind: "error", text: blocked });
        return;
      }
      const n = rangeLength(r);
      const label = COPY_FORMATS.find((f) => f.format === format)?.label ?? format;
      const what = `${n} ${n === 1 ? "byte" : "bytes"}${n >= 1024 ? ` (${formatSize(n)})` : ""}`;
      setNote({ kind: "busy", text: `Copying ${what}: reading…` });
      try {
        const writes = stagedWritesIn(stageRef.current, space, r.start, n);
        const base = await read(space, r.start, n);
        if (base.length !== n) throw new Error(`the engine returned ${base.length} of ${n} bytes`);
        setNote({ kind: "busy", text: `Copying ${what}: formatting as ${label}…` });
        await writeAsciiToClipboard(await formatInWorker(format, base, r.start, space, writes));
        setNote({ kind: "ok", text: `Copied ${n} ${n === 1 ? "byte" : "bytes"} as ${label}.`, range: r });
      } catch (e) {
        setNote({ kind: "error", text: `Copy failed: ${e instanceof Error ? e.message : String(e)}` });
      }
    },
    [space, read],
  );
  useEffect(() => {
    if (note?.kind !== "ok") return;
    const timer = setTimeout(() => setNote((now) => (now === note ? null : now)), COPY_NOTE_MS);
    return () => clearTimeout(timer);
  }, [note]);
  return { copy, note };
}

export interface HexSelectionBarProps {
  /** The selection, or the byte under the cursor when nothing is selected. */
  range: ByteRange;
  selected: boolean;
  note: CopyNote;
  onCopy: (format: CopyFormat) => void;
  onSelectAll: () => void;
  onClear: () => void;
}

/** A success note belongs to the range copied: once the selection or cursor is elsewhere it is stale. */
function movedOn(note: NonNullable<CopyNote>, range: ByteRange): boolean {
  return !!note.range && (note.range.start !== range.start || note.range.end !== range.end);
}

export function HexSelectionBar(p: HexSelectionBarProps) {
  const blocked = copyBlocker(p.range);
  return (
    <div className="hex-selection" role="group" aria-label="Selection">
      <span className="hex-selection-status" aria-live="polite" data-testid="selection-status">
        {p.selected ? <>Selection {describeRange(p.range)}</> : <span className="muted">No selection</span>}
      </span>
      <button type="button" onClick={p.onSelectAll} title="Select the whole space (Ctrl+A)">
        Select all
      </button>
      {p.selected && (
        <button type="button" onClick={p.onClear} title="Clear the selection (Esc)">
          Clear
        </button>
      )}
      <span className="copy-as" role="group" aria-label="Copy as">
        <span className="muted">Copy as</span>
        {COPY_FORMATS.map((f) => (
          <button
            key={f.format}
            type="button"
            onClick={() => p.onCopy(f.format)}
            disabled={!!blocked}
            title={blocked ?? `Copy the ${p.selected ? "selection" : "byte at the cursor"} as ${f.description}`}
            aria-label={`Copy as ${f.label}`}
          >
            {f.label}
          </button>
        ))}
      </span>
      {blocked && p.selected && (
        <span className="copy-note error" role="note">
          {blocked}
        </span>
      )}
      {p.note && !(blocked && p.note.kind === "error") && !movedOn(p.note, p.range) && (
        <span className={`copy-note ${p.note.kind}`} role={p.note.kind === "error" ? "alert" : "status"}>
          {p.note.text}
        </span>
      )}
    </div>
  );
}
