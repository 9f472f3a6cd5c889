import { PAYLOAD_BLOCK_FULLY_PRESENT, PAYLOAD_BLOCK_NOT_PRESENT, PAYLOAD_BLOCK_PARTIALLY_PRESENT } from "./bat";
import { readExtentsInto } from "./allocation";
import { Progress, StreamOptions } from "./convert";
import { throwIfAborted } from "./pump";
import { VhdxError } from "./errors";
import { Guid, newGuid } from "./guid";
import type { VhdxImage } from "./image";
import { MetadataUpdate } from "./log";
import { layoutMetadataRegion, metadataRegionEdits, MetadataItem, readMetadataItems } from "./metadataLayout";
import { ensureLogRoom } from "./logResize";
import { PatchCostCounter } from "./patch";
import { checkStructurePatch, reloadStructures } from "./structurePatch";
import { BlockEdit, VhdxWriter } from "./write";

export interface MergeResult {
  /** Child blocks that held data of their own. */
  blocksMerged: number;
  /** Virtual disk bytes written into the parent. */
  bytesCopied: number;
  /** True when the parent's metadata changed (§2.6.1.2 IsVirtualDisk items). */
  metadataChanged: boolean;
}

export interface MergeOptions extends StreamOptions {
  /**
   * Called with the DataWriteGuid the parent will get, after every check and before the parent's
   * header changes. A host that can write the child records it there (announceParentLinkage) so
   * the child stays openable whether or not the merge commits.
   */
  beforeParentChanges?: (nextDataWriteGuid: Guid) => Promise<void>;
}

/** A virtual range the child supplies: its own bytes, or zeros (a ZERO, UNMAPPED or UNDEFINED block). */
interface ChildRun {
  start: number;
  end: number;
  zeros: boolean;
}

/**
 * Folds a differencing image into its parent, all or nothing across a crash. Every sector the child
 * holds (FULLY_PRESENT blocks, PARTIALLY_PRESENT sectors with their bit set, ZERO blocks as zeros)
 * replaces the parent's, and the metadata follows §2.6.1.2 (the parent's IsVirtualDisk items are
 * dropped and the child's copied in).
 *
 * The same design as a patch (§2.3: payload never goes through the log): each parent block the
 * child touches is copied, with the child's sectors laid over it, to free space, a block at a time
 * (memory bounded by one block); the copies are flushed; then ONE log entry switches every parent
 * BAT entry, sector bitmap sector and metadata sector. A crash before that entry is flushed leaves
 * the parent as it was; after it, replay gives the merged parent. The log entry's size is known
 * before anything is written: too large for the parent's log, it is refused (LOG_FULL, with the log
 * size needed). The parent gets a new DataWriteGuid before that entry (§2.2.2); see
 * `beforeParentChanges` for keeping the child linked meanwhile.
 */
export async function mergeIntoParent(
  child: VhdxImage,
  parent: VhdxWriter,
  o: MergeOptions = {},
): Promise<MergeResult> {
  if (child.diskType !== "differencing")
    throw new VhdxError("INVALID_ARGUMENT", "only a differencing image can be merged into its parent", "merge");
  const p = parent.image;
  if (p.virtualSize !== child.virtualSize || p.params.logicalSectorSize !== child.params.logicalSectorSize) {
    throw new VhdxError("CHAIN_INVALID", "the parent's virtual size or sector size differs from the child's", "merge");
  }
  // Plan: what the one log entry switches, before any write.
  const metadata = await mergedMetadataSectors(child, p);
  const counter = new PatchCostCounter(p);
  let blocksMerged = 0;
  await forEachParentBlock(
    child,
    p.blockSize,
    async (block, edits) => {
      throwIfAborted(o.signal, "merge");
      counter.addBlock(
        block,
        edits.map((e) => [e.inBlock, e.inBlock + e.end - e.start]),
      );
    },
    () => blocksMerged++,
  );
  // Entries past 126 descriptors continue into further descriptor sectors (§2.3.1); the log writer
  // writes them, so only the log's size limits the merge. (QEMU 7.2 reads only the first descriptor
  // sector: such an entry that a crash leaves unapplied is replayed by vhdx, not by qemu-img.)
  // Too large for the parent's log: the log grows first (before any other write of the merge).
  await ensureLogRoom(parent, counter.logSectors + metadata.length, "merging the child into its parent");
  if (counter.logSectors === 0 && metadata.length === 0) {
    o.onProgress?.({ done: child.virtualSize, total: child.virtualSize });
    return { blocksMerged, bytesCopied: 0, metadataChanged: false };
  }

  const next = newGuid();
  await o.beforeParentChanges?.(next);
  return parent.mutex.run(async () => {
    await parent.beginDataWrite(next);
    const buf = new Uint8Array(p.blockSize);
    let copied = 0;
    // Copies past the parent's old end are referenced by nothing until the entry is written: an
    // error before it abandons them and cuts the file back.
    await parent.staging(async (staged, commit) => {
      await forEachParentBlock(child, p.blockSize, async (block, runs) => {
        throwIfAborted(o.signal, "merge");
        const edits: BlockEdit[] = [];
        for (const r of runs) {
          const n = r.end - r.start;
          const into = buf.subarray(r.inBlock, r.inBlock + n);
          if (r.zeros) into.fill(0);
          else await readExtentsInto(child, r.start, into);
          edits.push({ inBlock: r.inBlock, data: into });
          copied += n;
        }
        await parent.stageBlock(staged, block, edits, true);
        o.onProgress?.({
          done: Math.min((block + 1) * p.blockSize, child.virtualSize),
          total: child.virtualSize,
        } satisfies Progress);
      });
      await commit(metadata, metadata.length > 0 ? () => reloadStructures(parent) : undefined);
    });
    o.onProgress?.({ done: child.virtualSize, total: child.virtualSize });
    return { blocksMerged, bytesCopied: copied, metadataChanged: metadata.length > 0 };
  });
}

/**
 * Walks the child's data in virtual order, grouped by the parent's blocks (the two block sizes may
 * differ): `fn(parentBlock, runs)` once per parent block the child touches, each run with its
 * place in that block. `onChildBlock` counts child blocks with data of their own.
 */
async function forEachParentBlock(
  child: VhdxImage,
  parentBlockSize: number,
  fn: (block: number, runs: (ChildRun & { inBlock: number })[]) => Promise<void>,
  onChildBlock?: () => void,
): Promise<void> {
  let cur = -1;
  let runs: (ChildRun & { inBlock: number })[] = [];
  const bs = child.blockSize;
  for (let block = 0; block < child.geometry.dataBlocksCount; block++) {
    const { state } = child.blockLocation(block);
    if (state === PAYLOAD_BLOCK_NOT_PRESENT) continue;
    const start = block * bs;
    const len = Math.min(bs, child.virtualSize - start);
    const own: ChildRun[] =
      state === PAYLOAD_BLOCK_PARTIALLY_PRESENT
        ? (await presentRuns(child, block, len)).map(([s, t]) => ({ start: start + s, end: start + t, zeros: false }))
        : // FULLY_PRESENT, or ZERO/UNMAPPED/UNDEFINED which read as zeros, not as the parent
          [{ start, end: start + len, zeros: state !== PAYLOAD_BLOCK_FULLY_PRESENT }];
    if (own.length === 0) continue;
    onChildBlock?.();
    for (const r of own) {
      for (let s = r.start; s < r.end;) {
        const pb = Math.floor(s / parentBlockSize);
        const e = Math.min(r.end, (pb + 1) * parentBlockSize);
        if (pb !== cur) {
          if (cur >= 0) await fn(cur, runs);
          cur = pb;
          runs = [];
        }
        runs.push({ start: s, end: e, zeros: r.zeros, inBlock: s - pb * parentBlockSize });
        s = e;
      }
    }
  }
  if (cur >= 0) await fn(cur, runs);
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
 * child's copied in. Returns the parent's metadata region sectors that change (none when the
 * IsVirtualDisk items are the same), checked as a structure patch would be: the parent must
 * still open with them.
 */
async function mergedMetadataSectors(child: VhdxImage, p: VhdxImage): Promise<MetadataUpdate[]> {
  const parentItems = await readMetadataItems(p);
  const childVd = (await readMetadataItems(child)).filter((it) => it.entry.isVirtualDisk);
  const parentVd = parentItems.filter((it) => it.entry.isVirtualDisk);
  // Same IsVirtualDisk items with the same bytes: the parent's layout stays untouched.
  const same =
    parentVd.length === childVd.length &&
    childVd.every(({ entry: c, bytes }) =>
      parentVd.some(
        (m) =>
          m.entry.itemId === c.itemId &&
          m.entry.isUser === c.isUser &&
          m.entry.isRequired === c.isRequired &&
          m.bytes.length === bytes.length &&
          m.bytes.every((x, i) => x === bytes[i]),
      ),
    );
  if (same) return [];
  const items: MetadataItem[] = [...parentItems.filter((it) => !it.entry.isVirtualDisk), ...childVd];
  const edits = await metadataRegionEdits(p, layoutMetadataRegion(p, items));
  if (edits.length === 0) return [];
  const check = await checkStructurePatch(p, edits);
  if (!check.ok)
    throw new VhdxError(
      "PATCH_INVALID",
      `the merged metadata would not do: ${check.reason}`,
      "metadata region",
      p.metadataRegion.fileOffset,
    );
  return check.sectors;
}
