/** File identifier and both headers side by side (§2.2.1, §2.2.2), current marked, differences highlighted. */
import type { ReactNode } from "react";
import { hex } from "../lib/format";
import type { HeaderInfo } from "../store/engineApi";
import { useApp } from "../store/store";

type Value = string | number | null;
type Field = { label: string; get: (h: HeaderInfo) => Value };

const checksum = (v: number | null) => (v === null ? null : "0x" + v.toString(16).padStart(8, "0"));
const hexOrNull = (v: number | null) => (v === null ? null : hex(v));

/** §2.2.2.1's fields in on-disk order, then the checksum the engine computed. */
const FIELDS: Field[] = [
  { label: "Signature", get: (h) => h.signature },
  { label: "Checksum (stored)", get: (h) => checksum(h.checksum) },
  { label: "Checksum (computed)", get: (h) => checksum(h.computedChecksum) },
  { label: "SequenceNumber", get: (h) => h.sequenceNumber },
  { label: "FileWriteGuid", get: (h) => h.fileWriteGuid },
  { label: "DataWriteGuid", get: (h) => h.dataWriteGuid },
  { label: "LogGuid", get: (h) => h.logGuid },
  { label: "LogVersion", get: (h) => h.logVersion },
  { label: "Version", get: (h) => h.version },
  { label: "LogLength", get: (h) => hexOrNull(h.logLength) },
  { label: "LogOffset", get: (h) => hexOrNull(h.logOffset) },
];

export function HeadersView() {
  const info = useApp((s) => s.info);
  const goTo = useApp((s) => s.goTo);
  if (!info) return null;
  const hs = info.headers;
  const title = (h: HeaderInfo, i: number): ReactNode => (
    <>
      Header {i + 1}
      <span className="muted"> at {hex(h.fileOffset)}</span>
      {h.current && <span className="badge current">current</span>}
      {!h.valid && <span className="badge bad">invalid</span>}
    </>
  );
  return (
    <div className="view headers">
      <section aria-labelledby="fid-h">
        <h2 id="fid-h">File type identifier</h2>
        <dl className="kv">
          <dt>Signature</dt>
          <dd>
            <code>vhdxfile</code> <span className="muted">(checked when the image opened, §2.2.1)</span>
          </dd>
          <dt>Creator</dt>
          <dd>{info.creator || <span className="muted">(empty)</span>}</dd>
        </dl>
      </section>
      <section aria-labelledby="hdr-h">
        <h2 id="hdr-h">Headers</h2>
        <table className="data compare" aria-label="Both headers">
          <thead>
            <tr>
              <th scope="col">Field</th>
              {hs.map((h, i) => (
                <th scope="col" key={i} className={h.current ? "current" : undefined}>
                  {title(h, i)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {FIELDS.map((f) => {
              const vals = hs.map((h) => f.get(h));
              const differs = vals.length === 2 && vals[0] !== vals[1];
              return (
                <tr key={f.label} className={differs ? "differs" : undefined}>
                  <th scope="row">
                    {f.label}
                    {differs && <span className="visually-hidden"> (differs)</span>}
                  </th>
                  {hs.map((h, i) => {
                    const v = vals[i];
                    const badSum =
                      f.label === "Checksum (stored)" && h.checksum !== null && h.checksum !== h.computedChecksum;
                    return (
                      <td key={i} className={[h.current ? "current" : "", badSum ? "bad" : ""].join(" ")}>
                        <code>{v === null ? "—" : String(v)}</code>
                      </td>
                    );
                  })}
                </tr>
              );
            })}
            <tr>
              <th scope="row">Problems</th>
              {hs.map((h, i) => (
                <td key={i}>{h.problems.length ? h.problems.join("; ") : h.valid ? "none" : "invalid"}</td>
              ))}
            </tr>
          </tbody>
        </table>
        <div className="row-actions">
          {hs.map((h, i) => (
            <button key={i} type="button" onClick={() => goTo("file", h.fileOffset, 4096)}>
              Header {i + 1} in hex
            </button>
          ))}
        </div>
      </section>
      {info.warnings && info.warnings.length > 0 && (
        <section aria-labelledby="warn-h">
          <h2 id="warn-h">Warnings</h2>
          <ul>
            {info.warnings.map((w, i) => (
              <li key={i}>
                <code>{w.code}</code> {w.message}{" "}
                <span className="muted">
                  ({w.structure}
                  {w.offset !== undefined ? ` at ${hex(w.offset)}` : ""})
                </span>
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
