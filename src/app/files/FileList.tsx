/**
 * A folder's entries as a virtualised grid: only the rows on screen are in the DOM, and the rows
 * are fetched from the worker a page at a time as they come into view, so a folder of 100,000
 * entries opens and scrolls like a small one.
 */
import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent } from "react";
import { formatSize } from "../lib/format";
import { entryAt, useFiles, type FsEntry, type SortKey } from "./filesStore";

const ROW = 26;
const OVERSCAN = 12;

const TYPE_LABEL: Record<FsEntry["type"], string> = { dir: "folder", file: "file", symlink: "symlink", other: "other" };

/** A small drawn icon per entry type (no emoji font is assumed). */
function Icon({ type }: { type: FsEntry["type"] }) {
  const path =
    type === "dir"
      ? "M1 3.5h5l1.5 1.5H15v8.5H1z"
      : type === "symlink"
        ? "M3 1.5h7l3 3v10H3z M6 11l4-4 M7 7h3v3"
        : type === "file"
          ? "M3 1.5h7l3 3v10H3z M10 1.5v3h3"
          : "M8 2l6 6-6 6-6-6z";
  return (
    <svg className={`files-icon files-icon-${type}`} viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
      <path d={path} />
    </svg>
  );
}

export function formatTime(e: FsEntry): string {
  if (e.mtime === null) return "—";
  const d = new Date(e.mtime);
  if (Number.isNaN(d.getTime())) return "—";
  // Local time stored without a zone (FAT) is shown as stored, not shifted.
  const iso = d.toISOString().replace("T", " ").slice(0, 19);
  return e.mtimeIsLocal ? `${iso} (local)` : `${iso} UTC`;
}

function Header({ k, label }: { k: SortKey; label: string }) {
  const sort = useFiles((s) => s.sort);
  const setSort = useFiles((s) => s.setSort);
  const on = sort.key === k;
  return (
    <div
      role="columnheader"
      className={`files-cell files-${k}`}
      aria-sort={on ? (sort.descending ? "descending" : "ascending") : "none"}
    >
      <button type="button" className="th-sort" onClick={() => void setSort(k)}>
        {label}
        <span aria-hidden="true">{on ? (sort.descending ? " ▼" : " ▲") : ""}</span>
      </button>
    </div>
  );
}

export function FileList() {
  const { total, pages, selected, select, activate, ensureRows, changed, listing, up, epoch } = useFiles();
  const wrap = useRef<HTMLDivElement>(null);
  const [scroll, setScroll] = useState(0);
  const [height, setHeight] = useState(400);

  useLayoutEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    setHeight(el.clientHeight);
    return () => ro.disconnect();
  }, []);
  // A new folder starts at its top.
  useEffect(() => {
    if (wrap.current) wrap.current.scrollTop = 0;
    setScroll(0);
  }, [epoch]);

  const first = Math.max(0, Math.floor(scroll / ROW) - OVERSCAN);
  const last = Math.min(total - 1, Math.ceil((scroll + height) / ROW) + OVERSCAN);
  useEffect(() => ensureRows(first, last), [first, last, ensureRows, total, epoch]);

  const reveal = (i: number) => {
    const el = wrap.current;
    if (!el) return;
    const top = i * ROW;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW > el.scrollTop + el.clientHeight - ROW) el.scrollTop = top + 2 * ROW - el.clientHeight;
  };
  const move = (i: number) => {
    const n = Math.max(0, Math.min(total - 1, i));
    select(n);
    reveal(n);
  };
  const onKey = (e: KeyboardEvent) => {
    const page = Math.max(1, Math.floor(height / ROW) - 2);
    const cur = selected ?? -1;
    if (e.key === "ArrowDown") move(cur + 1);
    else if (e.key === "ArrowUp") move(cur - 1);
    else if (e.key === "PageDown") move(cur + page);
    else if (e.key === "PageUp") move(cur - page);
    else if (e.key === "Home") move(0);
    else if (e.key === "End") move(total - 1);
    else if (e.key === "Enter" && selected !== null) void activate(selected);
    else if (e.key === "Backspace" || (e.key === "ArrowUp" && e.altKey)) void up();
    else return;
    e.preventDefault();
  };

  const rows = [];
  for (let i = first; i <= last; i++) {
    const e = entryAt({ pages }, i);
    const flag = changed[i];
    rows.push(
      <div
        key={i}
        role="row"
        aria-rowindex={i + 2}
        aria-selected={selected === i}
        className={`files-row${selected === i ? " selected" : ""}${e?.findings?.length ? " finding" : ""}`}
        style={{ top: (i + 1) * ROW }}
        onClick={() => select(i)}
        onDoubleClick={() => void activate(i)}
      >
        {e ? (
          <>
            <div role="gridcell" className="files-cell files-name" title={e.findings?.map((f) => f.message).join("\n")}>
              <Icon type={e.type} />
              {e.name}
              {e.type === "symlink" && e.target !== undefined && <span className="muted"> → {e.target}</span>}
              {flag === true && (
                <span className="badge files-changed" title="Some of its bytes are in this image's own blocks">
                  changed in this layer
                </span>
              )}
              {e.findings?.length ? <span className="danger"> ⚠ {e.findings[0].message}</span> : null}
            </div>
            <div
              role="gridcell"
              className="files-cell files-size"
              title={e.type === "dir" ? undefined : `${e.size.toLocaleString("en-US")} bytes`}
            >
              {e.type === "dir" ? "" : formatSize(e.size)}
            </div>
            <div role="gridcell" className="files-cell files-mtime">
              {formatTime(e)}
            </div>
            <div role="gridcell" className="files-cell files-type">
              {TYPE_LABEL[e.type]}
            </div>
          </>
        ) : (
          <div role="gridcell" className="files-cell muted">
            …
          </div>
        )}
      </div>,
    );
  }

  return (
    <div
      ref={wrap}
      className="files-list"
      role="grid"
      aria-label="Folder contents"
      aria-rowcount={total + 1}
      aria-busy={listing}
      tabIndex={0}
      onKeyDown={onKey}
      onScroll={(e) => setScroll(e.currentTarget.scrollTop)}
    >
      <div className="files-sizer" style={{ height: (total + 1) * ROW }}>
        <div role="row" aria-rowindex={1} className="files-row files-head">
          <Header k="name" label="Name" />
          <Header k="size" label="Size" />
          <Header k="mtime" label="Modified" />
          <Header k="type" label="Type" />
        </div>
        {rows}
      </div>
      {total === 0 && !listing && <p className="muted files-empty">This folder is empty.</p>}
    </div>
  );
}
