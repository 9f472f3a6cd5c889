/** The region map (whole file), its overlaps, and both region table copies (§2.2.3) below. */
import { createColumnHelper } from "@tanstack/react-table";
import { useMemo, useState } from "react";
import { DataTable, columnList } from "../components/DataTable";
import { formatSize, hex } from "../lib/format";
import { CELL_KIND_NAMES, mapExtentEnd, zoomLevels } from "../lib/regionLayout";
import type { MapOverlap, RegionInfo, RegionTableCopyInfo } from "../store/engineApi";
import { useApp } from "../store/store";
import { KIND_VARS, RegionMap } from "./RegionMap";

const rc = createColumnHelper<RegionInfo>();
const regionColumns = columnList(
  rc,
  rc.accessor("name", { header: "Region" }),
  rc.accessor("guid", { header: "GUID", cell: (c) => <code>{c.getValue()}</code> }),
  rc.accessor("fileOffset", { header: "FileOffset", cell: (c) => <code>{hex(c.getValue())}</code> }),
  rc.accessor("length", { header: "Length", cell: (c) => formatSize(c.getValue()) }),
  rc.accessor("required", { header: "Required", cell: (c) => String(Number(c.getValue())) }),
);

const tc = createColumnHelper<RegionTableCopyInfo>();
const copyColumns = columnList(
  tc,
  tc.accessor((t) => `Region table ${t.index + 1}`, { id: "copy", header: "Copy" }),
  tc.accessor("fileOffset", { header: "File offset", cell: (c) => <code>{hex(c.getValue())}</code> }),
  tc.accessor((t) => (t.valid ? "valid" : "invalid"), { id: "state", header: "State" }),
  tc.accessor((t) => (t.entryCount === null ? "—" : String(t.entryCount)), { id: "count", header: "EntryCount" }),
  tc.accessor((t) => t.error ?? "", { id: "error", header: "Problem" }),
);

const oc = createColumnHelper<MapOverlap>();
const range = (s: number, l: number) => `${hex(s)}–${hex(s + l)}`;
const overlapColumns = columnList(
  oc,
  oc.accessor((o) => o.a.name, { id: "a", header: "First owner" }),
  oc.accessor((o) => range(o.a.start, o.a.length), {
    id: "ar",
    header: "Its range",
    cell: (c) => <code>{c.getValue()}</code>,
  }),
  oc.accessor((o) => o.b.name, { id: "b", header: "Second owner" }),
  oc.accessor((o) => range(o.b.start, o.b.length), {
    id: "br",
    header: "Its range",
    cell: (c) => <code>{c.getValue()}</code>,
  }),
  oc.accessor((o) => Math.min(o.a.start + o.a.length, o.b.start + o.b.length) - Math.max(o.a.start, o.b.start), {
    id: "len",
    header: "Shared bytes",
    cell: (c) => formatSize(c.getValue()),
  }),
);

export function RegionsView({ themeKey }: { themeKey: string }) {
  const { map, info, focus, goTo } = useApp();
  const levels = useMemo(() => (map ? zoomLevels(mapExtentEnd(map), 2048) : []), [map]);
  const [level, setLevel] = useState(0);
  if (!map || !info) return null;
  const bpc = levels[Math.min(level, levels.length - 1)];
  const highlight =
    focus.space === "file" && focus.length !== undefined ? { start: focus.offset, length: focus.length } : null;
  const tables = info.regionTables;
  return (
    <div className="view regions">
      <div className="toolbar">
        <label>
          Zoom{" "}
          <select aria-label="Zoom" value={level} onChange={(e) => setLevel(Number(e.target.value))}>
            {levels.map((b, i) => (
              <option key={b} value={i}>
                {i === 0 ? `Whole file (${formatSize(b)} cells)` : `${formatSize(b)} cells`}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          onClick={() => setLevel(Math.max(0, level - 1))}
          disabled={level === 0}
          aria-label="Zoom out"
        >
          −
        </button>
        <button
          type="button"
          onClick={() => setLevel(Math.min(levels.length - 1, level + 1))}
          disabled={level >= levels.length - 1}
          aria-label="Zoom in"
        >
          +
        </button>
        <span className="muted">
          File {formatSize(map.fileSize)}
          {mapExtentEnd(map) > map.fileSize && (
            <strong className="danger"> · structures reach past the end of the file</strong>
          )}
        </span>
      </div>
      <ul className="legend" aria-label="Region map legend">
        {CELL_KIND_NAMES.map((name, i) => (
          <li key={name}>
            <span className="swatch" style={{ background: `var(${KIND_VARS[i]})` }} aria-hidden="true" />
            {name}
          </li>
        ))}
        <li>
          <span className="swatch overlap" aria-hidden="true" />
          overlap
        </li>
      </ul>
      <RegionMap
        map={map}
        bytesPerCell={bpc}
        highlight={highlight}
        onOpen={(o) => goTo("file", o)}
        themeKey={themeKey}
      />
      <section aria-labelledby="ov-h">
        <h2 id="ov-h">
          Overlaps {map.overlaps.length > 0 && <span className="badge bad">{map.overlaps.length}</span>}
        </h2>
        {map.overlaps.length === 0 ? (
          <p className="muted">No two structures or blocks share a byte.</p>
        ) : (
          <DataTable
            label="Overlaps"
            data={map.overlaps}
            columns={overlapColumns}
            rowClass={() => "bad"}
            onRowActivate={(o) => goTo("file", Math.max(o.a.start, o.b.start))}
          />
        )}
      </section>
      <section aria-labelledby="rt-h">
        <h2 id="rt-h">Region table copies</h2>
        <DataTable
          label="Region table copies"
          data={tables}
          columns={copyColumns}
          rowClass={(t) => (t.valid ? undefined : "bad")}
          onRowActivate={(t) => goTo("file", t.fileOffset, 64 * 1024)}
        />
      </section>
      <section aria-labelledby="re-h">
        <h2 id="re-h">
          Region table entries <span className="muted">(the valid copy in use)</span>
        </h2>
        <DataTable
          label="Regions"
          data={info.regions}
          columns={regionColumns}
          onRowActivate={(r) => goTo("file", r.fileOffset, r.length)}
        />
      </section>
    </div>
  );
}
