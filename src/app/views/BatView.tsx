/** The BAT (§2.5): every entry on a canvas, a legend with per-state counts that doubles as the filter, a tooltip. */
import { useMemo, useState } from "react";
import {
  ALL_STATES,
  DARK_PALETTE,
  LIGHT_PALETTE,
  SB_FILTER_SHIFT,
  countBatStates,
  hexColor,
  type BatEntryView,
} from "../lib/batPixels";
import { formatCount, formatSize, hex } from "../lib/format";
import { useApp } from "../store/store";
import { BatCanvas } from "./BatCanvas";
import { PartialShadeToggle, usePartialOverlay } from "../toolbox/PartialShadeToggle";
import { useFileHighlight } from "../files/batHighlight";
import { useFiles } from "../files/filesStore";

const PAYLOAD_NAMES = [
  "NOT_PRESENT",
  "UNDEFINED",
  "ZERO",
  "UNMAPPED",
  "RESERVED_4",
  "RESERVED_5",
  "FULLY_PRESENT",
  "PARTIALLY_PRESENT",
];
const SB_NAMES = [
  "NOT_PRESENT",
  "RESERVED_1",
  "RESERVED_2",
  "RESERVED_3",
  "RESERVED_4",
  "RESERVED_5",
  "PRESENT",
  "RESERVED_7",
];
/** States always listed; reserved ones only when some entry has them. */
const PAYLOAD_SHOWN = [0, 1, 2, 3, 6, 7];
const SB_SHOWN = [0, 6];

/** What the tooltip and the side panel say about one entry. */
function describe(e: BatEntryView) {
  return (
    <>
      <div>
        <strong>Entry {formatCount(e.index)}</strong>{" "}
        {e.isSectorBitmap ? `sector bitmap, chunk ${e.block}` : `payload block ${formatCount(e.block)}`}
      </div>
      <div>{e.isSectorBitmap ? SB_NAMES[e.state] : PAYLOAD_NAMES[e.state]}</div>
      <div>
        virtual{" "}
        <code>
          {hex(e.virtualStart)}–{hex(e.virtualEnd)}
        </code>
      </div>
      <div>
        file offset <code>{e.state === 6 || e.state === 7 ? hex(e.fileOffset) : "—"}</code>
      </div>
    </>
  );
}

export function BatView({ themeKey }: { themeKey: string }) {
  const { batWords, info, goTo } = useApp();
  const [filter, setFilter] = useState(ALL_STATES);
  const [hover, setHover] = useState<BatEntryView | null>(null);
  const [paintMs, setPaintMs] = useState<number | null>(null);
  const palette = themeKey === "dark" ? DARK_PALETTE : LIGHT_PALETTE;
  const chunkRatio = info?.chunkRatio ?? (info ? (2 ** 23 * info.logicalSectorSize) / info.blockSize : 1);
  const partialOverlay = usePartialOverlay(chunkRatio);
  const highlight = useFileHighlight(chunkRatio, info?.blockSize ?? 1, partialOverlay);
  const overlay = highlight.overlay;
  const clearLocated = useFiles((s) => s.clearLocated);
  const entries = batWords ? Math.min(info?.bat.entries ?? batWords.length / 2, batWords.length / 2) : 0;
  const counts = useMemo(
    () => (batWords ? countBatStates(batWords, entries, chunkRatio) : null),
    [batWords, entries, chunkRatio],
  );
  if (!info || !batWords || !counts) return null;

  const toggle = (bit: number) => setFilter((f) => f ^ (1 << bit));
  const item = (bit: number, name: string, count: number, colour: number) => (
    <li key={bit}>
      <label>
        <input type="checkbox" checked={(filter & (1 << bit)) !== 0} onChange={() => toggle(bit)} />
        <span className="swatch" style={{ background: hexColor(colour) }} aria-hidden="true" />
        {name} <span className="count">{formatCount(count)}</span>
      </label>
    </li>
  );
  const open = (e: BatEntryView, fileSpace: boolean) => {
    const hasFile = e.state === 6 || e.state === 7;
    if (e.isSectorBitmap || fileSpace) {
      if (hasFile) goTo("file", e.fileOffset, e.isSectorBitmap ? 1024 * 1024 : info.blockSize);
    } else goTo("virtual", e.virtualStart, e.virtualEnd - e.virtualStart);
  };
  return (
    <div className="view bat">
      <div className="bat-side">
        <fieldset>
          <legend>Payload entries</legend>
          <ul className="legend vertical">
            {PAYLOAD_SHOWN.concat([4, 5].filter((s) => counts.payload[s] > 0)).map((s) =>
              item(s, PAYLOAD_NAMES[s], counts.payload[s], palette.payload[s]),
            )}
          </ul>
        </fieldset>
        <fieldset>
          <legend>Sector bitmap entries</legend>
          <ul className="legend vertical">
            {SB_SHOWN.concat([1, 2, 3, 4, 5, 7].filter((s) => counts.sectorBitmap[s] > 0)).map((s) =>
              item(SB_FILTER_SHIFT + s, SB_NAMES[s], counts.sectorBitmap[s], palette.sectorBitmap[s]),
            )}
          </ul>
        </fieldset>
        <PartialShadeToggle />
        {highlight.located && (
          <p className="files-bat-note small" role="status">
            <span className="files-swatch" aria-hidden="true" /> /{highlight.located.path}: {highlight.blocks}{" "}
            {highlight.blocks === 1 ? "block" : "blocks"}
            {highlight.located.truncated ? " (first runs only)" : ""}{" "}
            <button type="button" className="link" onClick={clearLocated}>
              Clear
            </button>
          </p>
        )}
        <div className="row-actions">
          <button type="button" onClick={() => setFilter(ALL_STATES)}>
            Show all
          </button>
          <button type="button" onClick={() => setFilter((1 << 6) | (1 << 7))}>
            Only allocated
          </button>
        </div>
        <dl className="kv small">
          <dt>Entries</dt>
          <dd>{formatCount(entries)}</dd>
          <dt>Chunk ratio</dt>
          <dd>{formatCount(chunkRatio)}</dd>
          <dt>Block size</dt>
          <dd>{formatSize(info.blockSize)}</dd>
          {paintMs !== null && (
            <>
              <dt>Painted in</dt>
              <dd>{paintMs.toFixed(1)} ms</dd>
            </>
          )}
        </dl>
        <div className="bat-tip" aria-live="polite">
          {hover ? (
            describe(hover)
          ) : (
            <span className="muted">
              Hover or move over an entry. Click opens the block in the hex view; Shift+click at its file offset.
            </span>
          )}
        </div>
      </div>
      <BatCanvas
        words={batWords}
        entries={entries}
        chunkRatio={chunkRatio}
        blockSize={info.blockSize}
        virtualSize={info.virtualSize}
        palette={palette}
        filter={filter}
        onHover={setHover}
        onOpen={open}
        onPainted={setPaintMs}
        renderTip={describe}
        overlay={overlay}
      />
    </div>
  );
}
