/** Every metadata item (§2.6.1.2) with its flags and decoded value, and the parent locator (§2.6.2.6). */
import { createColumnHelper } from "@tanstack/react-table";
import { DataTable, columnList } from "../components/DataTable";
import { formatSize, hex } from "../lib/format";
import type { MetadataItemInfo } from "../store/engineApi";
import { useApp } from "../store/store";

const col = createColumnHelper<MetadataItemInfo>();
const yes = (b: boolean) => (b ? "yes" : "no");
const columns = columnList(col,
  col.accessor("name", { header: "Name" }),
  col.accessor("guid", { header: "GUID", cell: (c) => <code>{c.getValue()}</code> }),
  col.accessor("offset", { header: "Offset", cell: (c) => <code>{hex(c.getValue())}</code> }),
  col.accessor("length", { header: "Length", cell: (c) => formatSize(c.getValue()) }),
  col.accessor("isUser", { header: "IsUser", cell: (c) => yes(c.getValue()) }),
  col.accessor("isVirtualDisk", { header: "IsVirtualDisk", cell: (c) => yes(c.getValue()) }),
  col.accessor("isRequired", { header: "IsRequired", cell: (c) => yes(c.getValue()) }),
  col.accessor("value", { header: "Value", cell: (c) => c.getValue() ?? <span className="muted">—</span> }),
);

type Pair = { key: string; value: string };
const pc = createColumnHelper<Pair>();
const pairColumns = columnList(pc,pc.accessor("key", { header: "Key", cell: (c) => <code>{c.getValue()}</code> }), pc.accessor("value", { header: "Value" }));

export function MetadataView() {
  const info = useApp((s) => s.info);
  const goTo = useApp((s) => s.goTo);
  if (!info) return null;
  const metaRegion = info.regions.find((r) => r.name === "metadata");
  return (
    <div className="view">
      <section aria-labelledby="md-h">
        <h2 id="md-h">Metadata items</h2>
        <DataTable
          label="Metadata items"
          data={info.metadata}
          columns={columns}
          onRowActivate={metaRegion ? (m) => goTo("file", metaRegion.fileOffset + m.offset, m.length) : undefined}
        />
        <p className="muted">Offsets are relative to the metadata region{metaRegion ? ` at ${hex(metaRegion.fileOffset)}` : ""}. Enter or click opens an item in the hex view.</p>
      </section>
      {info.parentLocator && (
        <section aria-labelledby="pl-h">
          <h2 id="pl-h">Parent locator</h2>
          <p>
            Locator type <code>{info.parentLocator.locatorType}</code>
          </p>
          <DataTable label="Parent locator entries" data={info.parentLocator.entries} columns={pairColumns} />
        </section>
      )}
    </div>
  );
}
