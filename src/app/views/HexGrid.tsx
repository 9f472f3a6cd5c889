/**
 * The virtualised hex + ASCII grid. Only the rows on screen exist; the scroll position is a row
 * number (a 64 TiB disk has 2^42 rows, far past what a scrolling element can hold), moved by the
 * wheel, the keyboard and a range input. Bytes come from the engine through the store; staged
 * edits are laid over them.
 */
import {
  useEffect,
  useMemo,
  useRef,
  useState,
  type ClipboardEvent,
  type KeyboardEvent,
  type MouseEvent as ReactMouseEvent,
} from "react";
import { overlay, type EditStage, type StagedWrite } from "../lib/editStage";
import { BYTES_PER_ROW, hexByte, offsetDigits, parseHexBytes, rowCount, textBytes } from "../lib/hexFormat";
import { rowColumns, selectionRange } from "../lib/hexSelection";
import type { Annotation } from "../lib/partitionTable";
import type { ByteSpace } from "../store/engineApi";
import { HexRow, type ShownBytes } from "./HexRow";
import { protectedAt, type ProtectedRange } from "../lib/protectedRanges";
import type { TopRequest } from "../hex/hexNav";
import { ROW_H, cellAt, useHexDrag } from "./useHexDrag";

export interface HexGridProps {
  space: ByteSpace;
  size: number;
  sectorSize: number;
  cursor: number;
  /** The other end of the selection (the cursor is one end); undefined when nothing is selected. */
  anchor: number | undefined;
  /** Bumps when the image changed (commit, replay), so the window is read again. */
  version: unknown;
  stage: EditStage;
  annotations: Annotation[];
  isUnallocated: (offset: number) => boolean;
  /** Rows whose bytes come from the log's in-memory replay (raw file view). */
  isReplayed?: (offset: number) => boolean;
  read: (space: ByteSpace, offset: number, length: number) => Promise<Uint8Array>;
  /** Moves the cursor; with `anchor` the bytes between them are selected. */
  onCursor: (offset: number, anchor?: number) => void;
  /** Ctrl/Cmd+C (or the browser's copy): the selection, or the byte under the cursor. */
  onCopy: () => void;
  /** Ctrl/Cmd+A. */
  onSelectAll: () => void;
  /** Stages a write; returns why it was refused (nothing staged), or null. */
  onStage: (w: Omit<StagedWrite, "time">) => string | null;
  /** Ranges typing may not touch (the raw file's protected ranges), shaded; sorted and disjoint. */
  protectedRanges?: readonly ProtectedRange[];
  /** A jump (Go to, a bookmark): the row holding `offset` goes to the top of the view. */
  topRequest?: TopRequest | null;
  onUndo: () => void;
  onRedo: () => void;
}

export function HexGrid(p: HexGridProps) {
  const { space, size, cursor, anchor, stage, annotations } = p;
  const wrap = useRef<HTMLDivElement>(null);
  const [visible, setVisible] = useState(24);
  const [topRow, setTopRow] = useState(0);
  const [data, setData] = useState<{ space: ByteSpace; offset: number; bytes: Uint8Array } | null>(null);
  const [pane, setPane] = useState<"hex" | "text">("hex");
  const wheelAcc = useRef(0);
  const pendingKeys = useRef<string[]>([]);
  const totalRows = rowCount(size);
  const maxTop = Math.max(0, totalRows - visible);
  const digits = offsetDigits(size);

  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setVisible(Math.max(4, Math.floor((el.clientHeight - ROW_H) / ROW_H))));
    ro.observe(el);
    const wheel = (e: WheelEvent) => {
      // Sideways (a narrow view scrolls the columns) is the browser's own scrolling.
      if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) return;
      e.preventDefault();
      wheelAcc.current += e.deltaMode === 1 ? e.deltaY * ROW_H : e.deltaY;
      const rows = Math.trunc(wheelAcc.current / ROW_H);
      if (rows !== 0) {
        wheelAcc.current -= rows * ROW_H;
        setTopRow((t) => t + rows);
      }
    };
    el.addEventListener("wheel", wheel, { passive: false });
    return () => {
      ro.disconnect();
      el.removeEventListener("wheel", wheel);
    };
  }, []);

  const top = Math.max(0, Math.min(maxTop, topRow));
  useEffect(() => {
    if (top !== topRow) setTopRow(top);
  }, [top, topRow]);

  // Keep the cursor on screen when it moves (typing, keys, "Go to offset").
  useEffect(() => {
    const row = Math.floor(cursor / BYTES_PER_ROW);
    // One row past an edge scrolls by a row (arrow keys); further, the cursor's row comes on top.
    setTopRow((t) => (row < t ? row : row === t + visible ? row - visible + 1 : row > t + visible ? row : t));
  }, [cursor, visible]);
  // After the effect above, so a jump's row (Go to, a bookmark, a Find match) wins over "just keep
  // the cursor on screen".
  // A jump made before this grid was mounted is history, not a request.
  const jump = p.topRequest;
  const seenJump = useRef(jump?.seq);
  useEffect(() => {
    if (!jump || jump.seq === seenJump.current) return;
    seenJump.current = jump.seq;
    if (jump.space === space) setTopRow(Math.floor(jump.offset / BYTES_PER_ROW));
  }, [jump, space]);

  const start = top * BYTES_PER_ROW;
  const length = Math.max(0, Math.min(visible * BYTES_PER_ROW, size - start));
  useEffect(() => {
    let live = true;
    p.read(space, start, length).then(
      (bytes) => live && setData({ space, offset: start, bytes }),
      () => live && setData(null),
    );
    return () => {
      live = false;
    };
    // p.read is the store's stable action.
  }, [space, start, length, p.version]);

  // The last window read stays on screen while the next one loads, so scrolling never blanks
  // the rows both windows share.
  const shown = useMemo((): ShownBytes | null => {
    if (!data || data.space !== space) return null;
    return { offset: data.offset, ...overlay(stage, space, data.offset, data.bytes) };
  }, [data, stage, space]);

  const byteAt = (off: number): number | undefined =>
    shown && off >= shown.offset && off < shown.offset + shown.bytes.length
      ? shown.bytes[off - shown.offset]
      : undefined;

  // Keys can arrive faster than React renders: the cursor, the selection's anchor, the nibble and
  // the byte being typed live in refs so each keystroke sees the previous one's effect.
  const live = useRef({
    cursor,
    anchor,
    nibble: 0,
    typed: null as { offset: number; value: number } | null,
  });
  // The store updates synchronously, so a render never sees an older cursor than the last move:
  // a different cursor here came from outside (Go to offset, a click, another view).
  if (live.current.cursor !== cursor || live.current.anchor !== anchor) {
    live.current = { cursor, anchor, nibble: 0, typed: null };
    pendingKeys.current = [];
  }
  /** Moves the cursor; `extend` keeps (or starts, at the old cursor) the selection's anchor. */
  const move = (to: number, extend = false) => {
    const c = Math.max(0, Math.min(size - 1, to));
    const a = extend ? (live.current.anchor ?? live.current.cursor) : undefined;
    live.current = { cursor: c, anchor: a, nibble: 0, typed: null };
    p.onCursor(c, a);
  };

  const drag = useHexDrag({
    wrap,
    size,
    top,
    visible,
    cursor: () => live.current.cursor,
    extend: (c, a) => {
      if (c === live.current.cursor && live.current.anchor === a) return;
      live.current = { cursor: c, anchor: a, nibble: 0, typed: null };
      p.onCursor(c, a);
    },
    scroll: setTopRow,
  });

  const onMouseDown = (e: ReactMouseEvent<HTMLDivElement>) => {
    if (e.button !== 0) return;
    const cell = cellAt(e.target);
    if (!cell) return;
    e.preventDefault(); // no native text selection; keep the focus on the grid
    setPane(cell.pane);
    wrap.current?.focus();
    if (e.shiftKey) {
      move(cell.off, true);
      return;
    }
    drag.start(cell.off);
    move(cell.off);
  };
  const write = (data: Uint8Array, kind: "type" | "paste") => {
    const at = live.current.cursor;
    const clipped = data.subarray(0, Math.max(0, size - at));
    if (clipped.length && p.onStage({ space, offset: at, data: clipped, kind }) !== null) return -1;
    return clipped.length;
  };

  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const k = e.key;
    const mod = e.ctrlKey || e.metaKey;
    if (mod && (k === "z" || k === "Z")) {
      e.preventDefault();
      if (e.shiftKey) p.onRedo();
      else p.onUndo();
      return;
    }
    if (mod && (k === "y" || k === "Y")) {
      e.preventDefault();
      p.onRedo();
      return;
    }
    if (mod && (k === "c" || k === "C")) {
      e.preventDefault();
      p.onCopy();
      return;
    }
    if (mod && (k === "a" || k === "A")) {
      e.preventDefault();
      p.onSelectAll();
      return;
    }
    if (k === "Escape" && live.current.anchor !== undefined) {
      e.preventDefault();
      move(live.current.cursor);
      return;
    }
    const nav: Record<string, number> = {
      ArrowRight: 1,
      ArrowLeft: -1,
      ArrowDown: BYTES_PER_ROW,
      ArrowUp: -BYTES_PER_ROW,
      PageDown: BYTES_PER_ROW * visible,
      PageUp: -BYTES_PER_ROW * visible,
    };
    // Shift with any movement key extends the selection from where the cursor was.
    const extend = e.shiftKey;
    const at = live.current.cursor;
    if (k in nav) {
      e.preventDefault();
      move(at + nav[k], extend);
      return;
    }
    if (k === "Home") {
      e.preventDefault();
      move(mod ? 0 : at - (at % BYTES_PER_ROW), extend);
      return;
    }
    if (k === "End") {
      e.preventDefault();
      move(mod ? size - 1 : at - (at % BYTES_PER_ROW) + BYTES_PER_ROW - 1, extend);
      return;
    }
    if (mod || e.altKey || k.length !== 1) return;
    if (pane === "hex" ? !/^[0-9a-fA-F]$/.test(k) : !textBytes(k)) return;
    e.preventDefault();
    // A key typed before the bytes under the cursor arrived waits for them, in order.
    if (pendingKeys.current.length > 0 || !typeKey(k)) pendingKeys.current.push(k);
  };

  /** Applies one typed character at the cursor; false when the byte there is not loaded yet. */
  const typeKey = (k: string): boolean => {
    const at = live.current.cursor;
    if (pane === "hex") {
      const typed = live.current.typed;
      const cur = typed && typed.offset === at ? typed.value : byteAt(at);
      if (cur === undefined) return false;
      const v = parseInt(k, 16);
      const first = live.current.nibble === 0;
      const next = first ? (v << 4) | (cur & 0x0f) : (cur & 0xf0) | v;
      if (write(Uint8Array.of(next), "type") < 0) return true; // refused: the cursor stays
      if (first)
        live.current = { cursor: at, anchor: live.current.anchor, nibble: 1, typed: { offset: at, value: next } };
      else move(at + 1);
    } else {
      if (write(textBytes(k) as Uint8Array, "type") < 0) return true;
      move(at + 1);
    }
    return true;
  };

  useEffect(() => {
    const q = pendingKeys.current;
    while (q.length > 0 && typeKey(q[0])) q.shift();
  });

  const onPaste = (e: ClipboardEvent<HTMLDivElement>) => {
    const text = e.clipboardData.getData("text/plain");
    if (!text) return;
    e.preventDefault();
    const bytes = (pane === "hex" ? parseHexBytes(text) : null) ?? textBytes(text);
    if (!bytes) return;
    const n = write(bytes, "paste");
    if (n > 0) move(live.current.cursor + n);
  };

  const sel = selectionRange(cursor, anchor);
  const rows = [];
  for (let r = 0; r < visible; r++) {
    const rowOff = start + r * BYTES_PER_ROW;
    if (rowOff >= size) break;
    const cols = rowColumns(sel, rowOff, BYTES_PER_ROW);
    const prot = protectedRow(p.protectedRanges, rowOff, Math.min(BYTES_PER_ROW, size - rowOff));
    rows.push(
      <HexRow
        key={rowOff}
        rowOffset={rowOff}
        count={Math.min(BYTES_PER_ROW, size - rowOff)}
        digits={digits}
        sectorSize={p.sectorSize}
        unallocated={p.isUnallocated(rowOff)}
        replayed={p.isReplayed?.(rowOff) ?? false}
        shown={shown}
        cursorColumn={cursor >= rowOff && cursor < rowOff + BYTES_PER_ROW ? cursor - rowOff : -1}
        pane={pane}
        selFirst={cols ? cols[0] : -1}
        selLast={cols ? cols[1] : -1}
        annotations={annotations}
        protectedMask={prot.mask}
        protectedTitle={prot.title}
      />,
    );
  }

  const cur = byteAt(cursor);
  return (
    <div className="hex-grid-wrap">
      <div
        ref={wrap}
        className="hex-grid"
        tabIndex={0}
        role="application"
        aria-label={`Hex editor over the ${space === "virtual" ? "virtual disk" : "raw file"}. Arrow keys move; type hex digits${pane === "text" ? " or text" : ""} to stage edits; Ctrl+Z undoes.`}
        aria-describedby="hex-cursor-status"
        onKeyDown={onKey}
        onPaste={onPaste}
        onCopy={(e) => {
          e.preventDefault();
          p.onCopy();
        }}
        onMouseDown={onMouseDown}
        {...drag.handlers}
      >
        <div className="hex-row hex-head" aria-hidden="true">
          <span className="hex-off">offset</span>
          <span className="hex-bytes">
            {Array.from({ length: BYTES_PER_ROW }, (_, i) => (
              <span key={i} className={i === 8 ? "hx mid" : "hx"}>
                {hexByte(i)}
              </span>
            ))}
          </span>
          <span className="hex-ascii">text</span>
        </div>
        {rows}
      </div>
      <input
        type="range"
        className="hex-scroll"
        aria-label="Scroll position"
        min={0}
        max={maxTop}
        step={1}
        value={top}
        onChange={(e) => setTopRow(Number(e.target.value))}
      />
      <div id="hex-cursor-status" className="visually-hidden" aria-live="polite">
        Offset {cursor}, value {cur === undefined ? "unknown" : hexByte(cur)}
      </div>
      <div className="hex-pane-switch" role="radiogroup" aria-label="Typing edits">
        <label>
          <input type="radio" name="pane" checked={pane === "hex"} onChange={() => setPane("hex")} /> hex
        </label>
        <label>
          <input type="radio" name="pane" checked={pane === "text"} onChange={() => setPane("text")} /> text
        </label>
      </div>
    </div>
  );
}

/** Which of a row's columns lie in a protected range (bit i for column i), and the first one's reason. */
function protectedRow(
  ranges: readonly ProtectedRange[] | undefined,
  rowOff: number,
  count: number,
): { mask: number; title: string | undefined } {
  if (!ranges || ranges.length === 0) return { mask: 0, title: undefined };
  let mask = 0;
  let title: string | undefined;
  for (let i = 0; i < count; i++) {
    const r = protectedAt(ranges, rowOff + i);
    if (!r) continue;
    mask |= 1 << i;
    title ??= `Protected: ${r.reason}`;
  }
  return { mask, title };
}
