/**
 * The toolbox's long jobs (new image, convert, compact, merge): one at a time, with progress and
 * cancel; the worker streams them into the file the user picked or into OPFS. A VHDX result then
 * opens in the editor; an OPFS result can also be downloaded.
 */
import { create } from "zustand";
import type { JobResult, OutputTarget } from "../../worker/toolbox";
import { downloadBlob } from "../engine/client";
import type { Progress } from "../store/engineApi";
import { useApp } from "../store/store";
import { errorText } from "./checkStore";
import { opfsResult, pickSaveFile, RAW_TYPES, VHD_TYPES, VHDX_TYPES } from "./pickers";

export type { JobResult, OutputTarget };
export type ToolDialog = "new" | "convert" | "chain" | null;
export type Destination = "file" | "opfs";

export type JobPhase =
  | { phase: "idle" }
  | { phase: "running"; title: string; progress: Progress | null }
  | { phase: "done"; title: string; result: JobResult; opened: boolean; format: "vhdx" | "raw" | "vhd" }
  | { phase: "error"; title: string; message: string };

type Start = (signal: AbortSignal, onProgress: (p: { fraction: number; bytes: number }) => void) => Promise<JobResult>;

interface JobState {
  dialog: ToolDialog;
  job: JobPhase;
  show(d: ToolDialog): void;
  hide(): void;
  /**
   * Asks where the output goes (the save picker from this click, or the OPFS path the dialog
   * settled on, with whether the user agreed to replace a file there); null when dismissed.
   */
  output(
    o: { dest: Destination; name: string; path: string; replace: boolean },
    format: "vhdx" | "raw" | "vhd",
  ): Promise<OutputTarget | null>;
  run(title: string, format: "vhdx" | "raw" | "vhd", start: Start): Promise<void>;
  cancel(): void;
  download(): Promise<void>;
}

let abort: AbortController | null = null;

/** Keeps names to one safe path component. */
export function safeName(name: string, ext: string): string {
  const base = name.trim().replace(/[\\/:*?"<>|]+/g, "_") || "disk";
  return base.toLowerCase().endsWith(ext) ? base : base + ext;
}

async function resultHandle(t: OutputTarget): Promise<FileSystemFileHandle> {
  return t.kind === "handle" ? t.handle : opfsResult(t.path.split("/").pop()!);
}

export const useJob = create<JobState>()((set, get) => ({
  dialog: null,
  job: { phase: "idle" },

  show(dialog) {
    if (get().job.phase === "running") return;
    set({ dialog, job: { phase: "idle" } });
  },

  hide() {
    if (get().job.phase === "running") return;
    set({ dialog: null, job: { phase: "idle" } });
  },

  async output(o, format) {
    if (o.dest === "opfs") return { kind: "opfs", path: o.path, replace: o.replace };
    const ext = format === "vhdx" ? ".vhdx" : format === "vhd" ? ".vhd" : ".img";
    const types = format === "vhdx" ? VHDX_TYPES : format === "vhd" ? VHD_TYPES : RAW_TYPES;
    const handle = await pickSaveFile(safeName(o.name, ext), types);
    return handle ? { kind: "handle", handle } : null;
  },

  async run(title, format, start) {
    abort = new AbortController();
    const signal = abort.signal;
    set({ job: { phase: "running", title, progress: null } });
    try {
      const result = await start(signal, (p) =>
        set({
          job: {
            phase: "running",
            title,
            progress: { phase: title, done: Math.round(p.fraction * 1000), total: 1000 },
          },
        }),
      );
      set({ job: { phase: "done", title, result, opened: false, format } });
      if (format === "vhdx") {
        const h = await resultHandle(result.target);
        await useApp.getState().openSource(h, h.name);
        const j = get().job;
        if (j.phase === "done") set({ job: { ...j, opened: !useApp.getState().error } });
      }
    } catch (e) {
      set({ job: { phase: "error", title, message: signal.aborted ? "Cancelled; nothing was kept." : errorText(e) } });
    } finally {
      abort = null;
    }
  },

  cancel() {
    abort?.abort();
  },

  async download() {
    const j = get().job;
    if (j.phase !== "done") return;
    const h = await resultHandle(j.result.target);
    downloadBlob(await h.getFile(), h.name);
  },
}));
