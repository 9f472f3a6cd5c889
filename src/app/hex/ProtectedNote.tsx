/** The raw file view's legend for protected (shaded) bytes, and why the last typed edit was refused. */
import { hex } from "../lib/format";
import { protectedAt, type ProtectedRange } from "../lib/protectedRanges";
import { useApp } from "../store/store";

export function ProtectedNote({ ranges, cursor }: { ranges: readonly ProtectedRange[]; cursor: number }) {
  const refusal = useApp((s) => s.stageRefusal);
  const here = protectedAt(ranges, cursor);
  return (
    <section aria-labelledby="protected-h" className="protected-note">
      <h2 id="protected-h">
        <span className="prot-swatch" aria-hidden="true" /> Protected bytes
      </h2>
      <p className="muted small">
        Shaded bytes take no raw edits (the rule Commit applies): the file type identifier, the headers, the log, the
        payload blocks and free space. The region tables, the BAT and the metadata region can be edited here.
      </p>
      <p className="small" aria-label="Protection at the cursor">
        {here ? (
          <>
            <code>
              {hex(here.start)}–{hex(here.end)}
            </code>{" "}
            is protected: {here.reason}.
          </>
        ) : (
          "The byte at the cursor can be edited."
        )}
      </p>
      <p role="status" className="stage-refusal">
        {refusal ?? ""}
      </p>
    </section>
  );
}
