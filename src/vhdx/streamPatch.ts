import { ensureLogRoom, growLogWhileStaging } from "./logResize";
import { diskExtents } from "./allocation";
import { BAT_ENTRY_SIZE } from "./bat";
import { isAllZero } from "./bytes";
import { SECTOR } from "./batUpdate";
import { Progress } from "./convert";
import { throwIfAborted } from "./pump";
import { VhdxError } from "./errors";
import { checkRange } from "./image";
import { logEntryBytes, PatchCost, PatchCostCounter, rangeBlocks } from "./patch";
import type { ByteSource } from "./source";
import type { VhdxWriter } from "./write";

export interface StreamPatchOptions {
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
}

export interface StreamPatchResult {
  /** Bytes of the source written at the offset. */
  bytes: number;
  cost: PatchCost;
}

/**
 * Writes a source of unknown or very large length at virtual `offset` as ONE atomic patch, holding
 * one block of it in memory at a time (§2.3: payload never goes through the log, so copy-on-write):
 * each touched block's new contents are written to free space as the bytes arrive, then, once the
 * source has ended, the data is flushed and ONE log entry switches every BAT entry and sector
 * bitmap sector. A crash or an error before that entry leaves the virtual disk as it was.
 *
 * A block whose new bytes are all zeros where the disk already reads as zeros (a hole of a sparse
 * input over never-written space) is not staged: it stays unallocated, so writing a mostly empty
 * input costs the space of its data, not of its length. Zeros over data are written as any bytes.
 *
 * A switch larger than the log grows the log (the writer's `notice` says so): for a source of
 * known size before anything is read (ensureLogRoom); for a pipe, whose length is unknown, when
 * the block that would overflow the log entry arrives (growLogWhileStaging: the new log goes past
 * the blocks staged so far). Only a switch larger than the largest log (4095 MiB) is LOG_FULL.
 *
 * Refusals that change nothing a reader sees:
 * - a source of known size that runs past the end of the disk, or whose switch cannot fit even
 *   the largest log (LOG_FULL): before anything is written;
 * - a source of unknown size (a pipe): as soon as a byte past the end of the disk arrives, or a
 *   block whose switch no log could hold. The blocks staged so far are abandoned and the file is
 *   cut back to its old size (or to the end of a log grown meanwhile); only the session's header
 *   updates (a fresh FileWriteGuid, a grown log) remain.
 */
export async function commitStreamPatch(
  writer: VhdxWriter,
  offset: number,
  source: ByteSource,
  o: StreamPatchOptions = {},
): Promise<StreamPatchResult> {
  const img = writer.image;
  checkRange(offset, source.size ?? 0, img.virtualSize, "virtual disk");
  const limit = source.size ?? img.virtualSize - offset;
  // The switch of everything the source may cover, known before any write.
  let fitsAll: boolean;
  if (source.size !== undefined) {
    const exact = new PatchCostCounter(img);
    for (const [block, spans] of rangeBlocks(img, offset, limit)) exact.addBlock(block, spans);
    await ensureLogRoom(writer, exact.logSectors, `writing ${limit} bytes`);
    fitsAll = true;
  } else fitsAll = logEntryBytes(logSectorsBound(img, offset, limit)) <= img.header.logLength;

  return writer.mutex.run(async () => {
    const counter = new PatchCostCounter(img);
    if (limit === 0 && source.size !== undefined) return { bytes: 0, cost: counter.cost(writer) };
    const bs = img.blockSize;
    const ss = img.params.logicalSectorSize;
    const buf = new Uint8Array(bs);
    let total = 0;
    let begun = false;
    // On an error before the commit, the blocks staged so far are abandoned and the file cut back.
    return writer.staging(async (staged, commit) => {
      for (let block = Math.floor(offset / bs); ; block++) {
        throwIfAborted(o.signal, "write");
        const pos = offset + total;
        const s = pos - block * bs;
        const want = Math.min(bs - s, limit - total);
        if (want === 0) {
          // At the end of the disk (or of a known size): one more byte from a pipe is an error.
          if (source.size === undefined && (await source.read(new Uint8Array(1))) > 0) {
            throw new VhdxError(
              "OUT_OF_RANGE",
              `the input runs past the end of the virtual disk (${img.virtualSize} bytes) when written at offset ${offset}; nothing was changed`,
              "virtual disk",
              offset,
            );
          }
          break;
        }
        // The block's new bytes sit at their place in a sector-aligned span of `buf`.
        const as = Math.floor(s / ss) * ss;
        const n = await source.read(buf.subarray(s - as, s - as + want));
        if (n === 0) break;
        const end = s + n;
        const at = Math.ceil(end / ss) * ss;
        // Partly written sectors keep the rest of their current virtual contents.
        if (as < s) buf.set(await img.read(block * bs + as, s - as), 0);
        if (end < at) buf.set(await img.read(block * bs + end, at - end), end - as);
        const span = buf.subarray(0, at - as);
        if (!(isAllZero(span) && (await readsAsZeros(img, block * bs + as, at - as)))) {
          counter.addBlock(block, [[as, at]]);
          // A pipe's switch outgrowing the log: the log grows, past the blocks staged so far.
          if (!fitsAll)
            await growLogWhileStaging(writer, counter.logSectors, `writing the input from offset ${offset}`);
          if (!begun) await writer.beginFileWrite();
          begun = true;
          await writer.stageBlock(staged, block, [{ inBlock: as, data: span }], true);
        }
        total += n;
        o.onProgress?.({ done: total, total: source.size ?? total });
        if (n < want) break;
      }
      const cost = counter.cost(writer);
      // Nothing staged (an empty input, or zeros over zeros only): the file is not touched at all.
      if (!begun) return { bytes: total, cost };
      await writer.beginDataWrite();
      await commit();
      return { bytes: total, cost };
    });
  });
}

/** Whether [offset, offset + length) of the disk reads as zeros by its allocation alone (nothing is read). */
async function readsAsZeros(img: VhdxWriter["image"], offset: number, length: number): Promise<boolean> {
  for await (const e of diskExtents(img, offset, length)) if (e.data) return false;
  return true;
}

/**
 * At most how many 4 KiB metadata sectors a write of [offset, offset + length) switches, in O(1)
 * (a pipe may run to the end of a 64 TiB disk): every BAT sector from the first block's entry to
 * the last one's, and for a differencing image every sector bitmap sector its sectors' bits touch.
 */
function logSectorsBound(img: VhdxWriter["image"], offset: number, length: number): number {
  if (length === 0) return 0;
  const bs = img.blockSize;
  const first = img.blockLocation(Math.floor(offset / bs)).entry;
  const last = img.blockLocation(Math.floor((offset + length - 1) / bs)).entry;
  let n = Math.floor((last * BAT_ENTRY_SIZE) / SECTOR) - Math.floor((first * BAT_ENTRY_SIZE) / SECTOR) + 1;
  if (img.diskType === "differencing") {
    const bits = Math.ceil(length / img.params.logicalSectorSize) + 1;
    const chunks = Math.floor((last - first) / (img.geometry.chunkRatio + 1)) + 2;
    n += Math.ceil(bits / (SECTOR * 8)) + chunks;
  }
  return n;
}
