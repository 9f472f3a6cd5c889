/**
 * The BAT picture. Entries are painted once per (BAT, filter, theme) into an offscreen canvas at
 * one pixel per entry, straight from the raw words (batPixels.ts). Zoom and pan only redraw that
 * bitmap scaled, inside requestAnimationFrame, without React renders, so panning stays at 60 fps.
 */
import { useEffect, useRef, useState, type KeyboardEvent, type ReactNode } from "react";
import { batColumns, describeBatEntry, paintBat, type BatEntryView, type BatPalette } from "../lib/batPixels";

export interface BatCanvasProps {
  words: Uint32Array;
  entries: number;
  chunkRatio: number;
  blockSize: number;
  virtualSize: number;
  palette: BatPalette;
  filter: number;
  onHover: (e: BatEntryView | null) => void;
  onOpen: (e: BatEntryView, fileSpace: boolean) => void;
  onPainted: (ms: number) => void;
  /** Content of the floating tooltip beside the pointer. */
  renderTip: (e: BatEntryView) => ReactNode;
  /** Recolours painted pixels (partially present blocks by their sector bitmap). */
  overlay?: (pixels: Uint32Array, palette: BatPalette) => void;
}

const MIN_SCALE = 0.05;
const MAX_SCALE = 48;

export function BatCanvas(p: BatCanvasProps) {
  const { words, entries, chunkRatio, palette, filter } = p;
  const cols = batColumns(chunkRatio, entries);
  const rows = Math.ceil(entries / cols);
  const wrap = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const bitmap = useRef<HTMLCanvasElement | null>(null);
  // View transform: screen = (cell - pan) * scale.
  // `auto`: still at the fitted view (refit on resize) until the user zooms or pans.
  const view = useRef({ scale: 1, panX: 0, panY: 0, w: 600, h: 400, auto: true });
  const frame = useRef(0);
  const [cursor, setCursor] = useState(0);
  const [tip, setTip] = useState<{ x: number; y: number; entry: BatEntryView } | null>(null);
  const cursorRef = useRef(0);
  cursorRef.current = cursor;
  const props = useRef(p);
  props.current = p;

  /** Keeps at least half a screen of the picture in view, whatever the pan. */
  const clampPan = () => {
    const v = view.current;
    const vw = v.w / v.scale;
    const vh = v.h / v.scale;
    v.panX = Math.max(-vw / 2, Math.min(Math.max(0, cols - vw / 2), v.panX));
    v.panY = Math.max(-vh / 2, Math.min(Math.max(0, rows - vh / 2), v.panY));
  };
  const draw = () => {
    frame.current = 0;
    clampPan();
    const c = canvas.current;
    const bm = bitmap.current;
    if (!c || !bm) return;
    const ctx = c.getContext("2d");
    if (!ctx) return;
    const v = view.current;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, v.w, v.h);
    ctx.imageSmoothingEnabled = v.scale < 1;
    // Only the part of the bitmap on screen is drawn.
    const sx = Math.max(0, Math.floor(v.panX));
    const sy = Math.max(0, Math.floor(v.panY));
    const sw = Math.min(cols - sx, Math.ceil(v.w / v.scale) + 2);
    const sh = Math.min(rows - sy, Math.ceil(v.h / v.scale) + 2);
    if (sw > 0 && sh > 0)
      ctx.drawImage(bm, sx, sy, sw, sh, (sx - v.panX) * v.scale, (sy - v.panY) * v.scale, sw * v.scale, sh * v.scale);
    if (v.scale >= 6 && sw > 0 && sh > 0) {
      // Cell borders once cells are large enough to tell apart.
      ctx.strokeStyle = "rgba(128, 128, 128, 0.35)";
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (let x = sx; x <= sx + sw; x++) {
        const px = Math.round((x - v.panX) * v.scale) + 0.5;
        ctx.moveTo(px, (sy - v.panY) * v.scale);
        ctx.lineTo(px, (sy + sh - v.panY) * v.scale);
      }
      for (let y = sy; y <= sy + sh; y++) {
        const py = Math.round((y - v.panY) * v.scale) + 0.5;
        ctx.moveTo((sx - v.panX) * v.scale, py);
        ctx.lineTo((sx + sw - v.panX) * v.scale, py);
      }
      ctx.stroke();
    }
    if (v.scale >= 4) {
      const i = cursorRef.current;
      const x = ((i % cols) - v.panX) * v.scale;
      const y = (Math.floor(i / cols) - v.panY) * v.scale;
      ctx.strokeStyle = getComputedStyle(c).getPropertyValue("--accent") || "#36c";
      ctx.lineWidth = 2;
      ctx.strokeRect(x, y, v.scale, v.scale);
    }
  };
  const schedule = () => {
    if (!frame.current) frame.current = requestAnimationFrame(draw);
  };

  const fit = () => {
    const v = view.current;
    // The whole BAT on screen, but never narrower than a quarter of the width (tall BATs then scroll).
    const whole = Math.max(Math.min(v.w / cols, v.h / rows), v.w / cols / 4);
    v.scale = Math.max(MIN_SCALE, Math.min(MAX_SCALE, whole));
    v.panX = 0;
    v.panY = 0;
    v.auto = true;
    schedule();
  };
  const zoomAt = (factor: number, sx: number, sy: number) => {
    const v = view.current;
    v.auto = false;
    const cx = v.panX + sx / v.scale;
    const cy = v.panY + sy / v.scale;
    v.scale = Math.max(MIN_SCALE, Math.min(MAX_SCALE, v.scale * factor));
    v.panX = cx - sx / v.scale;
    v.panY = cy - sy / v.scale;
    schedule();
  };

  // Paint the bitmap: the one expensive step, timed.
  useEffect(() => {
    const t0 = performance.now();
    const bm = bitmap.current ?? document.createElement("canvas");
    bitmap.current = bm;
    bm.width = cols;
    bm.height = rows;
    const ctx = bm.getContext("2d");
    if (!ctx) return;
    const img = ctx.createImageData(cols, rows);
    const pixels = new Uint32Array(img.data.buffer);
    paintBat(words, entries, chunkRatio, palette, filter, pixels);
    p.overlay?.(pixels, palette);
    ctx.putImageData(img, 0, 0);
    const ms = performance.now() - t0;
    performance.measure?.("bat-paint", { start: t0, duration: ms });
    props.current.onPainted(ms);
    if (view.current.auto) fit();
    schedule();
    // fit/schedule are stable in effect: they read refs only.
  }, [words, entries, chunkRatio, palette, filter, cols, rows, p.overlay]);

  useEffect(() => {
    const el = wrap.current;
    const c = canvas.current;
    if (!el || !c) return;
    const ro = new ResizeObserver(() => {
      const dpr = window.devicePixelRatio || 1;
      view.current.w = el.clientWidth;
      view.current.h = el.clientHeight;
      c.width = Math.floor(el.clientWidth * dpr);
      c.height = Math.floor(el.clientHeight * dpr);
      c.style.width = el.clientWidth + "px";
      c.style.height = el.clientHeight + "px";
      if (view.current.auto) fit();
      schedule();
    });
    ro.observe(el);
    const wheel = (e: WheelEvent) => {
      e.preventDefault();
      const r = c.getBoundingClientRect();
      if (e.ctrlKey || e.metaKey) zoomAt(Math.exp(-e.deltaY / 300), e.clientX - r.left, e.clientY - r.top);
      else {
        view.current.auto = false;
        view.current.panY += e.deltaY / view.current.scale;
        view.current.panX += e.deltaX / view.current.scale;
        schedule();
      }
    };
    c.addEventListener("wheel", wheel, { passive: false });
    return () => {
      ro.disconnect();
      c.removeEventListener("wheel", wheel);
      if (frame.current) cancelAnimationFrame(frame.current);
      frame.current = 0;
    };
  }, []);

  const entryAt = (clientX: number, clientY: number): number | null => {
    const r = canvas.current?.getBoundingClientRect();
    if (!r) return null;
    const v = view.current;
    const col = Math.floor(v.panX + (clientX - r.left) / v.scale);
    const row = Math.floor(v.panY + (clientY - r.top) / v.scale);
    if (col < 0 || col >= cols || row < 0) return null;
    const i = row * cols + col;
    return i < entries ? i : null;
  };
  const describe = (i: number) => describeBatEntry(words, i, chunkRatio, p.blockSize, p.virtualSize);

  const drag = useRef<{ x: number; y: number; moved: boolean } | null>(null);
  const onKey = (e: KeyboardEvent<HTMLCanvasElement>) => {
    const moves: Record<string, number> = {
      ArrowRight: 1,
      ArrowLeft: -1,
      ArrowDown: cols,
      ArrowUp: -cols,
      PageDown: cols * 16,
      PageUp: -cols * 16,
      Home: -cursor,
      End: entries - 1 - cursor,
    };
    const v = view.current;
    if (e.key in moves) {
      e.preventDefault();
      const next = Math.max(0, Math.min(entries - 1, cursor + moves[e.key]));
      setCursor(next);
      cursorRef.current = next;
      // Keep the cursor on screen.
      const cx = next % cols;
      const cy = Math.floor(next / cols);
      if (cx < v.panX || cx >= v.panX + v.w / v.scale) v.panX = cx - v.w / v.scale / 2;
      if (cy < v.panY || cy >= v.panY + v.h / v.scale) v.panY = cy - v.h / v.scale / 2;
      p.onHover(describe(next));
      schedule();
    } else if (e.key === "Enter") {
      e.preventDefault();
      p.onOpen(describe(cursor), e.shiftKey);
    } else if (e.key === "+" || e.key === "=") {
      zoomAt(1.5, v.w / 2, v.h / 2);
    } else if (e.key === "-") {
      zoomAt(1 / 1.5, v.w / 2, v.h / 2);
    } else if (e.key === "0") {
      fit();
    }
  };

  return (
    <div className="bat-canvas-wrap" ref={wrap}>
      <canvas
        ref={canvas}
        className="bat-canvas"
        tabIndex={0}
        role="application"
        aria-label={`BAT picture, ${entries} entries, ${cols} per row. Arrow keys move, Enter opens the block in the hex view (Shift+Enter at its file offset), plus and minus zoom, 0 fits.`}
        onKeyDown={onKey}
        onPointerDown={(e) => {
          drag.current = { x: e.clientX, y: e.clientY, moved: false };
          e.currentTarget.setPointerCapture(e.pointerId);
        }}
        onPointerMove={(e) => {
          const d = drag.current;
          if (d) {
            const dx = e.clientX - d.x;
            const dy = e.clientY - d.y;
            if (Math.abs(dx) + Math.abs(dy) > 2) d.moved = true;
            if (d.moved) {
              view.current.auto = false;
              setTip(null);
              view.current.panX -= dx / view.current.scale;
              view.current.panY -= dy / view.current.scale;
              d.x = e.clientX;
              d.y = e.clientY;
              schedule();
              return;
            }
          }
          const i = entryAt(e.clientX, e.clientY);
          const entry = i === null ? null : describe(i);
          p.onHover(entry);
          const r = e.currentTarget.getBoundingClientRect();
          setTip(entry ? { x: e.clientX - r.left, y: e.clientY - r.top, entry } : null);
        }}
        onPointerUp={(e) => {
          const d = drag.current;
          drag.current = null;
          if (d && !d.moved) {
            const i = entryAt(e.clientX, e.clientY);
            if (i !== null) {
              setCursor(i);
              p.onOpen(describe(i), e.shiftKey);
            }
          }
        }}
        onPointerLeave={() => {
          p.onHover(null);
          setTip(null);
        }}
      />
      {tip && (
        <div
          className="bat-float"
          role="tooltip"
          style={{ left: Math.min(tip.x + 14, view.current.w - 230), top: Math.min(tip.y + 14, view.current.h - 90) }}
        >
          {p.renderTip(tip.entry)}
        </div>
      )}
      <div className="canvas-buttons">
        <button type="button" aria-label="Zoom in" onClick={() => zoomAt(1.5, view.current.w / 2, view.current.h / 2)}>
          +
        </button>
        <button
          type="button"
          aria-label="Zoom out"
          onClick={() => zoomAt(1 / 1.5, view.current.w / 2, view.current.h / 2)}
        >
          −
        </button>
        <button type="button" aria-label="Fit the whole BAT" onClick={fit}>
          Fit
        </button>
      </div>
    </div>
  );
}
