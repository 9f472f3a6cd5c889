/** The replay preview decoded: the BAT entries, header, region table and metadata fields a replay changes. */
import type { LogReport } from "../store/engineApi";

export function ReplayChangesList(props: { log: LogReport; label?: string }) {
  const { changes, batChangesNotListed } = props.log.changes;
  if (changes.length === 0) return <p className="muted">Nothing changes.</p>;
  return (
    <ul className="replay-changes" aria-label={props.label ?? "What the replay changes"}>
      {changes.map((c, i) => (
        <li key={i} className={`change-${c.kind.replace(" ", "-")}`}>
          {c.text}
        </li>
      ))}
      {batChangesNotListed > 0 && <li className="muted">{batChangesNotListed} more BAT entries change, not listed</li>}
    </ul>
  );
}
