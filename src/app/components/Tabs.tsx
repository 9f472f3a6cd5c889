/** The view switcher: a WAI-ARIA tablist, arrow keys move between tabs, Home/End jump. */
import { useEffect, type KeyboardEvent } from "react";
import { TABS, useApp, type Tab } from "../store/store";

export const tabId = (t: Tab) => `tab-${t.toLowerCase()}`;
export const panelId = (t: Tab) => `panel-${t.toLowerCase()}`;

export function Tabs() {
  const tab = useApp((s) => s.tab);
  const setTab = useApp((s) => s.setTab);
  useEffect(() => {
    // Alt+1 … Alt+6 switch views from anywhere.
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (!e.altKey || e.ctrlKey || e.metaKey) return;
      const i = Number(e.key) - 1;
      if (Number.isInteger(i) && i >= 0 && i < TABS.length) {
        e.preventDefault();
        setTab(TABS[i]);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [setTab]);
  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const i = TABS.indexOf(tab);
    let next = -1;
    if (e.key === "ArrowRight") next = (i + 1) % TABS.length;
    else if (e.key === "ArrowLeft") next = (i + TABS.length - 1) % TABS.length;
    else if (e.key === "Home") next = 0;
    else if (e.key === "End") next = TABS.length - 1;
    if (next < 0) return;
    e.preventDefault();
    setTab(TABS[next]);
    document.getElementById(tabId(TABS[next]))?.focus();
  };
  return (
    <div role="tablist" aria-label="Views" className="tabs" onKeyDown={onKey}>
      {TABS.map((t) => (
        <button
          key={t}
          id={tabId(t)}
          role="tab"
          type="button"
          aria-selected={t === tab}
          aria-controls={panelId(t)}
          tabIndex={t === tab ? 0 : -1}
          aria-keyshortcuts={`Alt+${TABS.indexOf(t) + 1}`}
          className="tab"
          onClick={() => setTab(t)}
        >
          {t}
        </button>
      ))}
    </div>
  );
}
