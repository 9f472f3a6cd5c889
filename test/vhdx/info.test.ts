/**
 * The BAT state counts `imageInfo` reports, against a naive count entry by entry (§2.5: a sector
 * bitmap entry after each chunk's payload entries), on random BATs from empty to dense, including
 * one cut short by the end of the file (the missing entries count as NOT_PRESENT).
 */
import { describe, expect, it } from "vitest";
import { isSectorBitmapEntry, PAYLOAD_STATE_NAMES, SB_STATE_NAMES } from "../../src/vhdx/bat";
import { GiB, MiB } from "../../src/vhdx/bytes";
import { createImage, parentInfoOf } from "../../src/vhdx/create";
import { openImage, type VhdxImage } from "../../src/vhdx/image";
import { imageInfo } from "../../src/vhdx/info";
import { MemoryBackend } from "../../src/vhdx/io";
import { Rng } from "../helpers/random";

function naiveCounts(img: VhdxImage): { payload: Record<string, number>; sectorBitmap: Record<string, number> } {
  const payload: Record<string, number> = {};
  const sectorBitmap: Record<string, number> = {};
  for (let i = 0; i < img.bat.length; i++) {
    const s = img.bat.state(i);
    if (isSectorBitmapEntry(img.geometry, i))
      sectorBitmap[SB_STATE_NAMES[s]] = (sectorBitmap[SB_STATE_NAMES[s]] ?? 0) + 1;
    else payload[PAYLOAD_STATE_NAMES[s]] = (payload[PAYLOAD_STATE_NAMES[s]] ?? 0) + 1;
  }
  return { payload, sectorBitmap };
}

async function image(differencing: boolean): Promise<VhdxImage> {
  const virtualSize = 40 * GiB; // 1 MiB blocks, chunk ratio 4096: ten chunks
  const mem = new MemoryBackend();
  if (!differencing) {
    await createImage(mem, { type: "dynamic", virtualSize, blockSize: MiB });
  } else {
    const pmem = new MemoryBackend();
    await createImage(pmem, { type: "dynamic", virtualSize, blockSize: MiB });
    const parent = await openImage(pmem, { readOnly: true });
    await createImage(mem, {
      type: "differencing",
      blockSize: MiB,
      parent: parentInfoOf(parent, { relativePath: "p.vhdx" }),
    });
  }
  return openImage(mem, { readOnly: true });
}

describe("imageInfo's BAT counts", () => {
  for (const differencing of [false, true]) {
    it(`equal a count entry by entry on random BATs (${differencing ? "differencing" : "dynamic"})`, async () => {
      const img = await image(differencing);
      const rng = new Rng(differencing ? 7 : 3);
      const full = img.bat.words.length;
      for (let round = 0; round < 24; round++) {
        // Empty, sparse in runs, dense, or QEMU's fresh pattern (every payload entry ZERO, chunk
        // after chunk) with or without one entry changed; some BATs cut short as by the end of the file.
        const kind = round % 6;
        const present = kind === 3 || kind === 5 ? (rng.u32() % (full / 2)) * 2 : full;
        const words = new Uint32Array(present);
        if (kind < 4) {
          const density = [0, 0.0005, 0.01, 0.9][kind];
          for (let k = 0; k < present; k += 2) {
            if (rng.u32() / 2 ** 32 < density) {
              words[k] = (rng.u32() & ~7) | (rng.u32() % 8);
              words[k + 1] = rng.u32() % 4096;
            }
          }
        } else {
          for (let i = 0; i < present / 2; i++) if (!isSectorBitmapEntry(img.geometry, i)) words[i * 2] = 2;
          if (round % 12 === 5 && present > 0) words[(rng.u32() % (present / 2)) * 2] = rng.u32() % 8;
        }
        img.bat.words = words;
        const got = imageInfo(img).bat;
        const want = naiveCounts(img);
        expect({ payload: got.payload, sectorBitmap: got.sectorBitmap }).toEqual(want);
      }
    });
  }
});
