/** Opening files (picker, input, sample, recent), the theme and the findings panel toggle. */
import { useEffect, useRef } from "react";
import type { OpenSource } from "../store/engineApi";
import { hasOpenFilePicker, pickFileHandle } from "../store/fsAccess";
import { useApp, type Theme } from "../store/store";
import { ToolboxMenu } from "../toolbox/ToolboxMenu";

const NEXT_THEME: Record<Theme, Theme> = { system: "light", light: "dark", dark: "system" };

/** The system picker where there is one (a handle can be reopened later), else the file input. */
async function openFileFlow(open: (s: OpenSource, name: string) => Promise<void>, fallback: () => void): Promise<void> {
  if (hasOpenFilePicker()) {
    try {
      const h = await pickFileHandle();
      if (h) await open(h, h.name);
      return;
    } catch {
      // Picker refused (e.g. not a secure context): fall back to the input.
    }
  }
  fallback();
}

export function TopBar() {
  const input = useRef<HTMLInputElement>(null);
  const {
    openSource,
    openSample,
    openRecent,
    loadRecentList,
    recent,
    theme,
    setTheme,
    status,
    cancelOpen,
    check,
    findingsOpen,
    setFindingsOpen,
  } = useApp();
  useEffect(() => {
    void loadRecentList();
  }, [loadRecentList]);

  const openFile = () => void openFileFlow(openSource, () => input.current?.click());
  useEffect(() => {
    // Ctrl+O (Cmd+O) opens a file from anywhere, as desktop editors do.
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === "o") {
        e.preventDefault();
        openFile();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  });
  const findings = check?.findings.length ?? 0;

  return (
    <header className="topbar">
      <span className="brand" aria-hidden="true">
        VHDX Studio
      </span>
      <button
        type="button"
        onClick={openFile}
        disabled={status === "opening"}
        aria-keyshortcuts="Control+O"
        title="Open file (Ctrl+O)"
      >
        Open file
      </button>
      <input
        ref={input}
        type="file"
        accept=".vhdx,.avhdx"
        aria-label="Choose a VHDX file"
        className="visually-hidden"
        tabIndex={-1}
        onChange={(e) => {
          const f = e.target.files?.[0];
          if (f) void openSource(f, f.name);
          e.target.value = "";
        }}
      />
      <button type="button" onClick={() => void openSample()} disabled={status === "opening"}>
        Open sample
      </button>
      <select
        aria-label="Recent files"
        value=""
        disabled={recent.length === 0 || status === "opening"}
        onChange={(e) => {
          const r = recent.find((x) => x.id === e.target.value);
          if (r) void openRecent(r);
        }}
      >
        <option value="">{recent.length ? "Recent files…" : "No recent files"}</option>
        {recent.map((r) => (
          <option key={r.id} value={r.id}>
            {r.name}
          </option>
        ))}
      </select>
      <ToolboxMenu />
      {status === "opening" && (
        <button type="button" onClick={cancelOpen}>
          Cancel opening
        </button>
      )}
      <span className="spacer" />
      <button
        type="button"
        aria-pressed={findingsOpen}
        onClick={() => setFindingsOpen(!findingsOpen)}
        disabled={!check}
      >
        Findings{check ? ` (${findings})` : ""}
      </button>
      <button
        type="button"
        aria-label={`Theme: ${theme}. Switch to ${NEXT_THEME[theme]}`}
        title={`Theme: ${theme}`}
        onClick={() => setTheme(NEXT_THEME[theme])}
      >
        {theme === "dark" ? "☾" : theme === "light" ? "☀" : "◐"}
      </button>
    </header>
  );
}
