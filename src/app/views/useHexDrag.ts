/**
 * Drag-selecting in the hex grid. The anchor is where the button went down; the cursor follows the
 * pointer, a move only when it crosses into another byte. The grid holds the pointer captured, so
 * moves and the release arrive even outside the window. Held past the top or bottom edge, the view
 * keeps scrolling every frame (as a text editor's does), faster the farther the pointer is, until
 * the button is released, the capture is lost, or the disk's first or last byte is reached; the
 * selection ends in the column under the pointer (in either pane), as it moves left and right.
 */
import { useEffect, useRef, type PointerEvent as ReactPointerEvent, type RefObject } from "react";
import { BYTES_PER_ROW } from "../lib/hexFormat";

/** A grid row's height in pixels (the header row included). */
export const ROW_H = 18;

/**
 * Auto-scroll speed in rows a second for a pointer `past` pixels beyond the grid's edge: about 12
 * rows/s at the edge, growing with the square of the distance (1,450 at 10 rows away), capped so a
 * frame never moves more than a few thousand rows.
 */
export function autoScrollRate(past: number): number {
  const rows = 1 + past / ROW_H;
  return Math.min(200_000, 12 * rows * rows);
}

/** The byte cell at or around an element, and which column (hex or text) it sits in. */
export function cellAt(target: EventTarget | null): { off: number; pane: "hex" | "text" } | null {
  if (!(target instanceof Element)) return null;
  const el = target.closest<HTMLElement>("[data-off]");
  if (!el) return null;
  return { off: Number(el.dataset.off), pane: el.parentElement?.dataset.pane === "text" ? "text" : "hex" };
}

/**
 * The column (0–15) of the byte at `x`, or null between cells. Read off a row on screen: columns
 * line up down the grid, and the pointer itself is off the grid when this is asked.
 */
function columnAt(grid: HTMLElement, x: number): number | null {
  const rect = grid.getBoundingClientRect();
  const some = grid.querySelector("[data-off]");
  if (!some) return null;
  const r = some.getBoundingClientRect();
  const under = document.elementFromPoint(Math.max(rect.left + 1, Math.min(rect.right - 1, x)), r.top + r.height / 2);
  const cell = under && grid.contains(under) ? cellAt(under) : null;
  return cell ? cell.off % BYTES_PER_ROW : null;
}

export interface HexDragOptions {
  wrap: RefObject<HTMLDivElement | null>;
  size: number;
  /** The first row on screen and how many rows are shown. */
  top: number;
  visible: number;
  /** The cursor as the latest key or move left it (it can be ahead of the last render). */
  cursor: () => number;
  /** Moves the cursor to `offset` (within the space) with the drag's anchor. */
  extend: (offset: number, anchor: number) => void;
  /** Scrolls: the next first row from the current one. */
  scroll: (next: (top: number) => number) => void;
}

export interface HexDrag {
  /** The button went down on the byte at `anchor`. */
  start(anchor: number): void;
  /** The grid's pointer handlers. */
  handlers: {
    onPointerDown(e: ReactPointerEvent<HTMLDivElement>): void;
    onPointerMove(e: ReactPointerEvent<HTMLDivElement>): void;
    onPointerUp(): void;
    onPointerCancel(): void;
    onLostPointerCapture(): void;
  };
}

export function useHexDrag(options: HexDragOptions): HexDrag {
  // Handlers and frames run between renders: they read the latest options through this ref.
  const opt = useRef(options);
  opt.current = options;
  const drag = useRef<{ anchor: number } | null>(null);
  // `past`: how far beyond the edge the pointer is, in pixels (negative above the top edge);
  // `col`: the column under the pointer, which the selection's end keeps to.
  const auto = useRef<{ past: number; col: number; raf: number; last: number; acc: number } | null>(null);

  const extendTo = (off: number) => {
    const d = drag.current;
    if (d) opt.current.extend(Math.max(0, Math.min(opt.current.size - 1, off)), d.anchor);
  };
  const stopAuto = () => {
    if (auto.current) cancelAnimationFrame(auto.current.raf);
    auto.current = null;
  };
  const end = () => {
    drag.current = null;
    stopAuto();
  };

  /** One frame: the rows due since the last one (by elapsed time), the cursor's row kept at the edge. */
  const frame = (now: number) => {
    const a = auto.current;
    if (!a || !drag.current) return;
    const { size, visible } = opt.current;
    a.acc += (autoScrollRate(Math.abs(a.past)) * Math.min(100, Math.max(0, now - a.last))) / 1000;
    a.last = now;
    const rows = Math.floor(a.acc);
    let more = true;
    if (rows > 0) {
      a.acc -= rows;
      const down = a.past > 0;
      const row = Math.floor(opt.current.cursor() / BYTES_PER_ROW) + (down ? rows : -rows);
      const to = Math.max(0, Math.min(size - 1, row * BYTES_PER_ROW + a.col));
      const toRow = Math.floor(to / BYTES_PER_ROW);
      opt.current.scroll((t) => (down ? Math.max(t, toRow - visible + 1) : Math.min(t, toRow)));
      extendTo(to);
      // The disk's first or last byte reached: nothing more to scroll to.
      more = down ? to < size - 1 : to > 0;
    }
    if (more) a.raf = requestAnimationFrame(frame);
    else auto.current = null;
  };

  const onPointerMove = (e: ReactPointerEvent<HTMLDivElement>) => {
    const el = opt.current.wrap.current;
    if (!drag.current || !el) return;
    // Captured, the event's target is the grid itself: find the byte under the pointer.
    const under = document.elementFromPoint(e.clientX, e.clientY);
    const cell = under && el.contains(under) ? cellAt(under) : null;
    const rect = el.getBoundingClientRect();
    const topEdge = rect.top + ROW_H; // below the header row
    const past = e.clientY < topEdge ? e.clientY - topEdge : e.clientY > rect.bottom ? e.clientY - rect.bottom : 0;
    if (past === 0) {
      stopAuto();
      if (cell) extendTo(cell.off);
      return;
    }
    const cur = opt.current.cursor();
    const col = columnAt(el, e.clientX) ?? auto.current?.col ?? cur % BYTES_PER_ROW;
    if (auto.current) {
      auto.current.past = past;
      if (col !== auto.current.col) {
        auto.current.col = col;
        extendTo(cur - (cur % BYTES_PER_ROW) + col);
      }
      return;
    }
    // Leaving by an edge: the selection first reaches the edge row (in the pointer's column), then
    // scrolls on.
    const { top, visible } = opt.current;
    const edgeRow = past > 0 ? top + visible - 1 : top;
    const curRow = Math.floor(cur / BYTES_PER_ROW);
    const row = past > 0 ? Math.max(curRow, edgeRow) : Math.min(curRow, edgeRow);
    extendTo(row * BYTES_PER_ROW + col);
    auto.current = { past, col, raf: requestAnimationFrame(frame), last: performance.now(), acc: 0 };
  };

  useEffect(() => {
    // Switching to another window ends a drag: its button release may never reach the page.
    window.addEventListener("blur", end);
    return () => {
      window.removeEventListener("blur", end);
      stopAuto();
    };
    // `end` and `stopAuto` only touch refs.
  }, []);

  return {
    start(anchor) {
      drag.current = { anchor };
    },
    handlers: {
      onPointerDown(e) {
        if (e.button !== 0 || e.shiftKey || !cellAt(e.target)) return;
        e.currentTarget.setPointerCapture(e.pointerId);
      },
      onPointerMove,
      onPointerUp: end,
      onPointerCancel: end,
      onLostPointerCapture: end,
    },
  };
}
