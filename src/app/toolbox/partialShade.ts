/**
 * The BAT view's shading of PARTIALLY_PRESENT blocks by their sector bitmap: the more sectors a
 * block holds itself, the closer its cell to the full PARTIALLY_PRESENT colour; the fewer, the
 * closer to NOT_PRESENT (the parent's).
 */
import { create } from "zustand";
import type { BatPalette } from "../lib/batPixels";
import { engineClient } from "../store/engineConnection";
import { errorText } from "./checkStore";

export interface PartialData {
  blocks: Uint32Array;
  present: Uint32Array;
  sectorsPerBlock: number;
}

/** Mixes two RGBA u32 colours (little-endian bytes R, G, B, A): t = 0 gives a, t = 1 gives b. */
export function mix(a: number, b: number, t: number): number {
  let out = 0;
  for (let shift = 0; shift < 32; shift += 8) {
    const x = (a >>> shift) & 0xff;
    const y = (b >>> shift) & 0xff;
    out |= Math.round(x + (y - x) * t) << shift;
  }
  return out >>> 0;
}

/**
 * Recolours the pixels of partially present blocks in a painted BAT (one pixel per entry; a
 * sector bitmap entry follows each chunk of `chunkRatio` payload entries, §2.5). Cells the
 * filter hid keep the filtered colour.
 */
export function shadePartial(out: Uint32Array, d: PartialData, chunkRatio: number, palette: BatPalette): void {
  const low = palette.payload[0];
  const high = palette.payload[7];
  for (let i = 0; i < d.blocks.length; i++) {
    const block = d.blocks[i];
    const entry = block + Math.floor(block / chunkRatio);
    if (entry >= out.length || out[entry] !== high) continue;
    // At least a quarter of the way, so a block with one sector still reads as partially present.
    out[entry] = mix(low, high, 0.25 + 0.75 * (d.present[i] / d.sectorsPerBlock));
  }
}

interface PartialState {
  enabled: boolean;
  data: PartialData | null;
  error: string | null;
  toggle(): Promise<void>;
}

export const usePartialShade = create<PartialState>()((set, get) => ({
  enabled: false,
  data: null,
  error: null,
  async toggle() {
    if (get().enabled) {
      set({ enabled: false });
      return;
    }
    const client = engineClient();
    if (!client) return;
    set({ enabled: true, error: null });
    try {
      const data = await client.partialBlocks();
      if (get().enabled) set({ data });
    } catch (e) {
      set({ enabled: false, error: errorText(e) });
    }
  },
}));
