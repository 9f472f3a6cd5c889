/**
 * One row of the hex grid: offset, 16 hex cells, 16 text cells. Memoised on plain values (its
 * cursor column, its share of the selection), so moving the cursor or growing a selection redraws
 * only the rows whose share changed, not every row on screen. Cells carry their offset in
 * `data-off`; the grid handles the mouse for all of them.
 */
import { memo } from "react";
import { asciiChar, formatOffset, hexByte } from "../lib/hexFormat";
import type { Annotation } from "../lib/partitionTable";

/** The window of bytes on screen, staged edits laid over it (1 in `staged` where a byte is staged). */
export interface ShownBytes {
  offset: number;
  bytes: Uint8Array;
  staged: Uint8Array;
}

export interface HexRowProps {
  rowOffset: number;
  /** Bytes in this row (fewer than 16 only in the last row of the space). */
  count: number;
  digits: number;
  sectorSize: number;
  unallocated: boolean;
  /** The row's bytes come from the log's in-memory replay. */
  replayed?: boolean;
  shown: ShownBytes | null;
  /** Column of the cursor in this row, -1 when elsewhere. */
  cursorColumn: number;
  pane: "hex" | "text";
  /** Selected columns of this row, both included; -1 when none. */
  selFirst: number;
  selLast: number;
  annotations: readonly Annotation[];
  /** Bit i set: column i lies in a protected range (typing there is refused). */
  protectedMask: number;
  /** Why, for the tooltip. */
  protectedTitle: string | undefined;
}

function HexRowView(p: HexRowProps) {
  const { rowOffset, shown } = p;
  const hexCells = [];
  const textCells = [];
  for (let i = 0; i < p.count; i++) {
    const off = rowOffset + i;
    const at = shown ? off - shown.offset : -1;
    const inWindow = shown !== null && at >= 0 && at < shown.bytes.length;
    const b = inWindow ? shown.bytes[at] : undefined;
    const staged = inWindow && shown.staged[at] === 1;
    const selected = i >= p.selFirst && i <= p.selLast && p.selFirst >= 0;
    const ann = off < 0x10000 ? p.annotations.find((a) => off >= a.start && off < a.start + a.length) : undefined;
    const isCursor = i === p.cursorColumn;
    const prot = (p.protectedMask >> i) & 1 ? "prot" : "";
    // The same byte in both columns: the cursor is solid in the pane that has the focus.
    const states = (pane: "hex" | "text") => [
      isCursor ? (p.pane === pane ? "cursor" : "cursor-alt") : "",
      selected ? "sel" : "",
      staged ? "staged" : "",
    ];
    hexCells.push(
      <span
        key={i}
        data-off={off}
        className={["hx", ...states("hex"), prot, ann ? "annotated" : "", i === 8 ? "mid" : ""].join(" ")}
        title={ann?.label ?? (prot ? p.protectedTitle : undefined)}
      >
        {b === undefined ? "··" : hexByte(b)}
      </span>,
    );
    textCells.push(
      <span
        key={i}
        data-off={off}
        className={["ax", ...states("text"), prot].join(" ")}
        title={prot ? p.protectedTitle : undefined}
      >
        {b === undefined ? " " : asciiChar(b)}
      </span>,
    );
  }
  const sectorStart = rowOffset % p.sectorSize === 0;
  return (
    <div
      className={[
        "hex-row",
        p.unallocated ? "unalloc" : "",
        p.replayed ? "replayed" : "",
        sectorStart ? "sector-start" : "",
      ].join(" ")}
    >
      <span className="hex-off" title={sectorStart ? `LBA ${Math.floor(rowOffset / p.sectorSize)}` : undefined}>
        {formatOffset(rowOffset, p.digits)}
      </span>
      <span className="hex-bytes" data-pane="hex">
        {hexCells}
      </span>
      <span className="hex-ascii" data-pane="text">
        {textCells}
      </span>
    </div>
  );
}

export const HexRow = memo(HexRowView);
