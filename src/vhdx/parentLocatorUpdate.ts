import type { ParentPathKey } from "./chain";
import { hex, VhdxError } from "./errors";
import { METADATA_ITEM_MAX_LENGTH, METADATA_TABLE_SIZE, MetadataTable, PARENT_LOCATOR_GUID } from "./metadata";
import { ParentLocator, serializeParentLocator } from "./parentLocator";
import { commitStructurePatch, StructureEdit } from "./structurePatch";
import type { VhdxWriter } from "./write";

/** One stale path entry of a parent locator and the value that points at the parent as it is now. */
export interface ParentPathChange {
  key: ParentPathKey;
  from: string;
  to: string;
}

const TABLE_HEADER_LEN = 32;
const TABLE_ENTRY_LEN = 32;
/** §2.6.2.6.2: KeyLength and ValueLength are 16-bit byte counts of UTF-16 strings. */
const MAX_STRING_BYTES = 0xfffe;

/** A person's line for one change, e.g. for the CLI's stderr or the UI's notices. */
export function describeParentPathChange(c: ParentPathChange): string {
  // Quoted as stored: JSON escaping would double every "\\" of a Windows path.
  return `parent locator ${c.key} updated from "${c.from}" to "${c.to}"`;
}

/**
 * The parent locator item with `changes` applied (§2.6.2.6.3). Every other entry — parent_linkage
 * and parent_linkage2 above all, and keys this implementation does not know — keeps its key, value
 * and place in the table; only existing path entries change. Keys and values are laid out again
 * after the entry table, so the item may grow or shrink.
 */
export function updatedParentLocatorItem(pl: ParentLocator, changes: readonly ParentPathChange[]): Uint8Array {
  const byKey = new Map(changes.map((c) => [c.key as string, c]));
  for (const c of changes) {
    if (!pl.entries.some((e) => e.key === c.key)) {
      throw new VhdxError("INVALID_ARGUMENT", `the parent locator has no ${c.key} entry to update`, "parent locator");
    }
    if (c.to === "" || c.to.includes("\0") || c.to.length * 2 > MAX_STRING_BYTES) {
      throw new VhdxError(
        "INVALID_ARGUMENT",
        `${c.key} ${JSON.stringify(c.to)} cannot be stored: a locator value is a non-empty UTF-16 string without NULs of at most ${MAX_STRING_BYTES} bytes (§2.6.2.6.2)`,
        "parent locator",
      );
    }
  }
  return serializeParentLocator(
    pl.locatorType,
    pl.entries.map((e) => [e.key, byKey.get(e.key)?.to ?? e.value]),
  );
}

/**
 * Where an item of `length` bytes can live in place of table entry `index` (§2.6.1.2): at least
 * 64 KiB into the region, entirely inside it, overlapping no other item. Its present offset is
 * kept when the new length still fits there; otherwise the lowest free place. Null when none.
 */
export function placeMetadataItem(
  table: MetadataTable,
  index: number,
  length: number,
  regionLength: number,
): number | null {
  const others = table.entries
    .filter((e, i) => i !== index && e.length > 0)
    .map((e) => [e.offset, e.offset + e.length])
    .sort((a, b) => a[0] - b[0]);
  const fits = (at: number) =>
    at >= METADATA_TABLE_SIZE && at + length <= regionLength && others.every(([s, t]) => at + length <= s || at >= t);
  const own = table.entries[index];
  if (own.length > 0 && fits(own.offset)) return own.offset;
  // Candidates: the start of the item area, and the end of every other item.
  const candidates = [METADATA_TABLE_SIZE, ...others.map(([, t]) => t)].sort((a, b) => a - b);
  return candidates.find(fits) ?? null;
}

/**
 * Replaces the image's parent locator item with `item` (§2.6.2.6): the item is placed in the
 * metadata region (placeMetadataItem) and it and its table entry's Offset/Length go through the
 * log as ONE entry, after a header update with a fresh FileWriteGuid (§2.2.2.1). DataWriteGuid
 * stays: no virtual disk read observes the locator, and children of this image link to it.
 * Returns the item's new offset in the region.
 */
export async function commitParentLocatorItem(writer: VhdxWriter, item: Uint8Array): Promise<number> {
  const img = writer.image;
  const index = img.metadataTable.entries.findIndex((e) => e.itemId === PARENT_LOCATOR_GUID && !e.isUser);
  if (index < 0) throw new VhdxError("METADATA_MISSING", "the image has no parent locator", "parent locator");
  const region = img.metadataRegion;
  if (item.length > METADATA_ITEM_MAX_LENGTH) {
    throw new VhdxError(
      "METADATA_REGION_FULL",
      `the updated parent locator would be ${item.length} bytes; a metadata item holds at most 1 MiB (§2.6.1.2)`,
      "parent locator",
      region.fileOffset + img.metadataTable.entries[index].offset,
    );
  }
  const at = placeMetadataItem(img.metadataTable, index, item.length, region.length);
  if (at === null) {
    throw new VhdxError(
      "METADATA_REGION_FULL",
      `the updated parent locator (${item.length} bytes) fits nowhere in the metadata region (${hex(region.length)} bytes) without overlapping another item (§2.6.1.2)`,
      "metadata region",
      region.fileOffset,
    );
  }
  // Only Offset and Length of the table entry change; its other bytes are kept as they are.
  const entryAt = region.fileOffset + TABLE_HEADER_LEN + index * TABLE_ENTRY_LEN;
  const entry = await img.file.read(entryAt, TABLE_ENTRY_LEN);
  const dv = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  dv.setUint32(16, at, true);
  dv.setUint32(20, item.length, true);
  const edits: StructureEdit[] = [
    { fileOffset: region.fileOffset + at, data: item },
    { fileOffset: entryAt, data: entry },
  ];
  await commitStructurePatch(writer, edits, { virtualDiskChanges: false });
  return at;
}

/**
 * Rewrites stale path entries of the image's parent locator (§2.6.2.6.3: "upon successful open of
 * a chain, an implementation has to update any existing stale path entries") as one commit
 * (commitParentLocatorItem). Adds a PARENT_LOCATOR_UPDATED warning per change.
 */
export async function rewriteParentPaths(writer: VhdxWriter, changes: readonly ParentPathChange[]): Promise<void> {
  if (changes.length === 0) return;
  const img = writer.image;
  const pl = img.params.parentLocator;
  if (!pl) throw new VhdxError("METADATA_MISSING", "the image has no parent locator", "parent locator");
  const at = await commitParentLocatorItem(writer, updatedParentLocatorItem(pl, changes));
  for (const c of changes) {
    img.warnings.push({
      code: "PARENT_LOCATOR_UPDATED",
      message: describeParentPathChange(c),
      structure: "parent locator",
      offset: img.metadataRegion.fileOffset + at,
    });
  }
}
