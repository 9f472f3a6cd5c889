/**
 * The raw file of an image whose log awaits replay: which bytes come from the in-memory replay
 * (marked in the grid), and a toggle between the file "as replayed" (what the engine reads) and
 * "on disk" (the bytes the file holds now).
 */
import { useEffect } from "react";
import { create } from "zustand";
import type { ReplayedRanges } from "../../worker/replayView";
import { hex } from "../lib/format";
import { engineClient } from "../store/engineConnection";
import type { ByteSpace } from "../store/engineApi";

export type RawMode = "replayed" | "disk";

interface ReplayMarksState {
  mode: RawMode;
  view: ReplayedRanges | null;
  setMode(mode: RawMode): void;
}

export const useReplayMarks = create<ReplayMarksState>()((set) => ({
  mode: "replayed",
  view: null,
  setMode: (mode) => set({ mode }),
}));

/** Loads the replayed ranges of the open image again whenever it changes (`version`). */
export function useReplayedRanges(version: unknown): void {
  useEffect(() => {
    const client = engineClient();
    let live = true;
    useReplayMarks.setState({ view: null, mode: "replayed" });
    if (!client || !version) return;
    client.replayedRanges().then(
      (view) => live && useReplayMarks.setState({ view }),
      () => live && useReplayMarks.setState({ view: null }),
    );
    return () => {
      live = false;
    };
  }, [version]);
}

/** True when the 16-byte row at `offset` lies in a replayed range (ranges are 4 KiB aligned). */
export function inReplayed(view: ReplayedRanges | null, offset: number): boolean {
  if (!view) return false;
  const r = view.ranges;
  let lo = 0;
  let hi = r.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (r[mid].start + r[mid].length <= offset) lo = mid + 1;
    else if (r[mid].start > offset) hi = mid - 1;
    else return true;
  }
  return false;
}

/** The store's read, or the on-disk read when the raw file is shown as it is on disk. */
export function rawRead(
  read: (space: ByteSpace, offset: number, length: number) => Promise<Uint8Array>,
  mode: RawMode,
): (space: ByteSpace, offset: number, length: number) => Promise<Uint8Array> {
  if (mode !== "disk") return read;
  return async (space, offset, length) => {
    const client = engineClient();
    if (space !== "file" || !client) return read(space, offset, length);
    return client.readOnDisk(offset, length);
  };
}

/** The toggle and the legend, shown in the raw file view while the log awaits replay. */
export function ReplayMarksBar() {
  const { mode, view, setMode } = useReplayMarks();
  if (!view || view.ranges.length === 0) return null;
  const bytes = view.ranges.reduce((n, r) => n + r.length, 0);
  return (
    <div className="replay-marks" role="group" aria-label="Replayed bytes">
      <div role="radiogroup" aria-label="Raw file bytes" className="segmented">
        {(["replayed", "disk"] as const).map((m) => (
          <button key={m} type="button" role="radio" aria-checked={mode === m} onClick={() => setMode(m)}>
            {m === "replayed" ? "As replayed" : "On disk"}
          </button>
        ))}
      </div>
      <span className="legend">
        <span className="swatch replayed" aria-hidden="true" />{" "}
        {mode === "replayed"
          ? `${bytes} bytes in ${view.ranges.length} ranges come from the log, replayed in memory; the file on disk holds other bytes there`
          : `${bytes} bytes in ${view.ranges.length} ranges shown as the file holds them now; the log's replay changes them`}
        {view.replayedSize > view.diskSize && ` · the replay grows the file from ${hex(view.diskSize)}`}
      </span>
    </div>
  );
}
