/** The checker's findings beside the views; each links to the region map and the hex view. */
import { hex } from "../lib/format";
import { useApp } from "../store/store";

export function FindingsPanel() {
  const { check, goTo, setTab, setFindingsOpen } = useApp();
  if (!check) return null;
  const rank = { error: 0, warning: 1, info: 2 } as const;
  const findings = [...check.findings].sort((a, b) => rank[a.severity] - rank[b.severity]);
  const showOnMap = (offset: number, length?: number) => {
    useApp.setState({ focus: { space: "file", offset, length } });
    setTab("Regions");
  };
  return (
    <aside className="findings" aria-label="Findings">
      <div className="panel-head">
        <h2>Findings</h2>
        <span className={check.ok ? "badge ok" : "badge bad"}>{check.ok ? "no errors" : "errors"}</span>
        <button type="button" aria-label="Close findings" onClick={() => setFindingsOpen(false)}>
          ✕
        </button>
      </div>
      {findings.length === 0 && <p className="muted">The checker found nothing to report.</p>}
      <ul>
        {findings.map((f, i) => (
          <li key={i} className={`finding ${f.severity}`}>
            <div>
              <span className={`sev ${f.severity}`}>{f.severity}</span> <code>{f.code}</code>
            </div>
            <div>{f.message}</div>
            <div className="muted">
              {f.structure}
              at {hex(f.offset)}
            </div>
            <div className="row-actions">
              <button
                type="button"
                onClick={() => showOnMap(f.offset, Math.max(1, f.length))}
                aria-label={`Show ${f.code} at ${hex(f.offset)} on the region map`}
              >
                Map
              </button>
              <button
                type="button"
                onClick={() => goTo("file", f.offset, f.length)}
                aria-label={`Show ${f.code} at ${hex(f.offset)} in the hex view`}
              >
                Hex
              </button>
            </div>
          </li>
        ))}
      </ul>
    </aside>
  );
}
