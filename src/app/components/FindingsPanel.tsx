/** The checker's findings beside the views; each links to the region map and the hex view. */
import { groupFindings } from "../lib/findingGroups";
import { hex } from "../lib/format";
import { useApp } from "../store/store";

export function FindingsPanel() {
  const { check, goTo, setTab, setFindingsOpen } = useApp();
  if (!check) return null;
  const groups = groupFindings(check.findings);
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
      {groups.length === 0 && <p className="muted">The checker found nothing to report.</p>}
      <ul>
        {groups.map((g, i) => (
          <li key={i} className={`finding ${g.severity}`}>
            <div>
              <span className={`sev ${g.severity}`}>{g.severity}</span> <code>{g.code}</code>
              {g.findings.length > 1 && <span className="muted"> × {g.findings.length}</span>}
            </div>
            {g.findings.map((f, j) => (
              <div key={j} className="finding-item">
                <div>{f.message}</div>
                <div className="muted">
                  {f.structure} at {hex(f.offset)}
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
              </div>
            ))}
          </li>
        ))}
      </ul>
    </aside>
  );
}
