/**
 * The region map canvas: the whole file as cells, only the visible rows drawn. Hover names what
 * is in a cell (overlaps with both owners and ranges), click or Enter opens the hex view there.
 */
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { formatSize, hex } from "../lib/format";
import {
  CELL_KIND_NAMES,
  cellCountOf,
  cellRange,
  describeOwners,
  extentsIn,
  indexExtents,
  layoutRegionMap,
  mapExtentEnd,
  rowsFor,
} from "../lib/regionLayout";
import { cssVar } from "../lib/theme";
import type { FileMap } from "../store/engineApi";
import { useApp } from "../store/store";

const CELL = 14;
const GAP = 1;
/** Rows per page of the map fetched from the engine; a page and the next cover the visible rows. */
const PAGE_ROWS = 64;
export const KIND_VARS = [
  "--rm-free",
  "--rm-past-end",
  "--rm-payload",
  "--rm-sb",
  "--rm-region",
  "--rm-log",
  "--rm-bat",
  "--rm-metadata",
  "--rm-header",
  "--rm-region-table",
];

export function RegionMap(props: {
  map: FileMap;
  bytesPerCell: number;
  highlight: { start: number; length: number } | null;
  onOpen: (fileOffset: number) => void;
  themeKey: string;
}) {
  const { map, bytesPerCell, highlight, onOpen, themeKey } = props;
  const mapWindow = useApp((s) => s.mapWindow);
  const scroller = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(800);
  const [height, setHeight] = useState(300);
  const [scrollTop, setScrollTop] = useState(0);
  const [hover, setHover] = useState<number | null>(null);
  const [cursor, setCursor] = useState(0);
  const cols = Math.max(8, Math.floor((width - 2) / (CELL + GAP)));
  const cellCount = cellCountOf(mapExtentEnd(map), bytesPerCell);
  const rows = rowsFor(cellCount, cols);
  // Only the cells around the visible rows are laid out, from a window of the map the engine
  // answers for them (runs of blocks merged below the cell size): memory follows the screen.
  const pageRow = Math.floor(Math.floor(scrollTop / (CELL + GAP)) / PAGE_ROWS) * PAGE_ROWS;
  const firstCell = Math.min(pageRow * cols, cellCount - 1);
  const endCell = Math.min(cellCount, (pageRow + 2 * PAGE_ROWS) * cols);
  const pageKey = `${bytesPerCell}:${firstCell}:${endCell}`;
  const [page, setPage] = useState<{ key: string; base: FileMap; map: FileMap } | null>(null);
  useEffect(() => {
    let live = true;
    mapWindow({ start: firstCell * bytesPerCell, end: endCell * bytesPerCell, granularity: bytesPerCell }).then(
      (m) => {
        if (live && m) setPage({ key: pageKey, base: map, map: m });
      },
      () => undefined, // the whole map stays on show
    );
    return () => {
      live = false;
    };
  }, [map, mapWindow, pageKey, firstCell, endCell, bytesPerCell]);
  // Until the window arrives, the map the store holds (the whole file) draws the same picture.
  const shown = page && page.key === pageKey && page.base === map ? page.map : map;
  const layout = useMemo(
    () => layoutRegionMap(shown, bytesPerCell, firstCell, endCell - firstCell),
    [shown, bytesPerCell, firstCell, endCell],
  );
  const index = useMemo(() => indexExtents(shown.extents), [shown]);
  /** A cell's kind code and overlap mark, when it is laid out. */
  const cellAtIndex = (i: number) => {
    const k = i - layout.firstCell;
    return k >= 0 && k < layout.kinds.length ? { kind: layout.kinds[k], overlap: layout.overlap[k] === 1 } : null;
  };

  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const ro = new ResizeObserver(() => {
      setWidth(el.clientWidth);
      setHeight(el.clientHeight);
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // Scroll the highlighted range (a finding) into view.
  useEffect(() => {
    if (!highlight || !scroller.current) return;
    const cell = Math.floor(highlight.start / bytesPerCell);
    setCursor(Math.min(cell, layout.cellCount - 1));
    scroller.current.scrollTop = Math.max(0, Math.floor(cell / cols) * (CELL + GAP) - 40);
  }, [highlight, bytesPerCell, cols, layout.cellCount]);

  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.floor(width * dpr);
    c.height = Math.floor(height * dpr);
    const ctx = c.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const colours = KIND_VARS.map((v) => cssVar(v, "#888"));
    const overlapColour = cssVar("--danger", "#d22");
    const focusColour = cssVar("--accent", "#36c");
    const firstRow = Math.floor(scrollTop / (CELL + GAP));
    const lastRow = Math.min(rows, Math.ceil((scrollTop + height) / (CELL + GAP)));
    const hl = highlight
      ? {
          first: Math.floor(highlight.start / bytesPerCell),
          last: Math.floor((highlight.start + Math.max(1, highlight.length ?? 1) - 1) / bytesPerCell),
        }
      : null;
    for (let r = firstRow; r < lastRow; r++) {
      const y = r * (CELL + GAP) - scrollTop;
      for (let col = 0; col < cols; col++) {
        const i = r * cols + col;
        if (i >= layout.cellCount) break;
        const x = col * (CELL + GAP);
        const cell = cellAtIndex(i);
        ctx.fillStyle = colours[cell?.kind ?? 0];
        ctx.fillRect(x, y, CELL, CELL);
        if (cell?.overlap) {
          ctx.strokeStyle = overlapColour;
          ctx.lineWidth = 2;
          ctx.strokeRect(x + 1, y + 1, CELL - 2, CELL - 2);
          ctx.beginPath();
          ctx.moveTo(x, y + CELL);
          ctx.lineTo(x + CELL, y);
          ctx.stroke();
        }
        if ((hl && i >= hl.first && i <= hl.last) || i === cursor) {
          ctx.strokeStyle = focusColour;
          ctx.lineWidth = 2;
          ctx.strokeRect(x + 1, y + 1, CELL - 2, CELL - 2);
        }
      }
    }
  }, [layout, width, height, scrollTop, rows, cols, highlight, bytesPerCell, cursor, themeKey]);

  const cellAt = (clientX: number, clientY: number): number | null => {
    const rect = canvas.current?.getBoundingClientRect();
    if (!rect) return null;
    const col = Math.floor((clientX - rect.left) / (CELL + GAP));
    const row = Math.floor((clientY - rect.top + scrollTop) / (CELL + GAP));
    if (col < 0 || col >= cols) return null;
    const i = row * cols + col;
    return i >= 0 && i < layout.cellCount ? i : null;
  };

  const describe = (i: number) => {
    const { start, end } = cellRange(layout, i);
    const owners = extentsIn(index, start, end, 4096);
    const cell = cellAtIndex(i);
    return { start, end, owners, kind: cell ? CELL_KIND_NAMES[cell.kind] : "", overlap: cell?.overlap ?? false };
  };

  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const moves: Record<string, number> = {
      ArrowRight: 1,
      ArrowLeft: -1,
      ArrowDown: cols,
      ArrowUp: -cols,
      PageDown: cols * 10,
      PageUp: -cols * 10,
    };
    if (e.key in moves) {
      e.preventDefault();
      const next = Math.max(0, Math.min(layout.cellCount - 1, cursor + moves[e.key]));
      setCursor(next);
      const el = scroller.current;
      if (el) {
        const y = Math.floor(next / cols) * (CELL + GAP);
        if (y < el.scrollTop) el.scrollTop = y;
        else if (y + CELL > el.scrollTop + el.clientHeight) el.scrollTop = y + CELL - el.clientHeight;
      }
    } else if (e.key === "Enter") {
      e.preventDefault();
      onOpen(Math.min(cellRange(layout, cursor).start, Math.max(0, map.fileSize - 1)));
    }
  };

  const tip = hover !== null ? describe(hover) : null;
  const cur = describe(Math.min(cursor, layout.cellCount - 1));
  return (
    <div className="region-map">
      <div
        ref={scroller}
        className="rm-scroll"
        tabIndex={0}
        role="application"
        aria-label={`Region map, ${layout.cellCount} cells of ${formatSize(bytesPerCell)}. Arrow keys move, Enter opens the hex view.`}
        style={{ height: Math.max(48, Math.min(360, rows * (CELL + GAP) + 2)) }}
        onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
        onKeyDown={onKey}
      >
        <div style={{ height: rows * (CELL + GAP) }} className="rm-spacer">
          <canvas
            ref={canvas}
            className="rm-canvas"
            style={{ width, height, top: scrollTop }}
            onMouseMove={(e) => setHover(cellAt(e.clientX, e.clientY))}
            onMouseLeave={() => setHover(null)}
            onClick={(e) => {
              const i = cellAt(e.clientX, e.clientY);
              if (i === null) return;
              setCursor(i);
              onOpen(Math.min(cellRange(layout, i).start, Math.max(0, map.fileSize - 1)));
            }}
          />
        </div>
      </div>
      <div className="rm-tip" aria-live="polite">
        {(() => {
          const d = tip ?? cur;
          return (
            <>
              <code>
                {hex(d.start)}–{hex(d.end)}
              </code>{" "}
              {d.owners.length === 0 ? d.kind : describeOwners(d.owners, hex)}
              {d.owners.length > 1 && d.overlap ? <strong className="danger"> overlap</strong> : null}
            </>
          );
        })()}
      </div>
    </div>
  );
}
