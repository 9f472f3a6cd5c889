/**
 * "Changed in this layer": for a differencing image, whether any byte of a file lies in sectors
 * the image itself holds rather than its parents — what an analyst of a checkpoint looks at first.
 */
import { payloadEntryIndex, PAYLOAD_BLOCK_FULLY_PRESENT, PAYLOAD_BLOCK_PARTIALLY_PRESENT } from "../../vhdx/bat";
import type { VhdxImage } from "../../vhdx/image";
import type { CallContext } from "../protocol";
import { fileSystemOf, filesState } from "./state";
import { fsList, type SortOrder } from "./browse";

/** Blocks looked at per file before the answer is "unknown" (null): a bound on hostile extent lists. */
const MAX_BLOCKS_PER_FILE = 65_536;

/** Whether `img` itself supplies any sector of the disk bytes [start, end); null when the bound was hit. */
export async function ownLayerHolds(
  img: VhdxImage,
  start: number,
  end: number,
  budget: { blocks: number },
): Promise<boolean | null> {
  const bs = img.blockSize;
  const ss = img.params.logicalSectorSize;
  for (let block = Math.floor(start / bs); block * bs < end; block++) {
    if (--budget.blocks < 0) return null;
    const state = img.bat.state(payloadEntryIndex(img.geometry, block));
    if (state === PAYLOAD_BLOCK_FULLY_PRESENT) return true;
    if (state !== PAYLOAD_BLOCK_PARTIALLY_PRESENT) continue;
    const g = img.geometry;
    const bitmap = await img.sectorBitmap(Math.floor(block / g.chunkRatio));
    const perBlock = bs / ss;
    const first = Math.max(start, block * bs);
    const last = Math.min(end, (block + 1) * bs);
    for (let sector = Math.floor(first / ss); sector * ss < last; sector++) {
      const bit = (block % g.chunkRatio) * perBlock + (sector % perBlock);
      if ((bitmap[bit >>> 3] >>> (bit & 7)) & 1) return true;
    }
  }
  return false;
}

/**
 * For entries [start, start + count) of the listed directory (in its current order): true when
 * the file has bytes in this differencing image's own blocks, false when all come from the
 * parents, null for folders and where the bound was hit. Empty for an image that is not differencing.
 */
export async function fsLayerChanges(
  ctx: CallContext,
  volume: number,
  path: string,
  sort: SortOrder,
  start: number,
  count: number,
): Promise<(boolean | null)[]> {
  const st = filesState();
  // A VHD's layers are not marked (its blocks are read through VhdImage, not the VHDX layers).
  if (!("writer" in st.session)) return [];
  const img = st.session.image;
  if (img.diskType !== "differencing") return [];
  const page = await fsList(ctx, volume, path, sort, start, count);
  const { fs, volume: v } = await fileSystemOf(st, volume);
  const out: (boolean | null)[] = [];
  for (const e of page.entries) {
    ctx.signal.throwIfAborted();
    if (e.type !== "file" || e.size === 0) {
      out.push(e.type === "file" ? false : null);
      continue;
    }
    const budget = { blocks: MAX_BLOCKS_PER_FILE };
    let answer: boolean | null = false;
    for await (const x of fs.extents(e)) {
      if (x.deviceOffset === null) continue;
      const s0 = v.start + x.deviceOffset;
      const held = await ownLayerHolds(img, s0, s0 + (x.encoded ? (x.deviceLength ?? x.length) : x.length), budget);
      if (held !== false) {
        answer = held;
        break;
      }
    }
    out.push(answer);
  }
  return out;
}
