/** The hex view's line naming what owns the byte at the cursor: a file (and the byte's place in it) or a file-system structure. */
import { useEffect, useState } from "react";
import type { DiskOwner } from "../../worker/files/browse";
import { formatCount } from "../lib/format";
import { engineClient } from "../store/engineConnection";
import { useApp } from "../store/store";
import { useFiles } from "./filesStore";

function describe(o: DiskOwner): string {
  if (o.kind === "outside") return "outside every partition";
  const w = o.owner;
  switch (w.kind) {
    case "file":
      return `${o.label}: /${w.path}, byte ${formatCount(w.fileOffset)} of the file`;
    case "structure":
      return `${o.label}: ${w.structure}${w.path !== undefined ? ` (/${w.path})` : ""}`;
    case "free":
      return `${o.label}: free space`;
    default:
      return `${o.label}: no file system read here`;
  }
}

/** Always on screen (its height fixed), so the grid below never moves when an answer arrives. */
export function OwnerAtCursor({ offset, active }: { offset: number; active: boolean }) {
  const info = useApp((s) => s.info);
  const [text, setText] = useState<string | null>(null);
  const epoch = useFiles((s) => s.epoch);
  useEffect(() => {
    const client = engineClient();
    setText(null);
    if (!client || !info || !active) return;
    let live = true;
    // Wait for the cursor to settle: arrows held down move it many times a second.
    const t = setTimeout(() => {
      client.fsOwner(offset).then(
        (o) => live && setText(describe(o)),
        () => live && setText(null),
      );
    }, 120);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [offset, info, epoch, active]);
  return (
    <p className="hex-owner small" aria-label="Owner of the byte at the cursor">
      {text === null ? (
        "\u00a0"
      ) : (
        <>
          <span className="muted">At the cursor:</span> {text}
        </>
      )}
    </p>
  );
}
