/**
 * The data inspector beside the hex grid: the bytes at the cursor (staged edits included) as every
 * field of lib/dataInspector.ts; a value typed into a field and confirmed with Enter is staged at
 * the cursor as one undo step, through the store (so protected ranges refuse it as they refuse typing).
 */
import { useEffect, useState } from "react";
import { decodeField, encodeField, FIELDS, type FieldId } from "../lib/dataInspector";
import { overlay } from "../lib/editStage";
import type { ByteSpace } from "../store/engineApi";
import { useApp } from "../store/store";

const WINDOW = 16;

export function DataInspector({ space, cursor, size }: { space: ByteSpace; cursor: number; size: number }) {
  const info = useApp((s) => s.info);
  const stage = useApp((s) => s.stage);
  const read = useApp((s) => s.read);
  const stageEdit = useApp((s) => s.stageEdit);
  const [little, setLittle] = useState(true);
  const [base, setBase] = useState<{ space: ByteSpace; offset: number; bytes: Uint8Array } | null>(null);
  const [editing, setEditing] = useState<{ id: FieldId; text: string } | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    const length = Math.max(0, Math.min(WINDOW, size - cursor));
    read(space, cursor, length).then(
      (bytes) => live && setBase({ space, offset: cursor, bytes }),
      () => live && setBase(null),
    );
    return () => {
      live = false;
    };
  }, [space, cursor, size, info, read]);

  useEffect(() => {
    setEditing(null);
    setError(null);
  }, [space, cursor]);

  const current = base && base.space === space && base.offset === cursor ? base : null;
  const bytes = current ? overlay(stage, space, cursor, current.bytes).bytes : null;

  const commit = (id: FieldId, text: string) => {
    const r = encodeField(id, text, little);
    if (!r.ok) {
      setError(r.error);
      return;
    }
    if (cursor + r.bytes.length > size) {
      setError(`${r.bytes.length} bytes do not fit before the end`);
      return;
    }
    const refusal = stageEdit({ space, offset: cursor, data: r.bytes, kind: "paste" });
    if (refusal) {
      setError(refusal);
      return;
    }
    setError(null);
    setEditing(null);
  };

  return (
    <section aria-labelledby="inspector-h" className="inspector">
      <h2 id="inspector-h">Data inspector</h2>
      <div role="radiogroup" aria-label="Byte order" className="segmented small">
        {[true, false].map((le) => (
          <button
            key={String(le)}
            type="button"
            role="radio"
            aria-checked={little === le}
            onClick={() => setLittle(le)}
          >
            {le ? "Little-endian" : "Big-endian"}
          </button>
        ))}
      </div>
      <table className="inspector-table" aria-label="Values at the cursor">
        <tbody>
          {FIELDS.map((f) => {
            const value = bytes ? decodeField(f.id, bytes, little) : null;
            const isEditing = editing?.id === f.id;
            return (
              <tr key={f.id}>
                <th scope="row" title={f.endian ? undefined : "Byte order fixed by the format"}>
                  {f.label}
                </th>
                <td>
                  <input
                    aria-label={f.label}
                    className="mono"
                    spellCheck={false}
                    value={isEditing ? editing.text : (value ?? "")}
                    placeholder={value === null ? "—" : undefined}
                    onChange={(e) => setEditing({ id: f.id, text: e.target.value })}
                    onKeyDown={(e) => {
                      if (e.key === "Enter" && isEditing) {
                        e.preventDefault();
                        commit(f.id, editing.text);
                      } else if (e.key === "Escape") {
                        setEditing(null);
                        setError(null);
                      }
                    }}
                    onBlur={() => {
                      if (isEditing && !error) setEditing(null);
                    }}
                  />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p className={error ? "danger small" : "muted small"} role={error ? "alert" : undefined}>
        {error ?? "Type a value and press Enter to stage its bytes at the cursor."}
      </p>
    </section>
  );
}
