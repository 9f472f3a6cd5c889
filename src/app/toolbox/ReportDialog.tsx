/**
 * The Report export: the worker builds the file report (SHA-256 streamed with progress and
 * cancel, structures, log, replay changes, findings) and the user saves it as JSON or Markdown,
 * through the save picker (which asks before replacing a file) or as a download.
 */
import { create } from "zustand";
import type { FileReport } from "../../vhdx/report";
import { Dialog } from "../components/Dialog";
import { downloadBlob } from "../engine/client";
import { engineClient } from "../store/engineConnection";
import type { Progress } from "../store/engineApi";
import { errorText } from "./checkStore";
import { pickSaveFile, can } from "./pickers";
import { JobRunning } from "./JobParts";

type Phase =
  | { phase: "idle" }
  | { phase: "running"; progress: Progress | null }
  | { phase: "ready"; report: FileReport; markdown: string; saved: string | null }
  | { phase: "error"; message: string };

interface ReportState {
  open: boolean;
  state: Phase;
  show(): void;
  hide(): void;
  save(kind: "json" | "md"): Promise<void>;
}

let abort: AbortController | null = null;

export const useReport = create<ReportState>()((set, get) => ({
  open: false,
  state: { phase: "idle" },
  show() {
    const client = engineClient();
    if (!client) return;
    abort?.abort();
    abort = new AbortController();
    const signal = abort.signal;
    set({ open: true, state: { phase: "running", progress: null } });
    client
      .call("report", [], {
        signal,
        onProgress: (p) =>
          set({
            state: {
              phase: "running",
              progress: { phase: "hashing", done: Math.round(p.fraction * 1000), total: 1000 },
            },
          }),
      })
      .then(
        (r) =>
          !signal.aborted && set({ state: { phase: "ready", report: r.report, markdown: r.markdown, saved: null } }),
        (e) => !signal.aborted && set({ state: { phase: "error", message: errorText(e) } }),
      );
  },
  hide() {
    abort?.abort();
    set({ open: false, state: { phase: "idle" } });
  },
  async save(kind) {
    const s = get().state;
    if (s.phase !== "ready") return;
    const base = s.report.file.name.replace(/\.[^.]*$/, "");
    const name = `${base}.report.${kind}`;
    const text = kind === "json" ? JSON.stringify(s.report, null, 2) + "\n" : s.markdown + "\n";
    const type = kind === "json" ? "application/json" : "text/markdown";
    try {
      if (can.save()) {
        // The browser's save picker asks before it replaces an existing file.
        const handle = await pickSaveFile(name, [
          { description: kind === "json" ? "JSON" : "Markdown", accept: { [type]: [`.${kind}`] } },
        ]);
        if (!handle) return;
        const w = await handle.createWritable();
        await w.write(text);
        await w.close();
        set({ state: { ...s, saved: handle.name } });
      } else {
        downloadBlob(new Blob([text], { type }), name);
        set({ state: { ...s, saved: name } });
      }
    } catch (e) {
      set({ state: { phase: "error", message: errorText(e) } });
    }
  },
}));

export function ReportDialog() {
  const { open, state, hide, save } = useReport();
  return (
    <Dialog title="Report" open={open} onClose={hide}>
      <div className="dialog-body">
        <p>
          Everything the editor knows about the file: its SHA-256, headers, regions, metadata, BAT counts by state, the
          log's entries and verdicts with what a replay would change, and the checker's findings. The same JSON as{" "}
          <code>vhdx report --json</code>.
        </p>
        {state.phase === "running" && (
          <JobRunning label="Report progress" progress={state.progress} idle="Reading the file…" onCancel={hide} />
        )}
        {state.phase === "ready" && (
          <>
            <p>
              SHA-256 <code aria-label="SHA-256">{state.report.file.sha256}</code>
            </p>
            <p>
              {state.report.check.findings.length} findings; the log{" "}
              {state.report.log.needsReplay ? "needs replay" : "is clean"}.
            </p>
            {state.saved && <p role="status">Saved {state.saved}.</p>}
          </>
        )}
        {state.phase === "error" && (
          <p className="danger" role="alert">
            {state.message}
          </p>
        )}
      </div>
      {state.phase !== "running" && (
        <div className="dialog-actions">
          <button type="button" onClick={hide}>
            Close
          </button>
          <button type="button" onClick={() => void save("md")} disabled={state.phase !== "ready"}>
            Save Markdown…
          </button>
          <button
            type="button"
            className="primary"
            onClick={() => void save("json")}
            disabled={state.phase !== "ready"}
          >
            Save JSON…
          </button>
        </div>
      )}
    </Dialog>
  );
}
