import { PAYLOAD_BLOCK_FULLY_PRESENT, PAYLOAD_BLOCK_NOT_PRESENT, PAYLOAD_BLOCK_PARTIALLY_PRESENT } from "./bat";
import { alignUp } from "./bytes";
import { SECTOR } from "./batUpdate";
import { PIECE, Progress, StreamOptions, throwIfAborted } from "./convert";
import { VhdxError } from "./errors";
import type { VhdxImage } from "./image";
import { METADATA_TABLE_SIZE, MetadataTableEntry, serializeMetadataTable } from "./metadata";
import { commitStructurePatch, StructureEdit } from "./structurePatch";
import { VhdxWriter } from "./write";

export interface MergeResult {
  /** Child blocks that held data of their own. */
  blocksMerged: number;
  /** Virtual disk bytes written into the parent. */
  bytesCopied: number;
  /** True when the parent's metadata changed (§2.6.1.2 IsVirtualDisk items). */
  metadataChanged: boolean;
}

/**
 * Folds a differencing image into its parent: every sector the child holds (FULLY_PRESENT blocks,
 * PARTIALLY_PRESENT sectors with their bit set, ZERO blocks as zeros) is written into the parent
 * through `parent` (a writer on the parent file), then the metadata follows §2.6.1.2: the parent's
 * IsVirtualDisk items are dropped and the child's copied in. The parent gets a new DataWriteGuid,
 * so the child no longer links to it. Streams a piece at a time.
 */
export async function mergeIntoParent(
  child: VhdxImage,
  parent: VhdxWriter,
  o: StreamOptions = {},
): Promise<MergeResult> {
  if (child.diskType !== "differencing")
    throw new VhdxError("INVALID_ARGUMENT", "only a differencing image can be merged into its parent", "merge");
  const p = parent.image;
  if (p.virtualSize !== child.virtualSize || p.params.logicalSectorSize !== child.params.logicalSectorSize) {
    throw new VhdxError("CHAIN_INVALID", "the parent's virtual size or sector size differs from the child's", "merge");
  }
  const bs = child.blockSize;
  const g = child.geometry;
  const total = child.virtualSize;
  let done = 0;
  let blocks = 0;
  let copied = 0;
  const progress = (n: number) => o.onProgress?.({ done: (done += n), total } satisfies Progress);
  for (let block = 0; block < g.dataBlocksCount; block++) {
    throwIfAborted(o.signal, "merge");
    const start = block * bs;
    const len = Math.min(bs, total - start);
    const { state } = child.blockLocation(block);
    if (state === PAYLOAD_BLOCK_NOT_PRESENT) {
      progress(len);
      continue;
    }
    blocks++;
    let runs: [number, number][];
    if (state === PAYLOAD_BLOCK_PARTIALLY_PRESENT) runs = await presentRuns(child, block, len);
    else runs = [[0, len]]; // FULLY_PRESENT, or ZERO/UNMAPPED/UNDEFINED which read as zeros, not as the parent
    for (const [s, t] of runs) {
      for (let at = s; at < t; at += PIECE) {
        const n = Math.min(PIECE, t - at);
        const bytes =
          state === PAYLOAD_BLOCK_FULLY_PRESENT || state === PAYLOAD_BLOCK_PARTIALLY_PRESENT
            ? await child.read(start + at, n)
            : new Uint8Array(n);
        await parent.write(start + at, bytes);
        copied += n;
      }
    }
    progress(len);
  }
  const metadataChanged = await mergeMetadata(child, parent);
  await parent.flush();
  return { blocksMerged: blocks, bytesCopied: copied, metadataChanged };
}

/** Byte ranges [s, t) inside the block whose sector bitmap bits are set (§2.4). */
async function presentRuns(img: VhdxImage, block: number, len: number): Promise<[number, number][]> {
  const g = img.geometry;
  const ss = img.params.logicalSectorSize;
  const bitmap = await img.sectorBitmap(Math.floor(block / g.chunkRatio));
  const first = (block % g.chunkRatio) * (img.blockSize / ss);
  const runs: [number, number][] = [];
  for (let s = 0; s < len / ss; s++) {
    const bit = first + s;
    if (((bitmap[bit >>> 3] >>> (bit & 7)) & 1) === 0) continue;
    const last = runs[runs.length - 1];
    if (last && last[1] === s * ss) last[1] += ss;
    else runs.push([s * ss, (s + 1) * ss]);
  }
  return runs;
}

/**
 * §2.6.1.2 IsVirtualDisk: when merging, the parent's items with the flag are destroyed and the
 * child's copied in. Rebuilds the parent's metadata region and commits the changed 4 KiB sectors
 * as one structure patch. Returns false when nothing changes.
 */
async function mergeMetadata(child: VhdxImage, parent: VhdxWriter): Promise<boolean> {
  const p = parent.image;
  const items: { entry: MetadataTableEntry; bytes: Uint8Array }[] = [];
  for (const e of p.metadataTable.entries) {
    if (!e.isVirtualDisk)
      items.push({ entry: e, bytes: await p.file.read(p.metadataRegion.fileOffset + e.offset, e.length) });
  }
  for (const e of child.metadataTable.entries) {
    if (e.isVirtualDisk)
      items.push({ entry: e, bytes: await child.io.read(child.metadataRegion.fileOffset + e.offset, e.length) });
  }
  const region = new Uint8Array(p.metadataRegion.length);
  const entries: MetadataTableEntry[] = [];
  let at = METADATA_TABLE_SIZE;
  for (const it of items) {
    if (it.bytes.length === 0) {
      entries.push({ ...it.entry, offset: 0 });
      continue;
    }
    if (at + it.bytes.length > region.length) {
      throw new VhdxError(
        "METADATA_INVALID",
        "the merged metadata does not fit the parent's metadata region",
        "metadata region",
        p.metadataRegion.fileOffset,
      );
    }
    region.set(it.bytes, at);
    entries.push({ ...it.entry, offset: at });
    at = alignUp(at + it.bytes.length, 8);
  }
  region.set(serializeMetadataTable(entries), 0);
  const current = await p.file.read(p.metadataRegion.fileOffset, region.length);
  // Same IsVirtualDisk items with the same bytes: the parent's layout stays untouched.
  const parentVd = p.metadataTable.entries.filter((e) => e.isVirtualDisk);
  const childVd = items.filter((it) => it.entry.isVirtualDisk);
  const same =
    parentVd.length === childVd.length &&
    childVd.every(({ entry: c, bytes }) => {
      const m = parentVd.find(
        (e) => e.itemId === c.itemId && e.isUser === c.isUser && e.isRequired === c.isRequired && e.length === c.length,
      );
      return !!m && current.subarray(m.offset, m.offset + m.length).every((x, i) => x === bytes[i]);
    });
  if (same) return false;
  const edits: StructureEdit[] = [];
  for (let s = 0; s < region.length; s += SECTOR) {
    const a = region.subarray(s, s + SECTOR);
    const b = current.subarray(s, s + SECTOR);
    if (a.some((x, i) => x !== b[i])) edits.push({ fileOffset: p.metadataRegion.fileOffset + s, data: a.slice() });
  }
  if (edits.length === 0) return false;
  await commitStructurePatch(parent, edits);
  return true;
}
