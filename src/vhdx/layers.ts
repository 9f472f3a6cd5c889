import { payloadEntryIndex, PAYLOAD_BLOCK_NOT_PRESENT, PAYLOAD_BLOCK_PARTIALLY_PRESENT } from "./bat";
import { VhdxError } from "./errors";
import type { VhdxImage } from "./image";

/** `sectorLayers` marks a sector that no image of the chain holds (it reads as zeros) with this. */
export const NO_LAYER = -1;

/**
 * Which image of a differencing chain supplies each logical sector of [firstSector, firstSector +
 * count): 0 is `img` itself, 1 its parent, and so on; NO_LAYER when no image holds it (a base
 * image's NOT_PRESENT block reads as zeros). §2.5.1.1: FULLY_PRESENT, ZERO, UNMAPPED and UNDEFINED
 * blocks are decided by the image that has them (data, or zeros); NOT_PRESENT in a differencing
 * image defers to the parent; PARTIALLY_PRESENT defers per sector, by the sector bitmap (§2.4).
 * The parents must be attached (`attachParents`); a missing one is PARENT_NOT_FOUND.
 */
export async function sectorLayers(img: VhdxImage, firstSector: number, count: number): Promise<Int8Array> {
  const ss = img.params.logicalSectorSize;
  const total = Math.ceil(img.virtualSize / ss);
  if (
    !Number.isSafeInteger(firstSector) ||
    !Number.isSafeInteger(count) ||
    firstSector < 0 ||
    count < 0 ||
    firstSector + count > total
  ) {
    throw new VhdxError(
      "OUT_OF_RANGE",
      `sectors ${firstSector}+${count} run past the disk's ${total} sectors`,
      "virtual disk",
    );
  }
  const out = new Int8Array(count).fill(NO_LAYER);
  // Sectors still to place, as indexes into `out`; each layer settles some and passes the rest down.
  let pending: number[] = Array.from({ length: count }, (_, i) => i);
  let layer: VhdxImage | null = img;
  for (let depth = 0; layer && pending.length > 0; depth++) {
    const image: VhdxImage = layer;
    const differencing = image.diskType === "differencing";
    const perBlock = image.blockSize / ss;
    const next: number[] = [];
    for (const i of pending) {
      const sector = firstSector + i;
      // Past a parent's end (a child resized larger): no layer holds it, it reads as zeros.
      if (sector * ss >= image.virtualSize) continue;
      const block = Math.floor(sector / perBlock);
      const state = image.bat.state(payloadEntryIndex(image.geometry, block));
      if (state === PAYLOAD_BLOCK_PARTIALLY_PRESENT && differencing) {
        const g = image.geometry;
        const bitmap = await image.sectorBitmap(Math.floor(block / g.chunkRatio));
        const bit = (block % g.chunkRatio) * perBlock + (sector % perBlock);
        if ((bitmap[bit >>> 3] >>> (bit & 7)) & 1) out[i] = depth;
        else next.push(i);
      } else if (state === PAYLOAD_BLOCK_NOT_PRESENT) {
        if (differencing) next.push(i);
      } else {
        // FULLY_PRESENT: this image's data; ZERO, UNMAPPED, UNDEFINED: this image's zeros.
        out[i] = depth;
      }
    }
    pending = next;
    if (pending.length && differencing) {
      if (!image.parent) {
        throw new VhdxError(
          "PARENT_NOT_FOUND",
          "this differencing image has no parent attached; open it with its parent chain",
          "parent locator",
        );
      }
      layer = isImage(image.parent) ? image.parent : null;
      if (!layer) for (const i of pending) out[i] = depth + 1; // a raw parent holds every sector it is asked for
    } else {
      layer = null;
    }
  }
  return out;
}

function isImage(d: unknown): d is VhdxImage {
  return typeof d === "object" && d !== null && "bat" in d && "params" in d;
}

/** For each PARTIALLY_PRESENT payload block of a differencing image: how many of its sectors it holds. */
export interface PartialPresence {
  /** Virtual block numbers, ascending. */
  blocks: Uint32Array;
  /** Sectors with their sector bitmap bit set (§2.4), per block. */
  present: Uint32Array;
  sectorsPerBlock: number;
}

/** Counts, per PARTIALLY_PRESENT block, the sectors its sector bitmap marks present. */
export async function partialPresence(img: VhdxImage): Promise<PartialPresence> {
  const g = img.geometry;
  const perBlock = img.blockSize / img.params.logicalSectorSize;
  const blocks: number[] = [];
  const present: number[] = [];
  if (img.diskType === "differencing") {
    for (let block = 0; block < g.dataBlocksCount; block++) {
      if (img.bat.state(payloadEntryIndex(g, block)) !== PAYLOAD_BLOCK_PARTIALLY_PRESENT) continue;
      const bitmap = await img.sectorBitmap(Math.floor(block / g.chunkRatio));
      // perBlock is a multiple of 8 (a block is at least 1 MiB), so the block's bits are whole bytes.
      const from = ((block % g.chunkRatio) * perBlock) >>> 3;
      let n = 0;
      for (let i = from; i < from + perBlock / 8; i++) n += POPCOUNT[bitmap[i]];
      blocks.push(block);
      present.push(n);
    }
  }
  return { blocks: Uint32Array.from(blocks), present: Uint32Array.from(present), sectorsPerBlock: perBlock };
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let n = 0;
  for (let x = b; x; x >>= 1) n += x & 1;
  return n;
});
