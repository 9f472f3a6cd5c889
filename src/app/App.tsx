/** The window: top bar, banners, tabs with their views, the findings panel, the status bar; files drop anywhere. */
import { useEffect, useState, type ReactNode } from "react";
import { Banners } from "./components/Banners";
import { EmptyState } from "./components/EmptyState";
import { FindingsPanel } from "./components/FindingsPanel";
import { StatusBar } from "./components/StatusBar";
import { Tabs, panelId, tabId } from "./components/Tabs";
import { TopBar } from "./components/TopBar";
import { TABS, useApp, type Tab } from "./store/store";
import { BatView } from "./views/BatView";
import { HeadersView } from "./views/HeadersView";
import { HexView } from "./views/HexView";
import { FilesView } from "./files/FilesView";
import { LogView } from "./views/LogView";
import { MetadataView } from "./views/MetadataView";
import { RegionsView } from "./views/RegionsView";
import { useJob } from "./toolbox/jobStore";
import { VhdViews } from "./views/VhdViews";

/** A differencing image before its parent is verified: nothing of it is shown yet (issue 9). */
function AwaitingParent() {
  const show = useJob((s) => s.show);
  return (
    <div className="empty" role="region" aria-label="Waiting for the parent image">
      <p>
        This is a differencing image. Its views open once its parent is attached and the parent's DataWriteGuid matches{" "}
        <code>parent_linkage</code>, or when you choose to open it read-only anyway.
      </p>
      <button type="button" className="primary" onClick={() => show("chain")}>
        Attach parent…
      </button>
    </div>
  );
}

/** Follows the theme choice and, for "system", the OS preference; canvases repaint on change. */
function useThemeKey(): string {
  const theme = useApp((s) => s.theme);
  const [systemDark, setSystemDark] = useState(
    () => window.matchMedia?.("(prefers-color-scheme: dark)").matches ?? false,
  );
  useEffect(() => {
    const mq = window.matchMedia?.("(prefers-color-scheme: dark)");
    if (!mq) return;
    const on = () => setSystemDark(mq.matches);
    mq.addEventListener("change", on);
    return () => mq.removeEventListener("change", on);
  }, []);
  return theme === "system" ? (systemDark ? "dark" : "light") : theme;
}

function useDropAnywhere(): boolean {
  const openSource = useApp((s) => s.openSource);
  const [over, setOver] = useState(false);
  useEffect(() => {
    let depth = 0;
    const hasFiles = (e: DragEvent) => !!e.dataTransfer && Array.from(e.dataTransfer.types).includes("Files");
    const enter = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      depth++;
      setOver(true);
    };
    const leave = () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) setOver(false);
    };
    const overFn = (e: DragEvent) => {
      if (hasFiles(e)) e.preventDefault();
    };
    const drop = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      depth = 0;
      setOver(false);
      // A drop a dialog took (a file to write into the disk) opens nothing.
      if (e.defaultPrevented) return;
      e.preventDefault();
      const f = e.dataTransfer?.files[0];
      if (f) void openSource(f, f.name);
    };
    window.addEventListener("dragenter", enter);
    window.addEventListener("dragleave", leave);
    window.addEventListener("dragover", overFn);
    window.addEventListener("drop", drop);
    return () => {
      window.removeEventListener("dragenter", enter);
      window.removeEventListener("dragleave", leave);
      window.removeEventListener("dragover", overFn);
      window.removeEventListener("drop", drop);
    };
  }, [openSource]);
  return over;
}

/** `?sample` in the address opens the sample at start (the README's Quick start link). */
let sampleRequested = false;
function useSampleFromUrl(): void {
  const openSample = useApp((s) => s.openSample);
  useEffect(() => {
    if (sampleRequested || !new URLSearchParams(window.location.search).has("sample")) return;
    sampleRequested = true;
    void openSample();
  }, [openSample]);
}

export function App() {
  const themeKey = useThemeKey();
  useSampleFromUrl();
  const dropping = useDropAnywhere();
  const { info, tab, findingsOpen, check, status, awaitingParent, vhd } = useApp();
  const views: Record<Tab, () => ReactNode> = {
    Headers: () => <HeadersView />,
    Regions: () => <RegionsView themeKey={themeKey} />,
    Metadata: () => <MetadataView />,
    BAT: () => <BatView themeKey={themeKey} />,
    Log: () => <LogView />,
    Hex: () => <HexView />,
    Files: () => <FilesView />,
  };
  return (
    <div className={`app${dropping ? " dropping" : ""}`}>
      <TopBar />
      <Banners />
      <div className="workspace">
        <main className="main" aria-busy={status === "opening"}>
          {vhd ? (
            <VhdViews info={vhd} themeKey={themeKey} />
          ) : info && awaitingParent ? (
            <AwaitingParent />
          ) : info ? (
            <>
              <Tabs />
              {TABS.map((t) => (
                <section
                  key={t}
                  id={panelId(t)}
                  role="tabpanel"
                  aria-labelledby={tabId(t)}
                  hidden={t !== tab}
                  className="panel"
                  tabIndex={-1}
                >
                  {t === tab && views[t]()}
                </section>
              ))}
            </>
          ) : (
            <EmptyState />
          )}
        </main>
        {findingsOpen && check && !awaitingParent && <FindingsPanel />}
      </div>
      <StatusBar />
      {dropping && (
        <div className="drop-overlay" aria-hidden="true">
          Drop a .vhdx to open it
        </div>
      )}
    </div>
  );
}
