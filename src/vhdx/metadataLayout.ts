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
 * §2.6.1: a whole metadata region holding `items`: the table in the first 64 KiB, then the items
 * one after another (8-byte aligned). Throws when they do not fit the region.
 */
export function layoutMetadataRegion(img: VhdxImage, items: readonly MetadataItem[]): Uint8Array {
  const region = new Uint8Array(img.metadataRegion.length);
  const entries: MetadataTableEntry[] = [];
  let at = METADATA_TABLE_SIZE;
  for (const it of items) {
    if (it.bytes.length === 0) {
      entries.push({ ...it.entry, offset: 0, length: 0 });
      continue;
    }
    if (at + it.bytes.length > region.length) {
      throw new VhdxError(
        "METADATA_INVALID",
        "the metadata items do not fit the metadata region",
        "metadata region",
        img.metadataRegion.fileOffset,
      );
    }
    region.set(it.bytes, at);
    entries.push({ ...it.entry, offset: at, length: it.bytes.length });
    at = alignUp(at + it.bytes.length, 8);
  }
  region.set(serializeMetadataTable(entries), 0);
  return region;
}

/** The 4 KiB sectors of the metadata region that differ from `region`, as structure edits. */
export async function metadataRegionEdits(img: VhdxImage, region: Uint8Array): Promise<StructureEdit[]> {
  const current = await img.io.read(img.metadataRegion.fileOffset, region.length);
  const edits: StructureEdit[] = [];
  for (let s = 0; s < region.length; s += SECTOR) {
    const a = region.subarray(s, s + SECTOR);
    const b = current.subarray(s, s + SECTOR);
    if (a.some((x, i) => x !== b[i])) edits.push({ fileOffset: img.metadataRegion.fileOffset + s, data: a.slice() });
  }
  return edits;
}
