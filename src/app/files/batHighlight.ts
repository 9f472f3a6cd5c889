/** The BAT view's highlight of the blocks that hold the file located from the Files view. */
import { useMemo } from "react";
import { rgba, type BatPalette } from "../lib/batPixels";
import { mix } from "../toolbox/partialShade";
import { useFiles, type FileLocation } from "./filesStore";

const HIGHLIGHT = rgba(255, 0, 170);
/** Cells highlighted at most (a BAT of 64 TiB in 1 MiB blocks has 2^26). */
const MAX_BLOCKS = 1 << 26;

/** Payload blocks holding any byte of the located file's runs, sorted and unique. */
export function blocksOf(loc: FileLocation, blockSize: number): number[] {
  const out = new Set<number>();
  for (const r of loc.runs) {
    const last = Math.floor((r.end - 1) / blockSize);
    for (let b = Math.floor(r.start / blockSize); b <= last && out.size < MAX_BLOCKS; b++) out.add(b);
  }
  return [...out].sort((a, b) => a - b);
}

/** Paints the file's blocks in the highlight colour and fades every other cell. */
export function highlightBlocks(pixels: Uint32Array, blocks: number[], chunkRatio: number, palette: BatPalette): void {
  for (let i = 0; i < pixels.length; i++) pixels[i] = mix(pixels[i], palette.filtered, 0.6);
  for (const b of blocks) {
    const entry = b + Math.floor(b / chunkRatio);
    if (entry < pixels.length) pixels[entry] = HIGHLIGHT;
  }
}

/** Composes the file highlight after `base` (the partial-block shading), when a file is located. */
export function useFileHighlight(
  chunkRatio: number,
  blockSize: number,
  base: ((pixels: Uint32Array, palette: BatPalette) => void) | undefined,
): {
  overlay: ((pixels: Uint32Array, palette: BatPalette) => void) | undefined;
  located: FileLocation | null;
  blocks: number;
} {
  const located = useFiles((s) => s.located);
  return useMemo(() => {
    if (!located) return { overlay: base, located, blocks: 0 };
    const blocks = blocksOf(located, blockSize);
    return {
      located,
      blocks: blocks.length,
      overlay: (pixels: Uint32Array, palette: BatPalette) => {
        base?.(pixels, palette);
        highlightBlocks(pixels, blocks, chunkRatio, palette);
      },
    };
  }, [located, base, chunkRatio, blockSize]);
}
