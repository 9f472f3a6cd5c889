/** The BAT view's switch for shading partially present blocks by their sector bitmap (differencing images). */
import { useEffect, useMemo } from "react";
import type { BatPalette } from "../lib/batPixels";
import { useApp } from "../store/store";
import { shadePartial, usePartialShade } from "./partialShade";

export function PartialShadeToggle() {
  const info = useApp((s) => s.info);
  const batWords = useApp((s) => s.batWords);
  const { enabled, data, error, toggle } = usePartialShade();
  // A new image or a commit changes the BAT: fetch the counts again.
  useEffect(() => {
    if (usePartialShade.getState().enabled) usePartialShade.setState({ enabled: false, data: null });
  }, [batWords]);
  if (info?.diskType !== "differencing") return null;
  const partial = info.bat.payload.PARTIALLY_PRESENT ?? 0;
  return (
    <div className="partial-shade">
      <label>
        <input type="checkbox" checked={enabled} onChange={() => void toggle()} disabled={partial === 0} /> Shade
        partial blocks by sector bitmap
      </label>
      {enabled && data && (
        <p className="small muted">
          {data.blocks.length} partially present block{data.blocks.length === 1 ? "" : "s"}; lighter holds fewer of its
          own sectors.
        </p>
      )}
      {error && <p className="small danger">{error}</p>}
    </div>
  );
}

/** What BatCanvas applies after painting: the shading when switched on, else undefined. */
export function usePartialOverlay(
  chunkRatio: number,
): ((pixels: Uint32Array, palette: BatPalette) => void) | undefined {
  const { enabled, data } = usePartialShade();
  return useMemo(
    () =>
      enabled && data
        ? (pixels: Uint32Array, palette: BatPalette) => shadePartial(pixels, data, chunkRatio, palette)
        : undefined,
    [enabled, data, chunkRatio],
  );
}
