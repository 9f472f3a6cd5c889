/**
 * For a differencing image in the hex view: which image of the chain supplies each sector around
 * the cursor (the engine's sectorLayers), as a strip of cells and, for the cursor's sector, in words.
 */
import { useEffect, useState } from "react";
import { formatCount } from "../lib/format";
import { engineClient } from "../store/engineConnection";
import { useApp } from "../store/store";
import { useChain } from "./chainStore";

/** Sectors shown at once: a 64 KiB window at 512-byte sectors. */
const WINDOW = 128;
const LAYER_COLOURS = ["var(--accent)", "var(--rm-bat)", "var(--rm-log)", "var(--rm-metadata)", "var(--rm-region)"];

export function layerColour(layer: number): string {
  return layer < 0 ? "var(--rm-free)" : LAYER_COLOURS[layer % LAYER_COLOURS.length];
}

export function SectorSources() {
  const info = useApp((s) => s.info);
  const focus = useApp((s) => s.focus);
  const chain = useChain((s) => s.chain);
  const [layers, setLayers] = useState<{ first: number; values: Int8Array } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const ss = info?.logicalSectorSize ?? 512;
  const sector = Math.floor(focus.offset / ss);
  const total = info ? Math.ceil(info.virtualSize / ss) : 0;
  const first = Math.max(0, Math.min(Math.floor(sector / WINDOW) * WINDOW, total - WINDOW));
  const attached = !!chain;

  useEffect(() => {
    const client = engineClient();
    if (!client || !info || info.diskType !== "differencing" || !attached) return;
    let live = true;
    client.layers(first, Math.min(WINDOW, total - first)).then(
      (values) => live && (setLayers({ first, values }), setError(null)),
      (e: unknown) => live && setError(e instanceof Error ? e.message : String(e)),
    );
    return () => {
      live = false;
    };
  }, [info, first, total, attached]);

  if (!info || info.diskType !== "differencing" || focus.space !== "virtual") return null;
  const names = chain?.images.map((i) => i.name) ?? [];
  const nameOf = (l: number) => (l < 0 ? "no image (reads as zeros)" : (names[l] ?? `layer ${l}`));
  const here =
    layers && sector >= layers.first && sector < layers.first + layers.values.length
      ? layers.values[sector - layers.first]
      : null;
  return (
    <section aria-labelledby="sources-h" className="sector-sources">
      <h2 id="sources-h">Sector sources</h2>
      {!attached ? (
        <p className="muted">Attach the parent chain (Chain) to see which image supplies each sector.</p>
      ) : error ? (
        <p className="danger">{error}</p>
      ) : (
        <>
          <p role="status" aria-label="Cursor sector source">
            Sector {formatCount(sector)}: {here === null ? "…" : nameOf(here)}
          </p>
          {layers && (
            <div
              className="source-strip"
              role="img"
              aria-label={`Sources of sectors ${formatCount(layers.first)} to ${formatCount(layers.first + layers.values.length - 1)}`}
            >
              {Array.from(layers.values, (l, i) => (
                <span
                  key={i}
                  className={layers.first + i === sector ? "cell cursor" : "cell"}
                  style={{ background: layerColour(l) }}
                  title={`sector ${layers.first + i}: ${nameOf(l)}`}
                  onClick={() => useApp.setState({ focus: { space: "virtual", offset: (layers.first + i) * ss } })}
                />
              ))}
            </div>
          )}
          <ul className="legend vertical source-legend">
            {[...names.map((_, i) => i), -1].map((l) => (
              <li key={l}>
                <span className="swatch" style={{ background: layerColour(l) }} /> {nameOf(l)}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
