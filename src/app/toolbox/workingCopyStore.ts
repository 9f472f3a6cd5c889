/**
 * Before a working copy of a large file is made: how large it is, how long the copy will take
 * (measured: the worker copies the file's first 32 MiB into browser storage and times it), and
 * whether browser storage has room. While it runs the estimate follows the copy's own pace, and
 * a cancel leaves no copy behind (the worker removes the partial file).
 */
import { create } from "zustand";
import { engineClient } from "../store/engineConnection";
import { openedFile, useApp } from "../store/store";
import { errorText } from "./checkStore";

/** Files at least this large are copied only after the user has seen the size and the estimate. */
export const CONFIRM_COPY_BYTES = 64 * 1024 * 1024;

export type WorkingCopyPhase =
  | { phase: "idle" }
  | { phase: "measuring"; name: string; bytes: number }
  | { phase: "confirm"; name: string; bytes: number; bytesPerSecond: number; available: number | null }
  | {
      phase: "copying";
      name: string;
      bytes: number;
      done: number;
      /** The pace so far (bytes per second): the probe's until the copy has run a moment, then its own. */
      bytesPerSecond: number;
    }
  | { phase: "cancelled"; name: string }
  | { phase: "error"; name: string; message: string };

interface WorkingCopyState {
  job: WorkingCopyPhase;
  /** "Edit a working copy": a large file is measured and asked about first, a small one copied at once. */
  request(): Promise<void>;
  start(): Promise<void>;
  cancel(): void;
  close(): void;
}

let abort: AbortController | null = null;

export const useWorkingCopy = create<WorkingCopyState>()((set, get) => ({
  job: { phase: "idle" },

  async request() {
    const file = openedFile();
    const app = useApp.getState();
    if (!file || file.size < CONFIRM_COPY_BYTES) {
      await app.enableEditing();
      return;
    }
    const client = engineClient();
    if (!client) return;
    const name = app.fileName ?? file.name;
    set({ job: { phase: "measuring", name, bytes: file.size } });
    abort = new AbortController();
    try {
      const probe = await client.call("copyThroughput", [file], { signal: abort.signal });
      const listing = await client.storageList();
      const available = listing.quota !== null && listing.usage !== null ? listing.quota - listing.usage : null;
      if (get().job.phase !== "measuring") return;
      set({
        job: { phase: "confirm", name, bytes: file.size, bytesPerSecond: (probe.bytes / probe.ms) * 1000, available },
      });
    } catch (e) {
      set({ job: { phase: "error", name, message: errorText(e) } });
    } finally {
      abort = null;
    }
  },

  async start() {
    const j = get().job;
    if (j.phase !== "confirm") return;
    abort = new AbortController();
    const signal = abort.signal;
    const t0 = performance.now();
    const base = { name: j.name, bytes: j.bytes };
    set({ job: { phase: "copying", ...base, done: 0, bytesPerSecond: j.bytesPerSecond } });
    try {
      await useApp.getState().enableEditing({
        signal,
        onProgress: (p) => {
          if (p.phase !== "copying into browser storage" || p.total <= 0) return;
          const done = Math.round((p.done / p.total) * j.bytes);
          const seconds = (performance.now() - t0) / 1000;
          // After a second of copying (or 64 MiB) the copy's own pace is the better estimate.
          const own = seconds > 1 || done > CONFIRM_COPY_BYTES ? done / seconds : null;
          set({ job: { phase: "copying", ...base, done, bytesPerSecond: own ?? j.bytesPerSecond } });
        },
      });
      const err = useApp.getState().error;
      set({ job: err ? { phase: "error", name: j.name, message: err } : { phase: "idle" } });
    } catch (e) {
      set({
        job: signal.aborted
          ? { phase: "cancelled", name: j.name }
          : { phase: "error", name: j.name, message: errorText(e) },
      });
    } finally {
      abort = null;
    }
  },

  cancel() {
    if (abort) abort.abort();
    const j = get().job;
    if (j.phase === "measuring" || j.phase === "confirm") set({ job: { phase: "idle" } });
  },

  close() {
    if (get().job.phase !== "copying") set({ job: { phase: "idle" } });
  },
}));
