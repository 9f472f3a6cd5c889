/** The log as the ring it is (§2.3): entries as arcs by position and length, the active sequence's tail and head marked. */
import type { LogReport } from "../store/engineApi";
import { plural } from "../lib/format";

const R = 80;
const C = 100;
const MIN_ARC = 0.012;

function point(frac: number, r = R): [number, number] {
  const a = frac * 2 * Math.PI - Math.PI / 2;
  return [C + r * Math.cos(a), C + r * Math.sin(a)];
}

function arc(from: number, to: number): string {
  const [x1, y1] = point(from);
  const [x2, y2] = point(to);
  const large = to - from > 0.5 ? 1 : 0;
  return `M ${x1} ${y1} A ${R} ${R} 0 ${large} 1 ${x2} ${y2}`;
}

export function LogRing({ log, selected }: { log: LogReport; selected: number | null }) {
  const len = log.logLength || 1;
  const marker = (pos: number, label: string, cls: string, nudge: number) => {
    const [x1, y1] = point(pos / len, R - 14);
    const [x2, y2] = point(pos / len, R + 14);
    // Tail and head often sit a few KiB apart: their labels are pushed to either side.
    const [tx, ty] = point(pos / len + nudge, R + 26);
    return (
      <g className={cls}>
        <line x1={x1} y1={y1} x2={x2} y2={y2} />
        <text x={tx} y={ty} textAnchor="middle" dominantBaseline="middle">
          {label}
        </text>
      </g>
    );
  };
  return (
    <svg
      className="log-ring"
      viewBox="-10 -10 220 220"
      role="img"
      aria-label={`Log ring of ${len} bytes with ${plural(log.entries.length, "entry", "entries")}${log.active ? `, active sequence from tail ${log.active.tail} to head ${log.active.head}` : ""}`}
    >
      <circle cx={C} cy={C} r={R} className="ring-track" />
      {log.entries.map((e, i) => {
        const from = e.position / len;
        // A 4 KiB entry in a large ring is still drawn wide enough to see and click.
        const to = (e.position + Math.max(e.entryLength, len * MIN_ARC)) / len;
        const cls = [
          "ring-entry",
          e.active ? "active" : e.valid ? "valid" : e.stale ? "stale" : "invalid",
          selected === i ? "selected" : "",
        ].join(" ");
        // An entry that wraps past the end of the ring is drawn in two pieces.
        return to <= 1 ? (
          <path key={i} d={arc(from, Math.min(to, from + 0.9999))} className={cls} />
        ) : (
          <g key={i}>
            <path d={arc(from, 0.99999)} className={cls} />
            <path d={arc(0, to - 1)} className={cls} />
          </g>
        );
      })}
      {log.active && marker(log.active.tail, "tail", "ring-tail", -0.04)}
      {log.active && marker(log.active.head, "head", "ring-head", 0.04)}
      <text x={C} y={C - 6} textAnchor="middle" className="ring-label">
        {plural(log.entries.length, "entry", "entries")}
      </text>
      <text x={C} y={C + 12} textAnchor="middle" className="ring-label muted">
        {log.needsReplay ? "needs replay" : "clean"}
      </text>
    </svg>
  );
}
