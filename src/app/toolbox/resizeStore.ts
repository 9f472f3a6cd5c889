/**
 * "Resize…": the new size's cost first (what changes in the BAT, the region table and the log,
 * what a shrink would cut inside the disk), then the resize as one commit with progress and a
 * cancel that holds until the commit; the editor then shows the image as the worker read it again.
 */
import { create } from "zustand";
import type { ResizeCostReport, ResizeReport } from "../../worker/resize";
import { engineClient } from "../store/engineConnection";
import type { Progress } from "../store/engineApi";
import { useApp } from "../store/store";
import { errorText } from "./checkStore";

export type ResizeState =
  | { phase: "idle" }
  | { phase: "costing"; size: number }
  | { phase: "cost"; size: number; cost: ResizeCostReport }
  | { phase: "resizing"; size: number; progress: Progress | null }
  | { phase: "done"; report: ResizeReport }
  | { phase: "error"; message: string };

interface ResizeStore {
  open: boolean;
  state: ResizeState;
  show(): void;
  hide(): void;
  cost(size: number): Promise<void>;
  resize(force: boolean): Promise<void>;
  cancel(): void;
}

let abort: AbortController | null = null;

/** The session's access as it stands: a resize changes the image, not how it is open. */
function access() {
  const info = useApp.getState().info;
  return {
    readOnly: info?.readOnly ?? true,
    readOnlyReason: info?.readOnlyReason ?? null,
    logAwaitsReplay: info?.logAwaitsReplay ?? false,
  };
}

export const useResize = create<ResizeStore>()((set, get) => ({
  open: false,
  state: { phase: "idle" },

  show() {
    set({ open: true, state: { phase: "idle" } });
  },

  hide() {
    if (get().state.phase === "resizing") return;
    set({ open: false, state: { phase: "idle" } });
  },

  async cost(size) {
    const client = engineClient();
    if (!client) return;
    set({ state: { phase: "costing", size } });
    try {
      const cost = await client.call("resizeCost", [size]);
      set({ state: { phase: "cost", size, cost } });
    } catch (e) {
      set({ state: { phase: "error", message: errorText(e) } });
    }
  },

  async resize(force) {
    const client = engineClient();
    const s = get().state;
    if (!client || s.phase !== "cost" || !s.cost.plan) return;
    abort = new AbortController();
    const signal = abort.signal;
    const size = s.size;
    set({ state: { phase: "resizing", size, progress: null } });
    try {
      const report = await client.call("resizeOpen", [size, force], {
        signal,
        onProgress: (p) =>
          set({
            state: {
              phase: "resizing",
              size,
              progress: { phase: "resizing", done: Math.round(p.fraction * 1000), total: 1000 },
            },
          }),
      });
      await useApp.getState().imageChanged(access());
      set({ state: { phase: "done", report } });
    } catch (e) {
      const message = signal.aborted ? "Cancelled; the image is as it was." : errorText(e);
      // The worker read the image again either way; the views follow what it holds now.
      await useApp
        .getState()
        .imageChanged(access())
        .catch(() => undefined);
      set({ state: { phase: "error", message } });
    } finally {
      abort = null;
    }
  },

  cancel() {
    abort?.abort();
  },
}));
