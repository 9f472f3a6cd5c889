/** The hex view of a VHD: 512 bytes at an offset of the virtual disk or of the file, read by the worker. */
import { useEffect, useState } from "react";
import type { VhdInfo } from "../../vhd/info";
import { engineClient } from "../store/engineConnection";

const SPAN = 512;

export function VhdHexView({ info }: { info: VhdInfo }) {
  const [space, setSpace] = useState<"virtual" | "file">("virtual");
  const [text, setText] = useState("0");
  const [bytes, setBytes] = useState<Uint8Array | null>(null);
  const [error, setError] = useState<string | null>(null);
  const offset = Number(text);
  const size = space === "virtual" ? info.virtualSize : info.fileSize;
  const valid = Number.isSafeInteger(offset) && offset >= 0 && offset < size;
  useEffect(() => {
    if (!valid) return;
    let live = true;
    engineClient()
      ?.read(space, offset, Math.min(SPAN, size - offset))
      .then((b) => live && (setBytes(b), setError(null)))
      .catch((e: unknown) => live && setError(String(e instanceof Error ? e.message : e)));
    return () => {
      live = false;
    };
  }, [space, offset, size, valid]);
  const rows: string[] = [];
  if (bytes)
    for (let r = 0; r < bytes.length; r += 16) {
      const line = [...bytes.subarray(r, r + 16)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
      rows.push(`${(offset + r).toString(16).padStart(12, "0")}  ${line}`);
    }
  return (
    <div className="view">
      <label>
        Space{" "}
        <select aria-label="Space" value={space} onChange={(e) => setSpace(e.target.value as "virtual" | "file")}>
          <option value="virtual">virtual disk</option>
          <option value="file">file</option>
        </select>
      </label>{" "}
      <label>
        Offset <input aria-label="Offset" value={text} onChange={(e) => setText(e.target.value)} />
      </label>
      {!valid && <p role="alert">The offset must be a whole number below {size}.</p>}
      {error && <p role="alert">{error}</p>}
      <pre aria-label="Hex bytes" className="hex">
        {rows.join("\n")}
      </pre>
    </div>
  );
}
