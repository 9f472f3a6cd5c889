/**
 * The hex view of a VHD: the same grid, selection, Go to, Find, data inspector and bookmarks as
 * a VHDX's (HexGrid and src/app/hex), over the VHD's virtual disk or its file, read through the
 * worker. Read-only: typing is refused with the reason, as the store refuses every VHD edit.
 */
import { useMemo } from "react";
import type { VhdInfo } from "../../vhd/info";
import { Bookmarks } from "../hex/Bookmarks";
import { DataInspector } from "../hex/DataInspector";
import { ByteSpaceSwitch, GotoForm } from "../hex/HexToolbarParts";
import { land, useHexNav } from "../hex/hexNav";
import { useGotoIn, type GotoDisk } from "../hex/useGoto";
import { formatSize, hex } from "../lib/format";
import type { NamedTarget } from "../lib/gotoTarget";
import { selectionRange } from "../lib/hexSelection";
import type { ByteSpace } from "../store/engineApi";
import { useApp } from "../store/store";
import { FindBar } from "./FindBar";
import { HexGrid } from "./HexGrid";
import { HexSelectionBar, useHexCopy } from "./HexSelectionBar";

const NONE: never[] = [];

/** The VHD's structures by name, for Go to: the footer and its copy, the dynamic disk header, the BAT. */
function vhdStructures(info: VhdInfo): NamedTarget[] {
  const t = (names: string[], offset: number, label: string): NamedTarget => ({ names, space: "file", offset, label });
  const out = [t(["footer"], info.footer.offset, "footer")];
  if (info.footerCopy) out.push(t(["footer copy", "copy"], 0, "footer copy"));
  if (info.dynamicHeader) out.push(t(["dynamic header", "header"], info.dynamicHeader.offset, "dynamic disk header"));
  if (info.bat) out.push(t(["bat"], info.bat.offset, "BAT"));
  return out;
}

export function VhdHexView({ info, chainKey }: { info: VhdInfo; chainKey: number }) {
  const { focus, stage, read, stageEdit, undo, redo, stageRefusal } = useApp();
  const space = focus.space;
  const size = space === "virtual" ? info.virtualSize : info.fileSize;
  const cursor = Math.min(focus.offset, Math.max(0, size - 1));
  const anchor = focus.anchor !== undefined ? Math.min(focus.anchor, Math.max(0, size - 1)) : undefined;
  const setCursor = (offset: number, s: ByteSpace = space, a?: number) =>
    useApp.setState({ focus: { space: s, offset, anchor: a } });
  const selection = selectionRange(cursor, anchor);
  const copyRange = selection ?? { start: cursor, end: cursor };
  const { copy, note: copyNote } = useHexCopy(space, stage, read);
  const selectAll = () => setCursor(0, space, Math.max(0, size - 1));
  const disk: GotoDisk = useMemo(
    () => ({
      virtualSize: info.virtualSize,
      fileSize: info.fileSize,
      logicalSectorSize: 512,
      blockSize: info.blockSize || 2 * 1024 * 1024,
      structures: vhdStructures(info),
    }),
    [info],
  );
  const resolveGoto = useGotoIn(disk, space, cursor);
  const topRequest = useHexNav((s) => s.top);
  // A parent attached changes what the virtual disk reads: the grid reads again.
  const version = useMemo(() => ({ info, chainKey }), [info, chainKey]);
  const sectorSize = space === "virtual" ? 512 : 4096;

  return (
    <div className="view hex">
      <div className="toolbar">
        <ByteSpaceSwitch space={space} onPick={(s) => setCursor(0, s)} />
        <GotoForm
          resolve={resolveGoto}
          placeholder="0x1000, LBA 8, +4 KiB, footer"
          title="Bytes (4096, 4 KiB), 0x… hex, LBA n; +/− a step from the cursor; a structure (footer, footer copy, dynamic header, bat) or a partition. Ctrl+G"
        />
        <span className="muted" aria-live="polite">
          <code>{hex(cursor)}</code> · LBA {Math.floor(cursor / sectorSize)} of {formatSize(size)} · read-only
        </span>
      </div>
      <FindBar
        space={space}
        cursor={cursor}
        selection={selection ? { start: selection.start, length: selection.end - selection.start + 1 } : null}
        onMatch={(o, n) => land(space, o, o + n - 1)}
      />
      <HexSelectionBar
        range={copyRange}
        selected={selection !== null}
        note={copyNote}
        onCopy={(format) => void copy(copyRange, format)}
        onSelectAll={selectAll}
        onClear={() => setCursor(cursor)}
      />
      <div className="hex-main">
        <HexGrid
          space={space}
          size={size}
          sectorSize={sectorSize}
          cursor={cursor}
          anchor={anchor}
          version={version}
          stage={stage}
          annotations={NONE}
          isUnallocated={() => false}
          read={read}
          onCursor={(o, a) => setCursor(o, space, a)}
          onCopy={() => void copy(copyRange, "hex")}
          onSelectAll={selectAll}
          onStage={stageEdit}
          topRequest={topRequest}
          onUndo={undo}
          onRedo={redo}
        />
        <aside className="hex-side" aria-label="Inspector and bookmarks">
          {stageRefusal && (
            <p className="edit-blocker" role="note" aria-label="Why edits are refused">
              {stageRefusal}
            </p>
          )}
          <DataInspector space={space} cursor={cursor} size={size} />
          <Bookmarks space={space} cursor={cursor} />
        </aside>
      </div>
    </div>
  );
}
