/** The hex view: virtual disk or raw file, "Go to offset", "Write file…", block state, partition table notes, staged edits and Commit. */
import { useEffect, useMemo, useState } from "react";
import { toPatch } from "../lib/editStage";
import { formatSize, hex, plural } from "../lib/format";
import { hexByte } from "../lib/hexFormat";
import { partitionAnnotations, type Annotation } from "../lib/partitionTable";
import { engineClient } from "../store/engineConnection";
import { extentsIn, indexExtents } from "../lib/regionLayout";
import type { ByteSpace } from "../store/engineApi";
import { useApp } from "../store/store";
import { CommitDialog } from "./CommitDialog";
import { HexGrid } from "./HexGrid";
import { SectorSources } from "../toolbox/SectorSources";
import { useChain } from "../toolbox/chainStore";
import { useJob } from "../toolbox/jobStore";
import { selectionRange } from "../lib/hexSelection";
import { HexSelectionBar, useHexCopy } from "./HexSelectionBar";
import { WriteFileDialog } from "../toolbox/WriteFileDialog";
import { useWriteFile } from "../toolbox/writeFileStore";
import { OwnerAtCursor } from "../files/OwnerAtCursor";
import { FindBar } from "./FindBar";
import { SelectionTools } from "./SelectionTools";
import { fileProtectedRanges } from "../lib/protectedRanges";
import { ProtectedNote } from "../hex/ProtectedNote";
import { DataInspector } from "../hex/DataInspector";
import { Bookmarks } from "../hex/Bookmarks";
import { ByteSpaceSwitch, GotoForm } from "../hex/HexToolbarParts";
import { land, useHexNav } from "../hex/hexNav";
import { useGoto } from "../hex/useGoto";
import { inReplayed, rawRead, ReplayMarksBar, useReplayedRanges, useReplayMarks } from "./ReplayMarks";

const NO_ANNOTATIONS: Annotation[] = [];

const STATE_NAMES = [
  "NOT_PRESENT",
  "UNDEFINED",
  "ZERO",
  "UNMAPPED",
  "RESERVED_4",
  "RESERVED_5",
  "FULLY_PRESENT",
  "PARTIALLY_PRESENT",
];

export function HexView() {
  const {
    info,
    map,
    batWords,
    focus,
    stage,
    read,
    stageEdit,
    undo,
    redo,
    discardEdits,
    prepareCommit,
    commit,
    caps,
    editRefusal,
  } = useApp();
  const parentAttached = useChain((s) => s.locator?.attached ?? false);
  useReplayedRanges(info);
  const { mode: rawMode, view: replayed } = useReplayMarks();
  const gridRead = useMemo(
    () => rawRead(read, focus.space === "file" ? rawMode : "replayed"),
    [read, rawMode, focus.space],
  );
  const gridVersion = useMemo(() => ({ info, rawMode }), [info, rawMode]);
  const showJob = useJob((s) => s.show);
  const showWriteFile = useWriteFile((s) => s.show);
  const [annotations, setAnnotations] = useState<Annotation[]>([]);
  const space = focus.space;
  const size = info ? (space === "virtual" ? info.virtualSize : info.fileSize) : 0;
  const cursor = Math.min(focus.offset, Math.max(0, size - 1));
  const anchor = focus.anchor !== undefined ? Math.min(focus.anchor, Math.max(0, size - 1)) : undefined;
  const setCursor = (offset: number, s: ByteSpace = space, a?: number) =>
    useApp.setState({ focus: { space: s, offset, anchor: a } });
  const selection = selectionRange(cursor, anchor);
  const copyRange = selection ?? { start: cursor, end: cursor };
  const { copy, note: copyNote } = useHexCopy(space, stage, read);
  // The cursor at the start, so the view stays at the top of the space rather than its end.
  const selectAll = () => setCursor(0, space, Math.max(0, size - 1));
  const sectorSize = space === "virtual" ? (info?.logicalSectorSize ?? 512) : 4096;
  const chunkRatio = info ? (info.chunkRatio ?? (2 ** 23 * info.logicalSectorSize) / info.blockSize) : 1;

  // LBA 0–33 decoded by the worker once per image (and after commits) for the partition table annotation.
  useEffect(() => {
    const client = engineClient();
    if (!info || !client) return;
    let live = true;
    client.partitionArea().then(
      (t) => live && setAnnotations(partitionAnnotations(t, info.logicalSectorSize)),
      () => live && setAnnotations([]),
    );
    return () => {
      live = false;
    };
  }, [info]);

  const blockState = (offset: number): number | null => {
    if (!info || !batWords) return null;
    const block = Math.floor(offset / info.blockSize);
    const idx = block + Math.floor(block / chunkRatio); // §2.5: a sector bitmap entry follows each chunk
    return idx * 2 < batWords.length ? batWords[idx * 2] & 7 : null;
  };
  const resolveGoto = useGoto(info, space, cursor);
  const topRequest = useHexNav((s) => s.top);
  const extIndex = useMemo(() => (map ? indexExtents(map.extents) : null), [map]);
  if (!info) return null;

  const state = space === "virtual" ? blockState(cursor) : null;
  const owners = space === "file" && extIndex ? extentsIn(extIndex, cursor, cursor + 1, 3) : [];
  const patch = toPatch(stage);
  const commitBlocker = !caps.commit
    ? "This build's engine worker cannot commit edits yet"
    : info.logAwaitsReplay
      ? "The log must be replayed before the image can be edited"
      : info.readOnly
        ? `The image is open read-only${info.readOnlyReason ? `: ${info.readOnlyReason}` : ""}`
        : (editRefusal ?? undefined);
  const staged = patch.reduce((n, w) => n + w.data.length, 0);
  // A differencing image takes edits only over its parent (the worker refuses them otherwise).
  const parentMissing = info.diskType === "differencing" && !parentAttached;

  return (
    <div className="view hex">
      <div className="toolbar">
        <ByteSpaceSwitch space={space} onPick={(s) => setCursor(0, s)} />
        <GotoForm
          resolve={resolveGoto}
          placeholder="0x1000, LBA 8, +4 KiB, bat"
          title="Bytes (4096, 4 KiB), 0x… hex, LBA n; +/− a step from the cursor (+0x200, -1 sector, +2 blocks); a structure (bat, log, metadata, header 1, header 2, region table 1, file identifier) or a partition (partition 1, or its GPT name). Ctrl+G"
        />
        {space === "virtual" && (
          <button
            type="button"
            onClick={() => showWriteFile(selection ? selection.start : cursor)}
            title="Write the bytes of a local file into the virtual disk at an offset, as one commit"
          >
            Write file…
          </button>
        )}
        <span className="muted" aria-live="polite">
          <code>{hex(cursor)}</code> · LBA {Math.floor(cursor / sectorSize)} of {formatSize(size)}
          {state !== null && (
            <>
              {" "}
              · block {Math.floor(cursor / info.blockSize)}{" "}
              <span className={state === 6 || state === 7 ? "badge ok" : "badge"}>{STATE_NAMES[state]}</span>
              {state !== 6 && state !== 7 && " (reads as zeros)"}
            </>
          )}
          {owners.length > 0 && <> · in {owners.map((o) => o.name).join(", ")}</>}
        </span>
      </div>
      <FindBar
        space={space}
        cursor={cursor}
        selection={selection ? { start: selection.start, length: selection.end - selection.start + 1 } : null}
        onMatch={(o, n) => land(space, o, o + n - 1)}
      />
      {space === "file" && <ReplayMarksBar />}
      <HexSelectionBar
        range={copyRange}
        selected={selection !== null}
        note={copyNote}
        onCopy={(format) => void copy(copyRange, format)}
        onSelectAll={selectAll}
        onClear={() => setCursor(cursor)}
      />
      <SelectionTools space={space} range={copyRange} selected={selection !== null} stage={stage} onStage={stageEdit} />
      <div className="hex-main">
        <HexGrid
          space={space}
          size={size}
          sectorSize={sectorSize}
          cursor={cursor}
          anchor={anchor}
          version={gridVersion}
          stage={stage}
          annotations={space === "virtual" ? annotations : NO_ANNOTATIONS}
          isUnallocated={(o) => {
            if (space !== "virtual") return false;
            const s = blockState(o);
            return s !== null && s !== 6 && s !== 7;
          }}
          isReplayed={space === "file" ? (o) => inReplayed(replayed, o) : undefined}
          read={gridRead}
          onCursor={(o, a) => setCursor(o, space, a)}
          onCopy={() => void copy(copyRange, "hex")}
          onSelectAll={selectAll}
          onStage={stageEdit}
          topRequest={topRequest}
          protectedRanges={space === "file" ? fileProtectedRanges(info) : undefined}
          onUndo={undo}
          onRedo={redo}
        />
        <aside className="hex-side" aria-label="Edits and annotations">
          <OwnerAtCursor offset={cursor} active={space === "virtual"} />
          {space === "file" && <ProtectedNote ranges={fileProtectedRanges(info)} cursor={cursor} />}
          <SectorSources />
          <section aria-labelledby="edits-h">
            <h2 id="edits-h">Staged edits</h2>
            <div className="row-actions">
              <button type="button" onClick={undo} disabled={stage.writes.length === 0}>
                Undo
              </button>
              <button type="button" onClick={redo} disabled={stage.redo.length === 0}>
                Redo
              </button>
              <button type="button" onClick={discardEdits} disabled={stage.writes.length === 0}>
                Discard
              </button>
              <button
                type="button"
                className="primary"
                onClick={() => void prepareCommit()}
                disabled={staged === 0 || !!commitBlocker || commit.phase === "running"}
                title={commitBlocker}
              >
                Commit
              </button>
            </div>
            {patch.length === 0 ? (
              <p className="muted">No edits. Type hex digits (or text, after choosing text) or paste at the cursor.</p>
            ) : (
              <ul className="edit-list" aria-label="Staged writes">
                {patch.map((w) => (
                  <li key={`${w.space}:${w.offset}`}>
                    <button type="button" className="link" onClick={() => setCursor(w.offset, w.space)}>
                      {w.space} {hex(w.offset)}
                    </button>{" "}
                    {w.data.length} B{" "}
                    <code>
                      {Array.from(w.data.subarray(0, 8), hexByte).join(" ")}
                      {w.data.length > 8 ? " …" : ""}
                    </code>
                  </li>
                ))}
              </ul>
            )}
            <p className="muted small">
              {plural(staged, "byte")} staged in {plural(stage.writes.length, "step")}.
            </p>
            {commitBlocker && (
              <p className="edit-blocker" role="note" aria-label="Why edits cannot be committed">
                <strong>Cannot commit.</strong> {commitBlocker.charAt(0).toUpperCase()}
                {commitBlocker.slice(1)}.
                {parentMissing && (
                  <>
                    {" "}
                    <button type="button" className="link" onClick={() => showJob("chain")}>
                      Attach the parent…
                    </button>
                  </>
                )}
              </p>
            )}
          </section>
          <DataInspector space={space} cursor={cursor} size={size} />
          <Bookmarks space={space} cursor={cursor} />
          {space === "virtual" && annotations.length > 0 && (
            <section aria-labelledby="pt-h">
              <h2 id="pt-h">Partition table (LBA 0–33)</h2>
              <ul className="annotations">
                {annotations.map((a) => (
                  <li key={a.start}>
                    <button type="button" className="link" onClick={() => setCursor(a.start)}>
                      {hex(a.start)}
                    </button>{" "}
                    {a.label}
                  </li>
                ))}
              </ul>
            </section>
          )}
        </aside>
      </div>
      <CommitDialog />
      <WriteFileDialog />
    </div>
  );
}
