import { alignUp } from "./bytes";
import { SECTOR } from "./batUpdate";
import { VhdxError } from "./errors";
import type { VhdxImage } from "./image";
import { METADATA_TABLE_SIZE, MetadataTableEntry, serializeMetadataTable } from "./metadata";
import type { StructureEdit } from "./structurePatch";

/** A metadata item to place: its table entry (offset ignored) and its bytes. */
export interface MetadataItem {
  entry: MetadataTableEntry;
  bytes: Uint8Array;
}

/** The metadata items of `img` as they are in its file, in table order. */
export async function readMetadataItems(img: VhdxImage): Promise<MetadataItem[]> {
  const out: MetadataItem[] = [];
  for (const e of img.metadataTable.entries)
    out.push({ entry: e, bytes: await img.io.read(img.metadataRegion.fileOffset + e.offset, e.length) });
  return out;
}

/**
 * §2.6.1: the start of a metadata region holding `items`: the table in the first 64 KiB, then the
 * items one after another (8-byte aligned), up to the 4 KiB sector the last one ends in. Only that
 * much is built: its size follows the items held, never the region's length (which a file may put
 * at gigabytes). The rest of the region is left as it is; nothing references it. Throws when the
 * items do not fit the region.
 */
export function layoutMetadataRegion(img: VhdxImage, items: readonly MetadataItem[]): Uint8Array {
  const entries: MetadataTableEntry[] = [];
  let at = METADATA_TABLE_SIZE;
  let end = METADATA_TABLE_SIZE;
  for (const it of items) {
    if (it.bytes.length === 0) {
      entries.push({ ...it.entry, offset: 0, length: 0 });
      continue;
    }
    if (at + it.bytes.length > img.metadataRegion.length) {
      throw new VhdxError(
        "METADATA_INVALID",
        "the metadata items do not fit the metadata region",
        "metadata region",
        img.metadataRegion.fileOffset,
      );
    }
    entries.push({ ...it.entry, offset: at, length: it.bytes.length });
    end = at + it.bytes.length;
    at = alignUp(end, 8);
  }
  const region = new Uint8Array(Math.min(alignUp(end, SECTOR), img.metadataRegion.length));
  entries.forEach((e, i) => {
    if (e.length > 0) region.set(items[i].bytes, e.offset);
  });
  region.set(serializeMetadataTable(entries), 0);
  return region;
}

/**
 * The 4 KiB sectors of the metadata region that differ from `region` (bytes meant for the region
 * from `start`, a multiple of 4 KiB: the region's start as layoutMetadataRegion builds it, or any
 * span of it), as structure edits.
 */
export async function metadataRegionEdits(img: VhdxImage, region: Uint8Array, start = 0): Promise<StructureEdit[]> {
  const base = img.metadataRegion.fileOffset + start;
  const current = await img.io.read(base, region.length);
  const edits: StructureEdit[] = [];
  for (let s = 0; s < region.length; s += SECTOR) {
    const a = region.subarray(s, s + SECTOR);
    const b = current.subarray(s, s + SECTOR);
    if (a.some((x, i) => x !== b[i])) edits.push({ fileOffset: base + s, data: a.slice() });
  }
  return edits;
}
