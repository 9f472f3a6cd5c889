/**
 * "Check": the checker's findings (severity, code, message, where), each linked to the region map
 * and the hex view; "Repair": the safe repairs that will run and the file ranges each writes,
 * then the repairs as one commit, and the checker's verdict on the result.
 */
import { createColumnHelper } from "@tanstack/react-table";
import { Dialog } from "../components/Dialog";
import { columnList, DataTable } from "../components/DataTable";
import { formatSize, hex } from "../lib/format";
import type { Finding } from "../store/engineApi";
import { useApp } from "../store/store";
import { useCheck, type RepairPlan } from "./checkStore";
import { ProgressLine } from "./ProgressLine";

const RANK = { error: 0, warning: 1, info: 2 } as const;

function showOnMap(offset: number, length: number): void {
  useApp.setState({ focus: { space: "file", offset, length: Math.max(1, length) } });
  useApp.getState().setTab("Regions");
  useCheck.getState().hide();
}

function showInHex(offset: number, length: number): void {
  useApp.getState().goTo("file", offset, length);
  useCheck.getState().hide();
}

const ch = createColumnHelper<Finding>();
const findingColumns = columnList(
  ch,
  ch.accessor("severity", {
    header: "Severity",
    cell: (c) => <span className={`sev ${c.getValue()}`}>{c.getValue()}</span>,
    sortingFn: (a, b) => RANK[a.original.severity] - RANK[b.original.severity],
  }),
  ch.accessor("code", { header: "Code", cell: (c) => <code>{c.getValue()}</code> }),
  ch.accessor("message", { header: "Message" }),
  ch.accessor("offset", {
    header: "Where",
    cell: (c) => (
      <span>
        {c.row.original.structure} <code className="nowrap">{hex(c.getValue())}</code>
      </span>
    ),
  }),
  ch.display({
    id: "go",
    header: "Show",
    cell: (c) => {
      const f = c.row.original;
      return (
        <span className="row-actions nowrap">
          <button
            type="button"
            onClick={() => showOnMap(f.offset, f.length)}
            aria-label={`Show ${f.code} at ${hex(f.offset)} on the region map`}
          >
            Map
          </button>
          <button
            type="button"
            onClick={() => showInHex(f.offset, f.length)}
            aria-label={`Show ${f.code} at ${hex(f.offset)} in the hex view`}
          >
            Hex
          </button>
        </span>
      );
    },
  }),
);

function Summary({ findings }: { findings: Finding[] }) {
  const n = (s: Finding["severity"]) => findings.filter((f) => f.severity === s).length;
  const errors = n("error");
  return (
    <p role="status" className="check-summary">
      <span className={errors ? "badge bad" : "badge ok"}>{errors ? "damaged" : "no errors"}</span> {errors} error
      {errors === 1 ? "" : "s"}, {n("warning")} warning{n("warning") === 1 ? "" : "s"}, {n("info")} note
      {n("info") === 1 ? "" : "s"}
    </p>
  );
}

function FindingsTable({ findings }: { findings: Finding[] }) {
  const sorted = [...findings].sort((a, b) => RANK[a.severity] - RANK[b.severity]);
  return (
    <div className="check-table">
      <DataTable
        label="Check findings"
        data={sorted}
        columns={findingColumns}
        empty="The checker found nothing to report."
      />
    </div>
  );
}

/** Each repair that will run, with every file range it writes. */
function PlanList({ plan }: { plan: RepairPlan }) {
  return (
    <div className="repair-plan">
      {plan.actions.length === 0 ? (
        <p>No safe repair applies to this file.</p>
      ) : (
        <ol aria-label="Repairs to run">
          {plan.actions.map((a, i) => (
            <li key={i}>
              <div>
                <code>{a.code}</code> {a.description}
              </div>
              <table className="data compact" aria-label={`What ${a.code} writes`}>
                <thead>
                  <tr>
                    <th>Writes</th>
                    <th>File offset</th>
                    <th>Length</th>
                  </tr>
                </thead>
                <tbody>
                  {a.writes.map((w, j) => (
                    <tr key={j}>
                      <td>{w.what}</td>
                      <td>
                        <code>{hex(w.offset)}</code>
                      </td>
                      <td>{formatSize(w.length)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </li>
          ))}
        </ol>
      )}
      {plan.skipped.length > 0 && (
        <>
          <h3>Left alone</h3>
          <ul className="skipped">
            {plan.skipped.map((s, i) => (
              <li key={i}>{s}</li>
            ))}
          </ul>
        </>
      )}
      {plan.blocked && (
        <div role="alert" className="danger blocked">
          <span>Repairs need the file open for writing; it is open read-only: {plan.blocked}.</span>
          <button type="button" onClick={() => void useCheck.getState().reopenWritable()}>
            Open for writing
          </button>
        </div>
      )}
    </div>
  );
}

export function CheckDialog() {
  const { open, state, hide, runCheck, planRepair, runRepair, cancel } = useCheck();
  const close = state.phase === "checking" || state.phase === "repairing" ? cancel : hide;
  return (
    <Dialog title="Check and repair" open={open} onClose={close}>
      <div className="dialog-body wide">
        {state.phase === "checking" && (
          <ProgressLine label="Check progress" progress={state.progress} idle="Checking…" />
        )}
        {(state.phase === "checked" || state.phase === "planning" || state.phase === "plan") && (
          <>
            <Summary findings={state.report.findings} />
            {state.phase !== "plan" && <FindingsTable findings={state.report.findings} />}
            {state.phase === "planning" && <p role="status">Working out the safe repairs…</p>}
            {state.phase === "plan" && <PlanList plan={state.plan} />}
          </>
        )}
        {state.phase === "repairing" && (
          <ProgressLine label="Repair progress" progress={state.progress} idle="Repairing…" />
        )}
        {state.phase === "repaired" && (
          <>
            <p role="status">
              {state.result.actions.length} repair{state.result.actions.length === 1 ? "" : "s"} done
              {state.result.atomic ? ", written as one commit" : ""}. The checker now reports:
            </p>
            <ul aria-label="Repairs done">
              {state.result.actions.map((a, i) => (
                <li key={i}>
                  <code>{a.code}</code> {a.description}
                </li>
              ))}
            </ul>
            <Summary findings={state.result.after.findings} />
            <FindingsTable findings={state.result.after.findings} />
          </>
        )}
        {state.phase === "error" && (
          <p role="alert" className="danger">
            {state.message}
          </p>
        )}
      </div>
      <div className="dialog-actions">
        {(state.phase === "checking" || state.phase === "repairing") && (
          <button type="button" onClick={cancel}>
            Cancel
          </button>
        )}
        {(state.phase === "checked" || state.phase === "repaired" || state.phase === "error") && (
          <button type="button" onClick={() => void runCheck()}>
            Check again
          </button>
        )}
        {state.phase === "checked" && (
          <button type="button" onClick={() => void planRepair()}>
            Repair…
          </button>
        )}
        {state.phase === "plan" && (
          <>
            <button type="button" onClick={() => void runCheck()}>
              Back to findings
            </button>
            <button
              type="button"
              className="primary"
              onClick={() => void runRepair()}
              disabled={state.plan.actions.length === 0 || !!state.plan.blocked}
            >
              Run {state.plan.actions.length} repair{state.plan.actions.length === 1 ? "" : "s"}
            </button>
          </>
        )}
        {state.phase !== "checking" && state.phase !== "repairing" && (
          <button type="button" className={state.phase === "plan" ? undefined : "primary"} onClick={hide}>
            Close
          </button>
        )}
      </div>
    </Dialog>
  );
}
