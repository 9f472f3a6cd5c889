/** A dense, sortable table over @tanstack/react-table, used by every tabular view. */
import {
  flexRender,
  getCoreRowModel,
  getSortedRowModel,
  useReactTable,
  type ColumnDef,
  type ColumnHelper,
  type SortingState,
} from "@tanstack/react-table";
import { useState } from "react";

/**
 * Column helpers type each column by its own value type; a table mixes them. This widens the
 * list once, here, to what the table consumes.
 */
export function columnList<T>(_helper: ColumnHelper<T>, ...defs: ColumnDef<T, never>[]): ColumnDef<T, unknown>[] {
  return defs as unknown as ColumnDef<T, unknown>[];
}

export interface DataTableProps<T> {
  label: string;
  data: T[];
  columns: ColumnDef<T, unknown>[];
  /** Extra class per row (e.g. "active", "invalid"). */
  rowClass?: (row: T) => string | undefined;
  onRowActivate?: (row: T) => void;
  selected?: (row: T) => boolean;
  empty?: string;
}

export function DataTable<T>({ label, data, columns, rowClass, onRowActivate, selected, empty }: DataTableProps<T>) {
  const [sorting, setSorting] = useState<SortingState>([]);
  const table = useReactTable({
    data,
    columns,
    state: { sorting },
    onSortingChange: setSorting,
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
  });
  return (
    <div className="table-wrap">
      <table className="data" aria-label={label}>
        <thead>
          {table.getHeaderGroups().map((hg) => (
            <tr key={hg.id}>
              {hg.headers.map((h) => {
                const sort = h.column.getIsSorted();
                return (
                  <th key={h.id} aria-sort={sort === "asc" ? "ascending" : sort === "desc" ? "descending" : undefined}>
                    {h.column.getCanSort() ? (
                      <button type="button" className="th-sort" onClick={h.column.getToggleSortingHandler()}>
                        {flexRender(h.column.columnDef.header, h.getContext())}
                        <span aria-hidden="true">{sort === "asc" ? " ▲" : sort === "desc" ? " ▼" : ""}</span>
                      </button>
                    ) : (
                      flexRender(h.column.columnDef.header, h.getContext())
                    )}
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody>
          {table.getRowModel().rows.map((r) => (
            <tr
              key={r.id}
              className={[
                rowClass?.(r.original),
                selected?.(r.original) ? "selected" : "",
                onRowActivate ? "clickable" : "",
              ]
                .filter(Boolean)
                .join(" ")}
              aria-selected={selected ? selected(r.original) : undefined}
              tabIndex={onRowActivate ? 0 : undefined}
              onClick={onRowActivate ? () => onRowActivate(r.original) : undefined}
              onKeyDown={
                onRowActivate
                  ? (e) => {
                      if (e.key === "Enter" || e.key === " ") {
                        e.preventDefault();
                        onRowActivate(r.original);
                      }
                    }
                  : undefined
              }
            >
              {r.getVisibleCells().map((c) => (
                <td key={c.id}>{flexRender(c.column.columnDef.cell, c.getContext())}</td>
              ))}
            </tr>
          ))}
          {data.length === 0 && (
            <tr>
              <td colSpan={columns.length} className="muted">
                {empty ?? "Nothing to show"}
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
