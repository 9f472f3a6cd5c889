/**
 * Check and repair: the checker's run with progress and cancel, the repair plan (what each safe
 * repair writes), and the repairs. Calls the engine worker through the editor's shared client;
 * a repair hands the result back to the editor's store, which fetches every view again.
 */
import { create } from "zustand";
import type { CheckReport } from "../../vhdx/check";
import type { RepairPlan, RepairReport } from "../../worker/inspect";
import { engineClient } from "../store/engineConnection";
import type { Progress } from "../store/engineApi";
import { useApp } from "../store/store";

export type { RepairPlan, RepairReport };

export type CheckPhase =
  | { phase: "idle" }
  | { phase: "checking"; progress: Progress | null }
  | { phase: "checked"; report: CheckReport }
  | { phase: "planning"; report: CheckReport }
  | { phase: "plan"; report: CheckReport; plan: RepairPlan }
  | { phase: "repairing"; plan: RepairPlan; progress: Progress | null }
  | { phase: "repaired"; result: RepairReport }
  | { phase: "error"; message: string };

interface CheckState {
  open: boolean;
  state: CheckPhase;
  show(): void;
  hide(): void;
  runCheck(): Promise<void>;
  planRepair(): Promise<void>;
  runRepair(): Promise<void>;
  /** Opens the image again with write access (asked from this click), then plans the repairs again. */
  reopenWritable(): Promise<void>;
  cancel(): void;
}

let abort: AbortController | null = null;

export function errorText(e: unknown): string {
  if (e instanceof Error) {
    const x = e as Error & { structure?: string; offset?: number };
    const where = x.structure
      ? ` (${x.structure}${x.offset !== undefined ? ` at offset 0x${x.offset.toString(16)}` : ""})`
      : "";
    return x.message + where;
  }
  return String(e);
}

const toProgress = (phase: string) => (p: { fraction: number }) => ({
  phase,
  done: Math.round(p.fraction * 1000),
  total: 1000,
});

export const useCheck = create<CheckState>()((set, get) => ({
  open: false,
  state: { phase: "idle" },

  show() {
    set({ open: true });
    if (get().state.phase === "idle") void get().runCheck();
  },

  hide() {
    abort?.abort();
    set({ open: false, state: { phase: "idle" } });
  },

  async runCheck() {
    const client = engineClient();
    if (!client) return;
    abort = new AbortController();
    const signal = abort.signal;
    const progress = toProgress("checking");
    set({ state: { phase: "checking", progress: null } });
    try {
      const report = await client.call("check", [], {
        signal,
        onProgress: (p) => set({ state: { phase: "checking", progress: progress(p) } }),
      });
      // The findings panel shows the same report.
      useApp.setState({ check: report });
      set({ state: { phase: "checked", report } });
    } catch (e) {
      set({ state: signal.aborted ? { phase: "idle" } : { phase: "error", message: errorText(e) } });
    }
  },

  async planRepair() {
    const client = engineClient();
    const s = get().state;
    if (!client || s.phase !== "checked") return;
    set({ state: { phase: "planning", report: s.report } });
    try {
      const plan = await client.repairPlan();
      set({ state: { phase: "plan", report: s.report, plan } });
    } catch (e) {
      set({ state: { phase: "error", message: errorText(e) } });
    }
  },

  async runRepair() {
    const client = engineClient();
    const s = get().state;
    if (!client || s.phase !== "plan") return;
    abort = new AbortController();
    const signal = abort.signal;
    const progress = toProgress("repairing");
    set({ state: { phase: "repairing", plan: s.plan, progress: null } });
    try {
      const result = await client.call("repair", [], {
        signal,
        onProgress: (p) => set({ state: { phase: "repairing", plan: s.plan, progress: progress(p) } }),
      });
      await useApp.getState().imageChanged(result.access);
      useApp.setState({ check: result.after });
      set({ state: { phase: "repaired", result } });
    } catch (e) {
      const msg = signal.aborted ? "Cancelled; the file is as it was." : errorText(e);
      // The worker opened the file again either way; the views follow what it holds now.
      await useApp
        .getState()
        .imageChanged({
          readOnly: useApp.getState().info?.readOnly ?? true,
          readOnlyReason: useApp.getState().info?.readOnlyReason ?? null,
          logAwaitsReplay: useApp.getState().info?.logAwaitsReplay ?? false,
        })
        .catch(() => undefined);
      set({ state: { phase: "error", message: msg } });
    }
  },

  async reopenWritable() {
    await useApp.getState().enableEditing();
    if (useApp.getState().error) {
      set({ state: { phase: "error", message: useApp.getState().error! } });
      return;
    }
    await get().runCheck();
    if (get().state.phase === "checked") await get().planRepair();
  },

  cancel() {
    abort?.abort();
  },
}));
