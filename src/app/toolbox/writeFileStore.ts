/**
 * "Write file…" in the hex view: a local file written at a virtual disk offset as one atomic
 * patch. The worker counts the cost from the file's size (writeFileCost) before anything is
 * written, then streams the file into the engine (writeFile) with progress and cancel; the
 * editor's views are fetched again after the commit, as after a hex Commit.
 */
import { create } from "zustand";
import type { WriteFileCost, WriteFileReport } from "../../worker/writeFile";
import { engineClient } from "../store/engineConnection";
import type { Progress } from "../store/engineApi";
import { useApp } from "../store/store";
import { errorText } from "./checkStore";

export type { WriteFileCost, WriteFileReport };

export type WritePhase =
  | { phase: "idle" }
  | { phase: "running"; progress: Progress | null }
  /** `lateCancel`: a cancel arrived after the commit point, so the write stands. */
  | { phase: "done"; result: WriteFileReport; offset: number; name: string; lateCancel: boolean }
  | { phase: "error"; message: string };

/** The cost as asked for one file and offset; stale answers (the user changed either) are dropped. */
export type Estimate =
  | { state: "none" }
  | { state: "costing"; key: string }
  | { state: "ready"; key: string; cost: WriteFileCost }
  | { state: "failed"; key: string; message: string };

interface WriteFileState {
  open: boolean;
  file: File | null;
  offsetText: string;
  estimate: Estimate;
  run: WritePhase;
  /** Opens the dialog with the offset set to `offset` (the cursor or the selection's start). */
  show(offset: number): void;
  hide(): void;
  setFile(f: File | null): void;
  setOffsetText(t: string): void;
  /** Asks the worker what writing the chosen file at `offset` costs. */
  refreshCost(offset: number): Promise<void>;
  start(offset: number): Promise<void>;
  cancel(): void;
}

let abort: AbortController | null = null;

const keyOf = (file: File, offset: number) => `${file.name}\u0000${file.size}\u0000${file.lastModified}@${offset}`;

export const useWriteFile = create<WriteFileState>()((set, get) => ({
  open: false,
  file: null,
  offsetText: "",
  estimate: { state: "none" },
  run: { phase: "idle" },

  show(offset) {
    if (get().run.phase === "running") return;
    set({
      open: true,
      file: null,
      offsetText: `0x${offset.toString(16)}`,
      estimate: { state: "none" },
      run: { phase: "idle" },
    });
  },

  hide() {
    if (get().run.phase === "running") return;
    set({ open: false, file: null, estimate: { state: "none" }, run: { phase: "idle" } });
  },

  setFile(file) {
    if (get().run.phase === "running") return;
    set({ file, estimate: { state: "none" }, run: { phase: "idle" } });
  },

  setOffsetText(offsetText) {
    if (get().run.phase === "running") return;
    set({ offsetText, estimate: { state: "none" }, run: { phase: "idle" } });
  },

  async refreshCost(offset) {
    const client = engineClient();
    const file = get().file;
    if (!client || !file) return;
    const key = keyOf(file, offset);
    const e = get().estimate;
    if (e.state !== "none" && e.key === key) return;
    set({ estimate: { state: "costing", key } });
    try {
      const cost = await client.writeFileCost(offset, file.size);
      if (get().estimate.state === "costing" && (get().estimate as { key: string }).key === key)
        set({ estimate: { state: "ready", key, cost } });
    } catch (err) {
      if ((get().estimate as { key?: string }).key === key)
        set({ estimate: { state: "failed", key, message: errorText(err) } });
    }
  },

  async start(offset) {
    const client = engineClient();
    const file = get().file;
    if (!client || !file || get().run.phase === "running") return;
    abort = new AbortController();
    const signal = abort.signal;
    set({ run: { phase: "running", progress: null } });
    try {
      // The File crosses to the worker as a handle on the user's file (structured clone), not its bytes.
      const result = await client.call("writeFile", [offset, file], {
        signal,
        onProgress: (p) =>
          set({ run: { phase: "running", progress: { phase: "writing", done: p.bytes, total: file.size } } }),
      });
      set({
        run: { phase: "done", result, offset, name: file.name, lateCancel: signal.aborted },
        estimate: { state: "none" },
      });
    } catch (err) {
      // The worker answers CANCELLED only when it stopped before the commit point.
      const cancelled = (err as { code?: string }).code === "CANCELLED";
      set({
        run: {
          phase: "error",
          message: cancelled
            ? "Cancelled before the commit; the disk is unchanged."
            : `The write failed: ${errorText(err)}`,
        },
        estimate: { state: "none" },
      });
    } finally {
      abort = null;
      // After a commit, and after a failed one (the worker read the image again): every view follows.
      const info = useApp.getState().info;
      if (info) {
        await useApp
          .getState()
          .imageChanged({
            readOnly: info.readOnly,
            readOnlyReason: info.readOnlyReason,
            logAwaitsReplay: info.logAwaitsReplay,
          })
          .catch(() => undefined);
      }
    }
  },

  cancel() {
    abort?.abort();
  },
}));
