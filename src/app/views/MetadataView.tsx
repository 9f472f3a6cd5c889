/** Every metadata item (§2.6.1.2) with its flags and decoded value, and the parent locator (§2.6.2.6). */
import { createColumnHelper } from "@tanstack/react-table";
import { DataTable, columnList } from "../components/DataTable";
import { formatSize, hex } from "../lib/format";
import type { ImageInfo, MetadataItemInfo } from "../store/engineApi";

// §2.6.2 known metadata item GUIDs.
const FILE_PARAMETERS = "caa16737-fa36-4d43-b3b6-33f0aa44e76b";
const VIRTUAL_DISK_SIZE = "2fa54224-cd1b-4876-b211-5dbed83bf4b8";
const VIRTUAL_DISK_ID = "beca12ab-b2e6-4523-93ef-c309e000c746";
const LOGICAL_SECTOR_SIZE = "8141bf1d-a96f-4709-ba47-f233a8faab5f";
const PHYSICAL_SECTOR_SIZE = "cda348c7-445d-4471-9cc9-e9885251c556";
const PARENT_LOCATOR = "a8d35f2d-b30b-454d-abf7-d3d84834ab0c";
import { useApp } from "../store/store";

type MetadataRow = MetadataItemInfo & { value?: string };
const col = createColumnHelper<MetadataRow>();

/** The decoded value of a known item, as the engine reported it in the image info (§2.6.2). */
function decoded(m: MetadataItemInfo, info: ImageInfo): string | undefined {
  switch (m.guid) {
    case FILE_PARAMETERS:
      return `BlockSize ${formatSize(info.blockSize)}, LeaveBlockAllocated ${info.leaveBlockAllocated ? 1 : 0}, HasParent ${info.hasParent ? 1 : 0}`;
    case VIRTUAL_DISK_SIZE:
      return `${formatSize(info.virtualSize)} (${info.virtualSize} bytes)`;
    case VIRTUAL_DISK_ID:
      return info.virtualDiskId;
    case LOGICAL_SECTOR_SIZE:
      return `${info.logicalSectorSize} bytes`;
    case PHYSICAL_SECTOR_SIZE:
      return `${info.physicalSectorSize} bytes`;
    case PARENT_LOCATOR:
      return info.parentLocator ? `${info.parentLocator.entries.length} key/value pairs (below)` : undefined;
    default:
      return undefined;
  }
}
const yes = (b: boolean) => (b ? "yes" : "no");
const columns = columnList(
  col,
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
const pairColumns = columnList(
  pc,
  pc.accessor("key", { header: "Key", cell: (c) => <code>{c.getValue()}</code> }),
  pc.accessor("value", { header: "Value" }),
);

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
          data={info.metadata.map((m): MetadataRow => ({ ...m, value: decoded(m, info) }))}
          columns={columns}
          onRowActivate={metaRegion ? (m) => goTo("file", metaRegion.fileOffset + m.offset, m.length) : undefined}
        />
        <p className="muted">
          Offsets are relative to the metadata region{metaRegion ? ` at ${hex(metaRegion.fileOffset)}` : ""}. Enter or
          click opens an item in the hex view.
        </p>
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
